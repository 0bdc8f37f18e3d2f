"""An annotator crawls everything they can reach and never learns who made a clip.

Signed in as an annotator of the demo campaign (rated by the others, judged once), the
crawl starts at home and the queue, follows every same-site link, GET form and media
URL of each HTML page (the rating page's players, its preloaded next clip and its JSON
config), calls every annotator API endpoint, and rates one clip through the page and
one through the API so that the pages after a rating are crawled too. No body, header
or URL may carry a team's identity, a submission's file or folder names, or the judge.
Every team's clips are imported with the team's name in every tag an MP4 can hold; each
video and poster served is also opened with PyAV, and may carry no tag but our muxer's.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import shutil
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit

import av
import pandas as pd
import pytest
from django.test import Client
from django.urls import reverse
from django.utils.text import slugify

from annotate.models import Assignment, Clip, Rating, Submission, Team
from evaluation.models import Verdict
from tests.security.conftest import World
from tests.videos import tag_video

pytestmark = pytest.mark.django_db(transaction=True)

# Pages an annotator could reach but that must not be fetched by the crawl itself.
NOT_FOLLOWED = ("/static/", "/accounts/logout/")
# Words that name the judge's output; none belongs on an annotator's screen or API.
JUDGE_WORDS = re.compile(rb"verdict|judge|expected_score", re.IGNORECASE)
# Team ids are small ints: look for them where they would be named, not for bare digits.
TEAM_ID_IN_URL = re.compile(r"team_id=|team=|/teams?/\d+|/leaderboard/\d+/")
WATCHED = {"watched_reference": 1, "watched_generated": 1}
# A time no page shows otherwise: found anywhere, another rater's mark was shown.
OTHER_RATERS_MARK = {"t": 1.097, "label": "object_vanished"}
EPISODE_FILE = re.compile(rb"(?:concat_)?episode_\d+(?:\.mp4)?|task\d+/episode")
# The only tags a served file may hold: what our MP4 muxer writes, with these values.
SERVED_TAGS = {
    "major_brand": None,
    "minor_version": None,
    "compatible_brands": None,
    "encoder": re.compile(r"Lavf[\d.]+"),
    "language": re.compile(r"und"),
    "handler_name": re.compile(r"VideoHandler"),
    "vendor_id": None,
}


@pytest.fixture(scope="module")
def demo_footage(demo_footage, tmp_path_factory):
    """The demo footage, each team's clips with the team's name in every tag."""
    root = tmp_path_factory.mktemp("tagged") / "footage"
    shutil.copytree(demo_footage.root, root)
    for team, entry in demo_footage.truth["teams"].items():
        for key in entry["clips"]:
            tag_video(root / "submissions" / team / "test" / f"{key}.mp4", team)
    return dataclasses.replace(
        demo_footage,
        root=root,
        reference_dir=root / "reference",
        submissions_dir=root / "submissions",
    )


@dataclass(frozen=True)
class Marker:
    """A forbidden string and what it would give away."""

    text: bytes
    what: str


@dataclass
class Crawl:
    client: Client
    markers: list[Marker]
    leaks: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    media: set[str] = field(default_factory=set)
    media_opened: int = 0

    def leak(self, url: str, what: str) -> None:
        self.leaks.append(f"{url}: {what}")

    def check(self, url: str, response, *, method: str = "GET") -> None:
        """Look at the URL, every header and the body of one response."""
        label = f"{method} {url} -> {response.status_code}"
        assert response.status_code < 500, label
        self.check_url(label, url)
        for name, value in response.items():
            self.check_bytes(f"{label} [header {name}]", f"{name}: {value}".encode())
        body = b"".join(response.streaming_content) if response.streaming else response.content
        self.check_bytes(f"{label} [body]", body, media=url.startswith("/m/"))
        if url.startswith("/m/") and response.status_code == 200:
            self.check_media_tags(label, body)
        if response.get("Content-Type", "").startswith("application/json") and body:
            for key in _json_keys(json.loads(body)):
                if "team" in key.lower() or JUDGE_WORDS.search(key.encode()):
                    self.leak(label, f"JSON key {key!r}")
        return body

    def check_url(self, label: str, url: str) -> None:
        if TEAM_ID_IN_URL.search(url):
            self.leak(label, f"a team id in the URL {url}")
        self.check_bytes(f"{label} [url]", url.encode())

    def check_bytes(self, label: str, data: bytes, *, media: bool = False) -> None:
        lowered = data.lower()
        for marker in self.markers:
            if marker.text in lowered:
                self.leak(label, f"{marker.what} ({marker.text.decode()!r})")
        if media:
            return  # compressed video bytes: only the literal names above are meaningful
        if found := EPISODE_FILE.search(data):
            self.leak(label, f"a submission file name ({found.group().decode()!r})")
        if found := JUDGE_WORDS.search(data):
            self.leak(label, f"judge output ({found.group().decode()!r})")

    def check_media_tags(self, label: str, data: bytes) -> None:
        """Open a served video or poster with PyAV: no track or tag beyond our muxer's."""
        try:
            container = av.open(io.BytesIO(data))
        except av.error.FFmpegError as exc:
            self.leak(label, f"served media that does not open ({exc})")
            return
        with container:
            if len(container.streams) != 1:
                self.leak(label, f"{len(container.streams)} tracks")
            tags = [dict(container.metadata)] + [dict(s.metadata) for s in container.streams]
        self.media_opened += 1
        for found in tags:
            for key, value in found.items():
                if key not in SERVED_TAGS or (
                    SERVED_TAGS[key] is not None and not SERVED_TAGS[key].fullmatch(value)
                ):
                    self.leak(label, f"an upload's tag {key}={value!r}")
                self.check_bytes(f"{label} [tag {key}]", str(value).encode(), media=True)

    def get(self, url: str) -> None:
        """Fetch a page, follow what it links to, recursively, once each."""
        if url in self.seen or url.startswith(NOT_FOLLOWED):
            return
        self.seen.add(url)
        response = self.client.get(url)
        body = self.check(url, response)
        if response.status_code in (301, 302, 303):
            self.get(_local(url, response["Location"]))
        elif response.get("Content-Type", "").startswith("text/html"):
            self.follow(url, body.decode())

    def follow(self, url: str, html: str) -> None:
        page = _Links()
        page.feed(html)
        for found in page.links + _config_media(html):
            target = _local(url, found)
            if target is None:
                continue
            self.check_url(f"link on {url}", target)
            if target.startswith("/m/"):
                self.media.add(target)
            self.get(target)

    def post(self, url: str, data: dict, **options) -> None:
        response = self.client.post(url, data, **options)
        self.check(url, response, method="POST")
        if response.status_code in (301, 302, 303):
            self.get(_local(url, response["Location"]))


