"""Locust users for bench/bench_load.py: annotators rating clips, and a trivial baseline.

Run by bench_load.py (headless, loopback). The annotators log in first and wait for
each other; the statistics are reset when the last one is in, so the figures cover
the rating loop only (password hashing is slow on purpose and is reported apart).
Results go to the JSON file named by BENCH_LOAD_OUT when the run stops.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from http.cookiejar import DefaultCookiePolicy
from itertools import count

import gevent
from gevent.event import Event
from locust import HttpUser, between, events, task

USERS = int(os.environ.get("BENCH_LOAD_USERS", "100"))
MEASURE_S = float(os.environ.get("BENCH_LOAD_MEASURE_S", "45"))
PASSWORD = os.environ.get("BENCH_LOAD_PASSWORD", "refscore-demo")
# Clients (browser tabs, devices) per annotator account: users 1 and 2 are annotator1, ...
CLIENTS_PER_ANNOTATOR = int(os.environ.get("BENCH_LOAD_CLIENTS", "1"))
# Think time between two rating loops (seconds, uniform); one loop is 7 requests.
WAIT_MIN, WAIT_MAX = (float(x) for x in os.environ.get("BENCH_LOAD_WAIT", "10,30").split(","))
REQUESTS_PER_LOOP = 7
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
MEDIA_URL = re.compile(r"/m/[0-9a-f-]{36}/video")
RATE_URL = re.compile(r"/rate/(\d+)/")

_usernames = count(1)
_logged_in = count(1)
_all_in = Event()
_login_figures: dict = {}
_measure_started: list[float] = []


def _send_secure_cookies_over_loopback(self, cookie, request) -> bool:
    return True


# DEBUG=false marks the session and CSRF cookies Secure; a TLS proxy would stand in
# front in production. Here, over loopback HTTP, send them anyway (requests builds a
# fresh cookie jar per request, so a per-session policy would not be used).
DefaultCookiePolicy.return_ok_secure = _send_secure_cookies_over_loopback


def _stagger() -> None:
    """Start the users' loops spread over one think time, not all in the same instant."""
    gevent.sleep(random.uniform(0, WAIT_MAX))


def _figures(entry) -> dict:
    return {
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "p50_ms": entry.get_response_time_percentile(0.50),
        "p95_ms": entry.get_response_time_percentile(0.95),
        "p99_ms": entry.get_response_time_percentile(0.99),
        "max_ms": entry.max_response_time,
    }


def _start_measuring(environment) -> None:
    stats = environment.runner.stats
    login = stats.get("/accounts/login/ [POST]", "POST")
    _login_figures.update(_figures(login))
    stats.reset_all()
    _measure_started.append(time.time())

    def stop_later() -> None:
        gevent.sleep(MEASURE_S)
        environment.runner.quit()

    gevent.spawn(stop_later)


@events.quitting.add_listener
def _write_results(environment, **kwargs) -> None:
    out = os.environ.get("BENCH_LOAD_OUT")
    if not out:
        return
    stats = environment.runner.stats
    started = _measure_started[0] if _measure_started else stats.total.start_time
    elapsed = max(time.time() - started, 1e-9)
    total = _figures(stats.total)
    total["rps"] = stats.total.num_requests / elapsed
    total["seconds"] = elapsed
    result = {
        "total": total,
        "entries": {f"{e.method} {e.name}": _figures(e) for e in stats.entries.values()},
        "errors": [
            {"name": f"{e.method} {e.name}", "error": str(e.error), "count": e.occurrences}
            for e in stats.errors.values()
        ],
        "login": _login_figures,
    }
    with open(out, "w") as handle:
        json.dump(result, handle, indent=2)


def _wait_for_everyone(environment) -> None:
    """Block until all users are in; the last one to arrive starts the measurement."""
    if next(_logged_in) == USERS:
        _start_measuring(environment)
        _all_in.set()
    _all_in.wait()
    _stagger()


class AnnotatorUser(HttpUser):
    """Log in, then: queue page, next rating page (POST, then its redirect), Range requests on both videos, rate."""

    wait_time = between(WAIT_MIN, WAIT_MAX)

    def on_start(self) -> None:
        self.username = f"annotator{(next(_usernames) - 1) // CLIENTS_PER_ANNOTATOR + 1}"
        page = self.client.get("/accounts/login/", name="/accounts/login/ [GET]")
        token = CSRF_FIELD.search(page.text).group(1)
        self.client.post(
            "/accounts/login/",
            data={"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            name="/accounts/login/ [POST]",
        )
        self.last_rated: int | None = None
        _wait_for_everyone(self.environment)

    @task
    def rate_one(self) -> None:
        queue = self.client.get("/queue/", name="/queue/")
        token = CSRF_FIELD.search(queue.text)
        page = self.client.post(
            "/rate/next",
            data={"campaign": "demo", "csrfmiddlewaretoken": token.group(1) if token else ""},
            name="/rate/next -> /rate/<id>/",
        )
        found = RATE_URL.search(page.url or "")
        if found is None:  # queue done: revise the last rating instead
            if self.last_rated is not None:
                self._rate(self.last_rated, method="PUT")
            return
        assignment = int(found.group(1))
        videos = list(dict.fromkeys(MEDIA_URL.findall(page.text)))[:2]
        for video in videos:  # the current pair comes first; then the preloaded next pair
            first = self.client.get(
                video, headers={"Range": "bytes=0-65535"}, name="/m/<token>/video [first bytes]"
            )
            size = int(first.headers.get("Content-Range", "/0").rsplit("/", 1)[-1] or 0)
            middle = size // 2
            last = min(middle + 65535, size - 1)
            self.client.get(
                video,
                headers={"Range": f"bytes={middle}-{last}"},
                name="/m/<token>/video [middle]",
            )
        self._rate(assignment, method="POST")
        self.last_rated = assignment

    def _rate(self, assignment: int, *, method: str) -> None:
        body = {
            "score": 2,
            "final_state": True,
            "clean": False,
            "comment": "load test",
            "time_on_page_s": 30,
            "watched_reference": 1.0,
            "watched_generated": 1.0,
        }
        self.client.request(
            method,
            f"/api/me/assignments/{assignment}/rating/",
            json=body,
            headers={"X-CSRFToken": self.client.cookies.get("csrftoken", "")},
            name=f"/api/me/assignments/<id>/rating/ [{method}]",
        )


class BaselineUser(HttpUser):
    """The trivial view: the login page, anonymous GET (a form and a CSRF cookie).

    As many requests per loop as the annotators make, so the offered rate is the same.
    """

    wait_time = between(WAIT_MIN, WAIT_MAX)

    def on_start(self) -> None:
        _wait_for_everyone(self.environment)

    @task
    def login_page(self) -> None:
        for _ in range(REQUESTS_PER_LOOP):
            self.client.get("/accounts/login/", name="/accounts/login/ [GET]")
