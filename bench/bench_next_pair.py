"""Next-pair benchmark: from Enter on the rating page to the first frame of both next videos.

Builds the small demo campaign (2 tasks x 3 episodes x 3 teams) in a throw-away SQLite
file, serves it from this process (Django's threaded WSGI server, static files included,
DEBUG off) and drives Debian's Chromium with Playwright, as the browser tests do. Two
annotators, each with every clip in their queue, rate clips one after the other with
the keyboard (a score, then Enter), alternating so that both paths see the same machine:

- swap: the page as it is, which sends the form with fetch and swaps in the preloaded
  next pair, its rubric, progress and URL;
- navigation: the same page with ``window.fetch`` removed before its script runs, so
  it posts the form and the browser loads the next page (the path without the swap).

An init script in every document records the Enter keydown (in sessionStorage, which
survives the page load) and, for each element that becomes ``#video-ref`` or
``#video-gen``, when its first frame is shown (the first frame the page renders once
the element is on stage with a decoded frame: readyState >= 2, then
requestAnimationFrame) and when playback presents its first frame
(requestVideoFrameCallback, expected display time). Each figure is the later of the
two videos minus Enter. For the swap path the time the POST itself took (Resource
Timing) is printed too. One warm-up clip per path is not counted.

Run: ``.venv/bin/python bench/bench_next_pair.py [--clips 6]``
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("REFSCORE_CHROMIUM", "/usr/bin/chromium"))
TMP = Path(tempfile.mkdtemp(prefix="bench-next-pair-"))
os.environ.update(
    DJANGO_SETTINGS_MODULE="config.settings",
    DATABASE_URL=f"sqlite:///{TMP / 'bench.sqlite3'}",
    REFSCORE_VAR_DIR=str(TMP / "var"),
    MEDIA_ROOT=str(TMP / "media"),
    DEBUG="false",
    SECURE_SSL_REDIRECT="false",
    ALLOWED_HOSTS="127.0.0.1",
    LOG_LEVEL="ERROR",
)
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

from django.contrib.staticfiles.handlers import StaticFilesHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

from annotate.models import Assignment  # noqa: E402
from annotate.services.assignments import assignment_plan_apply  # noqa: E402
from demo.campaign import DEMO_PASSWORD, demo_campaign_create  # noqa: E402
from demo.render import DEFAULT_TEAMS  # noqa: E402
from tests.e2e.conftest import CHROMIUM_ARGS  # noqa: E402

# Runs in every document before the page's own script.
PROBE_JS = """(() => {
  if (sessionStorage.getItem('bench:path') === 'navigation') {
    Object.defineProperty(window, 'fetch', { value: undefined });
  }
  const seen = new WeakSet();
  const watch = () => {
    for (const id of ['video-ref', 'video-gen']) {
      const video = document.getElementById(id);
      if (!video || seen.has(video)) continue;
      seen.add(video);
      // Shown: on stage with a decoded frame, at the next frame the page renders.
      const paint = () => {
        if (video.readyState < 2 || video.benchPainting) return;
        video.benchPainting = true;
        requestAnimationFrame((t) => { video.benchShown = performance.timeOrigin + t; });
      };
      for (const type of ['loadeddata', 'canplay', 'playing']) video.addEventListener(type, paint);
      paint();
      // Playing: the first frame that playback sends to the screen.
      video.requestVideoFrameCallback((now, frame) => {
        video.benchPlaying = performance.timeOrigin + frame.expectedDisplayTime;
      });
    }
  };
  new MutationObserver(watch).observe(document, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['id'],
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      sessionStorage.setItem('bench:enter', String(performance.timeOrigin + performance.now()));
    }
  }, true);
})();"""
BOTH_READY_JS = """() => ['video-ref', 'video-gen'].every((id) => document.getElementById(id).readyState >= 2)"""
NEXT_SOURCES_JS = """() => ['preload-ref', 'preload-gen'].map((id) => document.getElementById(id).getAttribute('src'))"""
ON_STAGE_JS = "['video-ref', 'video-gen'].map((id) => document.getElementById(id))"
FRAMES_JS = f"""(sources) => {ON_STAGE_JS}.every((video, i) => video
  && video.getAttribute('src') === sources[i] && video.benchShown && video.benchPlaying)"""
LATENCY_JS = f"""() => {{
  const enter = Number(sessionStorage.getItem('bench:enter'));
  const pair = {ON_STAGE_JS};
  const post = performance.getEntriesByType('resource').filter((e) => e.name.endsWith('/submit')).pop();
  return {{
    ms: Math.max(...pair.map((video) => video.benchShown)) - enter,
    playing_ms: Math.max(...pair.map((video) => video.benchPlaying)) - enter,
    post_ms: post ? post.responseEnd - post.startTime : null,
  }};
}}"""


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def build_campaign() -> tuple[list[str], int]:
    """The demo campaign, open, no full-watch lock, every clip for both bench annotators."""
    call_command("migrate", verbosity=0, interactive=False)
    campaign = demo_campaign_create(
        workdir=TMP / "footage",
        seed=7,
        teams=DEFAULT_TEAMS[:3],
        n_tasks=2,
        episodes_per_task=3,
        seconds=2.0,
        n_annotators=2,
    ).campaign
    campaign.raters_per_cell = 2
    campaign.require_full_watch = False
    campaign.save(update_fields=["raters_per_cell", "require_full_watch"])
    assignment_plan_apply(campaign=campaign)
    queued = Assignment.objects.filter(campaign=campaign).exclude(status=Assignment.Status.DONE)
    queues = Counter(queued.values_list("annotator__username", flat=True))
    print(f"campaign: clips to rate {dict(sorted(queues.items()))}", flush=True)
    return sorted(queues), min(queues.values())


def serve() -> tuple[ThreadedWSGIServer, str]:
    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(StaticFilesHandler(get_wsgi_application()))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def open_session(browser, base: str, username: str, path: str):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(20_000)
    context.add_init_script(PROBE_JS)
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.evaluate(f"sessionStorage.setItem('bench:path', '{path}')")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/queue/")
    page.wait_for_function("() => (document.activeElement?.id || '').startsWith('start-')")
    page.keyboard.press("Enter")
    page.wait_for_url("**/rate/*/")
    return page


def next_clip(page) -> dict:
    """Rate the clip on screen with the keyboard; time Enter to both next first frames."""
    page.wait_for_function(BOTH_READY_JS)
    sources = page.evaluate(NEXT_SOURCES_JS)
    page.keyboard.press("3")
    page.keyboard.press("Enter")
    page.wait_for_url("**/rate/*/?done=*")
    page.wait_for_function(FRAMES_JS, arg=sources)
    return page.evaluate(LATENCY_JS)


def summary(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):.0f} ms, min {min(values):.0f}, "
        f"max {max(values):.0f} (n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=6, help="measured clips per path")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    try:
        (swap_user, navigation_user), shortest = build_campaign()
        if args.clips + 2 > shortest:  # a warm-up, then each measured clip needs a next one
            raise SystemExit(f"--clips at most {shortest - 2}: a queue holds {shortest} clips")
        server, base = serve()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            pages = {
                "swap": open_session(browser, base, swap_user, "swap"),
                "navigation": open_session(browser, base, navigation_user, "navigation"),
            }
            times: dict[str, list[float]] = {"swap": [], "navigation": []}
            playing: dict[str, list[float]] = {"swap": [], "navigation": []}
            posts: list[float] = []
            for step in range(args.clips + 1):
                for path, page in pages.items():
                    measured = next_clip(page)
                    if step == 0:
                        continue  # warm-up
                    times[path].append(measured["ms"])
                    playing[path].append(measured["playing_ms"])
                    if path == "swap" and measured["post_ms"] is not None:
                        posts.append(measured["post_ms"])
            version = browser.version
            browser.close()
        server.shutdown()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)

    print(
        f"Machine: nproc={os.cpu_count()}, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, Chromium {version} headless, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    for path, values in times.items():
        print(f"{path:>10}: Enter -> first frame of both next videos shown: {summary(values)}")
        print(f"{'':>10}  each: {', '.join(f'{v:.0f}' for v in values)} ms")
        print(
            f"{'':>10}  Enter -> both playing (first frame of playback): {summary(playing[path])}"
        )
    print(f"{'':>10}  swap's POST (request to the end of its answer): {summary(posts)}")
    for label, figures in (("shown", times), ("playing", playing)):
        ratio = statistics.median(figures["navigation"]) / statistics.median(figures["swap"])
        print(f"navigation / swap, {label} (medians): x{ratio:.1f}")
    met = statistics.median(times["swap"]) < 100
    print(f"target (first frames shown, median under 100 ms): {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