class _Links(HTMLParser):
    """Same-page references a browser would load or a user could follow with GET."""

    ATTRS = {"href", "src", "poster"}

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            if (attrs.get("method") or "get").lower() == "get":
                self.links.append(attrs.get("action") or "")
            return
        self.links.extend(value for name, value in attrs.items() if name in self.ATTRS and value)


def _config_media(html: str) -> list[str]:
    """Media URLs in the rating page's JSON config (what the player loads)."""
    match = re.search(r'<script id="rate-config" type="application/json">(.*?)</script>', html)
    if not match:
        return []
    config = json.loads(match.group(1))
    return [value for value in _json_values(config) if isinstance(value, str) and value[:1] == "/"]


def _json_keys(data) -> list[str]:
    if isinstance(data, dict):
        return [*data, *(key for value in data.values() for key in _json_keys(value))]
    if isinstance(data, list):
        return [key for value in data for key in _json_keys(value)]
    return []


def _json_values(data) -> list:
    if isinstance(data, dict):
        return [value for item in data.values() for value in _json_values(item)]
    if isinstance(data, list):
        return [value for item in data for value in _json_values(item)]
    return [data]


def _local(base: str, href: str) -> str | None:
    """The same-site path (and query) of a link, or None for another site or a fragment."""
    if not href or href.startswith(("#", "javascript:", "mailto:", "data:")):
        return None
    parts = urlsplit(urljoin("http://testserver" + base, href))
    if parts.netloc != "testserver":
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def forbidden_markers(world: World) -> list[Marker]:
    """Everything that would tell an annotator whose clip it is, or what the judge thinks."""
    markers = []
    for team in Team.objects.filter(campaign=world.campaign):
        markers.append(Marker(team.name.lower().encode(), f"team name of {team.name}"))
        markers.append(Marker(slugify(team.name).encode(), f"team slug of {team.name}"))
    for submission in Submission.objects.filter(team__campaign=world.campaign):
        for part in PurePosixPath(submission.source).parts[-2:]:
            if len(part) > 3:
                markers.append(Marker(part.lower().encode(), "a submission folder name"))
    for clip in Clip.objects.filter(episode__task__campaign=world.campaign).select_related("asset"):
        name = PurePosixPath(clip.source_name).name
        markers.append(Marker(name.lower().encode(), f"a clip's file name in its upload ({name})"))
        markers.append(Marker(clip.asset.original.lower().encode(), "a clip's stored path"))
    markers.append(Marker(world.run.judge.version.lower().encode(), "the judge's version"))
    for verdict in Verdict.objects.filter(run=world.run):
        # A value with some decimals is recognisable; a bare "2" would be noise.
        if verdict.expected_score is not None and len(f"{verdict.expected_score:.4g}") > 4:
            markers.append(
                Marker(f"{verdict.expected_score:.4g}".encode(), "a judge expected score")
            )
    unique = {marker.text: marker for marker in reversed(markers) if marker.text}
    return list(unique.values())


def _form_fields(html: str, action: str) -> dict:
    """The hidden inputs of the form posting to `action` (its CSRF token, its keys)."""
    form = re.search(rf'<form[^>]*action="{re.escape(action)}".*?</form>', html, re.DOTALL)
    assert form, f"no form posting to {action}"
    return dict(
        re.findall(r'<input type="hidden" name="([^"]+)"[^>]*value="([^"]*)"', form.group())
    )


def test_an_annotator_never_learns_who_made_a_clip(world):
    annotator = world.users["annotator"]
    client = Client()
    client.force_login(annotator)
    # Every other rater marked a break point; an annotator sees their own marks only.
    others = Rating.objects.filter(clip__episode__task__campaign=world.campaign).exclude(
        annotator=annotator
    )
    assert others.update(marks=[OTHER_RATERS_MARK]) > 0
    marker = Marker(f"{OTHER_RATERS_MARK['t']:.3f}".encode(), "another rater's break-point mark")
    crawl = Crawl(client=client, markers=[*forbidden_markers(world), marker])

    crawl.get(reverse("home"))
    crawl.get(reverse("queue"))
    crawl.post(reverse("rate-next"), {"campaign": world.campaign.slug})

    # The annotator API, every endpoint.
    crawl.get(reverse("api-my-queue"))
    crawl.get(reverse("api-my-ratings"))
    response = client.post(reverse("api-my-next"), {}, content_type="application/json")
    crawl.check(reverse("api-my-next"), response, method="POST")
    for url in _json_values(response.json()):
        if isinstance(url, str) and url.startswith("/m/"):
            crawl.media.add(url)
            crawl.get(url)
    pending = list(
        Assignment.objects.filter(annotator=annotator, status__in=["pending", "in_progress"])
    )
    assert len(pending) >= 2, "the demo leaves the annotator at least two clips to rate"
    first, second = pending[0], pending[1]
    rating_api = reverse("api-my-rating", args=[first.pk])
    crawl.check(rating_api, client.get(rating_api))  # not a read endpoint: still blind
    crawl.check(
        rating_api,
        client.post(
            rating_api,
            {"score": 1, "final_state": False, "motion": True, **WATCHED},
            content_type="application/json",
        ),
        method="POST",
    )

    # Rate one clip through its page, then crawl where that leads.
    page = reverse("rate", args=[second.pk])
    html = client.get(page).content.decode()
    action = reverse("rate-submit", args=[second.pk])
    rated = {"score": 2, "final_state": "true", "clean": "false"}
    form = _form_fields(html, action) | rated | WATCHED
    # As the page's script sends it: the next clip's data, to show it without a page load.
    swap = client.post(action, form, HTTP_ACCEPT="application/json")
    crawl.check(action, swap, method="POST")
    assert "page" in swap.json(), "the next clip came with the answer"
    for url in _json_values(swap.json()):
        if isinstance(url, str) and url.startswith("/m/"):
            crawl.media.add(url)
        if isinstance(url, str) and url.startswith(("/m/", "/rate/")):
            crawl.get(url)
    crawl.post(action, form)  # the same form again, as a page: stored once, then redirected
    for url in (reverse("queue"), reverse("api-my-ratings"), page):  # now with ratings on them
        crawl.seen.discard(url)
        crawl.get(url)

    # The teams' pages and API turn an annotator in no team away, and say nothing of teams.
    slug = world.campaign.slug
    for name in ("team-portal", "team-results", "public-leaderboard"):
        url = reverse(name, args=[slug])
        response = client.get(url)
        assert response.status_code in (403, 404), url
        crawl.check(url, response)
    for name in ("api-team-submissions", "api-team-results"):
        url = reverse(name, args=[slug])
        response = client.get(url)
        assert response.status_code == 403, url
        crawl.check(url, response)

    saved = set(Rating.objects.filter(annotator=annotator).values_list("assignment_id", flat=True))
    assert {first.pk, second.pk} <= saved, "both ratings were saved"
    assert len(crawl.media) >= 4, f"the crawl reached too little media: {sorted(crawl.media)}"
    assert crawl.media_opened >= 4, "served media were opened and their tags read"
    assert any(url.startswith("/rate/") for url in crawl.seen), sorted(crawl.seen)
    assert not crawl.leaks, f"{len(crawl.leaks)} leaks in {len(crawl.seen)} URLs:\n" + "\n".join(
        crawl.leaks
    )


def _runs(labels: list[str]) -> int:
    """Maximal stretches of one label: [a, a, b, a] has 3."""
    return sum(1 for i, label in enumerate(labels) if i == 0 or label != labels[i - 1])


def _expected_runs(labels: list[str]) -> float:
    """The mean number of runs when the labels come in a random order."""
    n = len(labels)
    return 1 + n - sum(count * count for count in Counter(labels).values()) / n


def test_assignment_ids_carry_no_team_order(demo_campaign):
    """Annotators see assignment ids (/rate/<id>/, forms, the API): sorted, they tell no team.

    A planned campaign's rows are created one team after another. Were ids counted, the
    clips sorted by id would come in one run (stretch of one team) per team, campaign-wide
    and in each annotator's own queue, and id and team order would be almost perfectly
    correlated (Spearman 0.94 here). With ids drawn at random the runs are as many as
    chance gives and the correlation is near 0; each bound below lies about 5 standard
    deviations from chance (by simulation: fewer than 1 in 100,000 runs would fail).
    """
    rows = list(
        Assignment.objects.filter(campaign=demo_campaign)
        .order_by("pk")
        .values_list("pk", "annotator_id", "clip__submission__team__name")
    )
    teams = [team for _, _, team in rows]
    assert len(Counter(teams)) >= 3 and len(rows) >= 40, "a campaign big enough to tell"
    # Here 42 rows: counted ids give 3 runs, random ones about 29 (sd 3).
    assert _runs(teams) > _expected_runs(teams) / 2, teams

    # Each annotator's own clips, sorted by id: runs beyond one per team. Counted ids give
    # none at all; random ones about 2 per annotator (14 here, sd 2.4).
    by_annotator: dict[int, list[str]] = defaultdict(list)
    for _, annotator, team in rows:
        by_annotator[annotator].append(team)
    extra = sum(_runs(own) - len(set(own)) for own in by_annotator.values())
    expected = sum(_expected_runs(own) - len(set(own)) for own in by_annotator.values())
    assert extra > expected / 5, by_annotator

    team_index = {name: i for i, name in enumerate(sorted(set(teams)))}
    ids = pd.Series([pk for pk, _, _ in rows], dtype="float64")
    rho = ids.corr(pd.Series([team_index[team] for team in teams]), method="spearman")
    assert abs(rho) < 0.75, rho  # sd about 0.16 at random
