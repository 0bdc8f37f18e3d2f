"""Every page a person reaches, read in Chinese: no English they read was left unmarked.

Four kinds of person sign in to the world of tests/world.py (the demo campaign, rated by
all but one annotator, judged once), enriched so that most pages have something to say:
a practice round and gold clips, a rating given and one opened, a broken pair reported,
an exclusion, an API token, an invitation. Each person's crawl starts at their home
page and follows every same-site link and GET form, once while the campaign is open and
once after it is published; every GET route of the URLconf that the permission matrix
(tests/security/test_permission_matrix.py) knows is also filled from the world's data
and requested; and the organizer's forms are sent as that table sends them, to read
the page each answer comes back to. Every page is requested twice:

- with ``Accept-Language: zh-Hans``: its visible text (text nodes outside scripts,
  styles and code; the title, aria-label, placeholder and alt attributes; the value of
  an input button; the strings of its JSON scripts) may hold no English: no run of two
  English words, no single common interface word. The data's own values (names,
  keys, file names, e-mail addresses, texts people typed) are taken out first, read
  from the database; text in an element marked with another ``lang`` is that language
  (the language switch names English in English);
- with ``Accept-Language: en``: it answers 200 or a redirect that is not to the login
  page (a route the matrix knows: what the matrix expects), so that the crawl itself
  notices a page that disappears or breaks.

The checker itself is tested on pages made up here: an unmarked sentence is reported,
with its page.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import PurePosixPath

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import resolve, reverse
from django.utils import translation
from django.utils.text import slugify

from annotate.models import (
    Assignment,
    Campaign,
    Clip,
    Episode,
    ImportJob,
    PracticeAttempt,
    ProblemReport,
    QualityExample,
    Rating,
    Submission,
    Task,
    Team,
)
from annotate.notice_text import TEXTS
from annotate.services import campaign_create, campaign_state_change
from annotate.services import problems as problem_services
from annotate.services.people import person_password_reset
from annotate.services.team_portal import submission_window_set
from evaluation.models import JudgeVersion
from tests.security.test_blinding import WATCHED, _Links, _local
from tests.security.test_blinding_quality import setup_quality
from tests.security.test_permission_matrix import (
    ACTORS,
    LOGIN,
    OK,
    TABLE,
    _outcome,
    _url,
    enumerated_routes,
)
from tests.world import World

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-Hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}

# Not crawled: files (media, static, downloads), the scripts' catalogue, the API and its
# docs (JSON for programs; the docs page is Swagger's), Django's admin site (its own
# catalogue), signing out.
NOT_FOLLOWED = ("/static/", "/m/", "/jsi18n/", "/api/", "/admin/", "/accounts/logout/")
FILES = re.compile(r"\.(?:csv|json|xlsx|svg|png|pdf|zip)(?:\?|$)")
# At most this many query strings per path (the clip browser's filters, sort orders).
QUERIES_PER_PATH = 3

# Words any interface has: one of them alone in a text, in English, was not translated.
UI_WORDS = frozenset({
    "about", "accept", "accepted", "account", "actions", "active", "add", "all", "annotator",
    "annotators", "any", "apply", "assigned", "assignments", "back", "broken", "browse",
    "campaign", "campaigns", "cancel", "change", "choose", "clip", "clips", "close", "comment",
    "confirm", "continue", "create", "decide", "delete", "details", "done", "download", "draft",
    "edit", "email", "error", "excluded", "exclude", "export", "exports", "failed", "file",
    "filter", "final", "finished", "guideline", "help", "hide", "home", "import", "imports",
    "invite", "language", "leaderboard", "lift", "locked", "log", "login", "logout", "missing",
    "more", "name", "next", "none", "open", "organizer", "page", "password", "pending",
    "people", "practice", "preview", "previous", "progress", "published", "queue", "queued",
    "rank", "rate", "rated", "rating", "ratings", "reason", "reference", "rejected", "remove",
    "report", "reports", "reset", "results", "resume", "review", "role", "run", "running",
    "save", "score", "scores", "search", "send", "settings", "show", "skipped", "start",
    "status", "submission", "submissions", "submit", "summary", "task", "tasks", "team",
    "teams", "total", "undo", "unknown", "upload", "uploads", "user", "username", "version",
    "view", "warning", "withdraw", "yes",
})  # fmt: skip
# English the pages show on purpose, each with the reason (identifiers go in <code>, data
# values are taken from the database). Filled below, once `_notices` is defined.
ALLOWED: dict[str, list[str]] = {}


def _notices(*prefixes: str) -> list[str]:
    """The sentences of the notices whose codes start with `prefixes`, any value in their
    placeholders (an FFmpeg message, say); the longest first, and none that is only
    placeholders."""
    placeholder = re.compile(r"%\(\w+\)[-+ #0-9.]*[sdifr]")
    sentences = set()
    for language in ("en", "zh-hans"):  # in English, and as far as it is translated
        with translation.override(language):
            sentences |= {str(text) for code, text in TEXTS.items() if code.startswith(prefixes)}
    parts = []
    for sentence in sorted(sentences, key=len, reverse=True):
        pieces = placeholder.split(sentence)
        if sum(len(piece.strip(" :：,，;；()（）")) for piece in pieces) < 4:
            continue
        # A placeholder at the end takes the rest of the text; one inside, what it must.
        middle = ".*?".join(re.escape(piece) for piece in pieces[:-1])
        parts.append(middle + (".*" if pieces[-1] == "" else ".*?" + re.escape(pieces[-1])))
    return parts


# FFmpeg's and the system's own words, quoted in the media errors that carry them.
ALLOWED["a decoder's or the system's message, quoted"] = _notices(
    "media.unrecognised",
    "media.does_not_decode",
    "media.decoding_fails",
    "media.not_playable",
    "media.not_composited",
    "media.copy_does_not_probe",
    "media.file_error",
)
# One pattern, the longest sentences tried first (a short one may sit inside a longer one).
EXCUSED = re.compile(
    "|".join(
        sorted(
            (part for parts in ALLOWED.values() for part in parts),
            key=len,
            reverse=True,
        )
    )
    or r"(?!)"
)

SKIPPED_TAGS = {"script", "style", "code", "kbd", "pre", "samp", "textarea"}
READ_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
INPUT_BUTTONS = {"submit", "button", "reset"}
VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr",
}  # fmt: skip


class VisibleText(HTMLParser):
    """What a reader of a page reads: (where, text) pieces.

    Text nodes outside scripts, styles, code and form fields people type in; the
    attributes a browser shows or reads aloud; the strings of JSON scripts (which the
    page's scripts show). Text inside an element whose ``lang`` is another language
    than the page's is that language's, and left out.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[tuple[str, str]] = []
        self.page_lang = ""
        self.skipped = 0
        self.foreign: list[str] = []  # open elements in another language, by tag
        self.json_script: str | None = None
        self.json_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.page_lang = (attrs.get("lang") or "").lower()
        lang = (attrs.get("lang") or "").lower()
        if lang and lang != self.page_lang and tag not in VOID:
            self.foreign.append(tag)
        if tag == "script" and attrs.get("type") == "application/json":
            self.json_script, self.json_text = attrs.get("id") or "?", []
        if tag in SKIPPED_TAGS:
            self.skipped += 1
        if self.skipped or self.foreign or (lang and lang != self.page_lang):
            return
        for name in READ_ATTRIBUTES:
            if attrs.get(name):
                self.pieces.append((f"<{tag} {name}>", attrs[name]))
        if tag == "input" and attrs.get("type") in INPUT_BUTTONS and attrs.get("value"):
            self.pieces.append((f"<{tag} value>", attrs["value"]))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in SKIPPED_TAGS:
            self.skipped -= 1

    def handle_endtag(self, tag):
        if tag == "script" and self.json_script is not None:
            for value in _strings(json.loads("".join(self.json_text) or "null")):
                self.pieces.append((f"<script#{self.json_script}> JSON", value))
            self.json_script = None
        if tag in SKIPPED_TAGS and self.skipped:
            self.skipped -= 1
        if self.foreign and self.foreign[-1] == tag:
            self.foreign.pop()

    def handle_data(self, data):
        if self.json_script is not None:
            self.json_text.append(data)
        elif not self.skipped and not self.foreign and data.strip():
            where = "<title>" if self.lasttag == "title" else "text"
            self.pieces.append((where, data))


def _strings(data) -> list[str]:
    if isinstance(data, dict):
        return [text for value in data.values() for text in _strings(value)]
    if isinstance(data, list):
        return [text for value in data for text in _strings(value)]
    return [data] if isinstance(data, str) else []


CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]+")
# A word as a reader sees one: letters, maybe an apostrophe or a hyphen inside, with
# punctuation around it. Chunks with digits, underscores, slashes, @ or inner dots are
# identifiers, paths, addresses or numbers, not words.
WORD = re.compile(r"""[(\["'“‘]*([A-Za-z]+(?:['’-][A-Za-z]+)*)[)\]"'”’.,;:!?…]*""")


def english_in(
    text: str, data_values: Sequence[str] = (), excused: re.Pattern | None = None
) -> list[str]:
    """The English in `text` a reader would see: runs of two or more words of two or more
    letters, and single common interface words. `data_values` and what the `excused`
    patterns match are taken out first."""
    for value in data_values:
        if value in text:
            text = text.replace(value, " · ")
    if excused is not None:
        text = excused.sub(" · ", text)
    found = []
    for segment in CJK.split(text):
        run: list[str] = []
        for chunk in [*segment.split(), ""]:
            match = WORD.fullmatch(chunk)
            if match and len(match.group(1)) >= 2:
                run.append(match.group(1))
                continue
            if len(run) >= 2 or (len(run) == 1 and run[0].lower() in UI_WORDS):
                found.append(" ".join(run))
            run = []
    return found


def unmarked_english(
    html: str, data_values: Sequence[str] = (), excused: re.Pattern | None = None
) -> list[str]:
    """Each piece of `html`'s visible text that holds English, as 'where: text'."""
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    found = []
    for where, text in parser.pieces:
        if english_in(text, data_values, excused):
            quoted = " ".join(text.split())
            found.append(f"{where}: {quoted!r}")
    return found


def data_values(campaign: Campaign) -> list[str]:
    """The world's own data as pages show it, longest first: names, keys, file names,
    texts people entered. None of it is interface text."""
    values: set[str] = {"refscore"}
    values |= {campaign.slug, campaign.name, campaign.description}
    for team in Team.objects.filter(campaign=campaign):
        values |= {team.name, slugify(team.name)}
    for task in Task.objects.filter(campaign=campaign):
        values |= {task.key, task.title, task.instruction}
    values |= set(Episode.objects.filter(task__campaign=campaign).values_list("key", flat=True))
    for clip in Clip.objects.filter(episode__task__campaign=campaign).select_related("asset"):
        values |= {clip.source_name, PurePosixPath(clip.source_name).name, clip.asset.original}
    sources = [
        *Submission.objects.filter(team__campaign=campaign).values_list("source", flat=True),
        *ImportJob.objects.filter(campaign=campaign).values_list("source", flat=True),
    ]
    for source in sources:
        values |= {source, *PurePosixPath(source).parts}
    for user in get_user_model().objects.all():
        values |= {user.username, user.email, user.get_full_name()}
    for judge in JudgeVersion.objects.all():
        values |= {judge.name, judge.version, str(judge)}
    values |= set(Rating.objects.values_list("comment", flat=True))
    values |= set(ProblemReport.objects.values_list("text", flat=True))
    values |= set(QualityExample.objects.values_list("explanation", flat=True))
    return sorted((v for v in values if v and len(v) > 1), key=len, reverse=True)


@dataclass
class Crawl:
    """Pages read by one person, each in Chinese (checked for English) and in English
    (its status checked)."""

    client: Client
    person: str
    data: list[str]
    expect: tuple = (OK,)
    # Paths whose pages may refuse with 400 (a campaign with nothing in it to compute).
    refusing: tuple[str, ...] = ()
    findings: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    broken: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    read_pages: list[str] = field(default_factory=list)
    per_path: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def read(self, url: str, response) -> None:
        """Check one Chinese response's text (whatever its status: error pages too)."""
        if not response.get("Content-Type", "").startswith("text/html"):
            return
        for text in unmarked_english(response.content.decode(), self.data, EXCUSED):
            self.findings[f"{url} ({self.person})"].append(text)

    def get(self, url: str, *, expect: tuple | None = None) -> None:
        """Fetch a page in both languages and follow what it links to, once each."""
        path = url.split("?")[0]
        if url in self.seen or url.startswith(NOT_FOLLOWED):
            return
        if "?" in url and self.per_path[path] >= QUERIES_PER_PATH:
            return
        self.seen.add(url)
        self.read_pages.append(url)
        self.per_path[path] += "?" in url
        english = self.client.get(url, **EN)
        expect = expect or ((*self.expect, 400) if url.startswith(self.refusing) else self.expect)
        if (outcome := _outcome(english)) not in expect:
            self.broken.append(f"GET {url} as {self.person}: {outcome}, want {expect}")
        if FILES.search(url):
            return
        chinese = self.client.get(url, **ZH)
        self.read(url, chinese)
        if chinese.status_code in (301, 302, 303):
            self.get(_local(url, chinese["Location"]))
        elif chinese.get("Content-Type", "").startswith("text/html"):
            links = _Links()
            links.feed(chinese.content.decode())
            for found in links.links:
                if (target := _local(url, found)) is not None:
                    self.get(target)

    def send(self, url: str, data: dict | None) -> None:
        """Post a form as the table of the permission matrix does, in Chinese, and read the
        answer and the page it leads to (its messages); then roll everything back."""
        try:
            with transaction.atomic():
                response = self.client.post(url, data or {}, **ZH)
                assert response.status_code < 500, f"POST {url} as {self.person}"
                self.read(f"POST {url}", response)
                if response.status_code in (301, 302, 303):
                    target = _local(url, response["Location"])
                    self.read(f"POST {url} -> {target}", self.client.get(target, **ZH))
                raise _Rollback
        except _Rollback:
            pass

    def again(self) -> None:
        self.seen.clear()
        self.per_path.clear()


class _Rollback(Exception):
    pass


def enrich(world: World) -> dict:
    """Give most pages something to say: a practice round (passed), gold clips, a rating
    given and one opened, a broken pair reported, an API token, an invitation."""
    campaign, annotator = world.campaign, world.users["annotator"]
    setup_quality(world)
    client = Client()
    client.force_login(annotator)
    slug = campaign.slug
    client.post(reverse("practice-start", args=[slug]), {})
    attempt = PracticeAttempt.objects.get(annotator=annotator)
    for step, example_id in enumerate(attempt.examples, start=1):
        example = QualityExample.objects.get(pk=example_id)
        client.post(reverse("practice-answer", args=[slug, step]), {"score": example.score})
    pending = list(
        Assignment.objects.filter(annotator=annotator, status=Assignment.Status.PENDING)
        .select_related("clip")
        .order_by("order_key")
    )
    assert len(pending) >= 3, "the annotator has work left"
    rated, opened, reported = pending[0], pending[1], pending[2]
    response = client.post(
        reverse("api-my-rating", args=[rated.pk]),
        {"score": 2, "final_state": True, "clean": False, "comment": "wobbly-仿真", **WATCHED},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    client.get(reverse("rate", args=[opened.pk]))
    problem_services.problem_report(
        assignment=reported, user=annotator, reason="black_frames", text=""
    )
    staff = Client()
    staff.force_login(world.users["organizer"])
    staff.post(reverse("token-issue"), {"username": world.users["other_annotator"].username})
    staff.post(
        reverse("person-invite", args=[slug]),
        {"username": "invitee-甲", "email": "invitee@example.org", "role": "annotator"},
    )
    assert Rating.objects.filter(assignment=rated).exists()
    link = person_password_reset(user=world.users["other_annotator"], by=world.users["admin"])
    return {"opened": opened, "invitation": _local("/", link.url)}


def publish(campaign: Campaign) -> None:
    campaign_state_change(campaign=campaign, to_state=Campaign.State.LOCKED, by=None)
    campaign_state_change(campaign=campaign, to_state=Campaign.State.PUBLISHED, by=None)
    submission_window_set(campaign=campaign, opens_at=None, closes_at=None, leaderboard_public=True)


def route_probes(world: World, person: str) -> list[tuple[str, tuple]]:
    """Each GET route the matrix knows (none that the crawl leaves out: the API, the admin
    site, media), filled from the world's data, with the outcome the matrix expects for
    `person`."""
    found = []
    for route in enumerated_routes():
        if route not in TABLE:
            continue  # a new route: test_permission_matrix asks for its row
        entry = TABLE[route]
        for probe in entry if isinstance(entry, list) else [entry]:
            url = _url(route, probe, world)
            if probe.method == "get" and not url.startswith(NOT_FOLLOWED):
                found.append((url, (probe.outcomes[ACTORS.index(person)],)))
    return found


def form_probes(world: World, person: str) -> list[tuple[str, dict | None]]:
    """Each page form the matrix sends (POST, not the API), that `person` may send."""
    found = []
    for route in enumerated_routes():
        if route.startswith(("api/", "admin/", "accounts/", "i18n/")) or route not in TABLE:
            continue
        entry = TABLE[route]
        for probe in entry if isinstance(entry, list) else [entry]:
            if probe.method == "post" and probe.outcomes[ACTORS.index(person)] == OK:
                found.append((_url(route, probe, world), probe.data))
    return found


def _report(findings: dict[str, list[str]]) -> str:
    lines = []
    for page, texts in sorted(findings.items()):
        lines.append(page)
        lines.extend(f"    {text}" for text in dict.fromkeys(texts))
    return "\n".join(lines)


@pytest.mark.django_db(transaction=True)
def test_every_page_in_chinese_shows_no_unmarked_english(world):
    enriched = enrich(world)
    campaign = world.campaign
    # A campaign just created: every page of it in its empty state.
    empty = campaign_create(slug="kong", name="空-0")
    people = ("organizer", "annotator", "team_member")
    crawls = {}
    for person in ("anonymous", *people):
        client = Client()
        if world.users[person] is not None:
            client.force_login(world.users[person])
        crawls[person] = Crawl(client=client, person=person, data=data_values(campaign))
    crawls["anonymous"].expect = (OK, LOGIN)  # its links lead to pages that ask to sign in
    crawls["organizer"].refusing = (f"/organize/{empty.slug}/",)

    # While the campaign is open: from home, then every GET route, then the forms.
    for person in people:
        crawl = crawls[person]
        crawl.get(reverse("home"))
        for url, expect in route_probes(world, person):
            crawl.seen.discard(url)
            crawl.get(url, expect=expect)
        for url, data in form_probes(world, person):
            crawl.send(url, data)
    anonymous = crawls["anonymous"]
    anonymous.get(reverse("login"))
    anonymous.get(reverse("login") + "?logged_out=1")
    anonymous.send(reverse("login"), {"username": "nobody", "password": "not-the-password"})
    anonymous.get(enriched["invitation"])
    # The rating page with work in progress: no link need lead there (the queue links the
    # rated clips, and which pending clip a rating page preloads depends on the order).
    crawls["annotator"].get(reverse("rate", args=[enriched["opened"].pk]))
    assert reverse("campaign-detail", args=[empty.slug]) in crawls["organizer"].seen

    # Published: the teams' results and the public leaderboard.
    publish(campaign)
    for person in people:
        crawls[person].again()
        crawls[person].get(reverse("home"))
    team = crawls["team_member"]
    for name in ("team-portal", "team-results", "public-leaderboard"):
        team.get(reverse(name, args=[campaign.slug]))

    # Every page route was read (the API's, the admin site's and files' aside).
    read = {resolve(url.split("?")[0]).route for c in crawls.values() for url in c.read_pages}
    pages = {url for url, _ in route_probes(world, "organizer") if not FILES.search(url)}
    assert {resolve(url.split("?")[0]).route for url in pages} <= read

    findings: dict[str, list[str]] = {}
    for crawl in crawls.values():
        findings |= crawl.findings
    broken = [line for crawl in crawls.values() for line in crawl.broken]
    n_read = sum(len(crawl.read_pages) for crawl in crawls.values())
    problems = []
    if findings:
        problems.append(
            f"untranslated English on {len(findings)} of {n_read} pages:\n" + _report(findings)
        )
    if broken:
        problems.append("pages that did not answer as expected:\n" + "\n".join(broken))
    assert not problems, "\n".join(problems)
    assert n_read > 200, n_read


PAGE = """<!doctype html><html lang="zh-hans"><head><title>{title}</title></head><body>
<nav><a href="/">refscore</a> <form class="language-switch"><button lang="en">English</button>
<button lang="zh-hans" disabled>简体中文</button></form></nav>
<main><h1>队伍 aurora borealis 的结果</h1>
<p>共 3 条视频，24 fps，672×224，episode_3.mp4，/rate/12/，ann-1@example.org。</p>
<p>导出文件的 <code>rater_score is the rater's own</code> 列；按 <kbd>Space</kbd> 播放。</p>
<script>const hidden = "Not shown on the page";</script>
<script type="application/json" id="rate-config">{{"hint": "{hint}", "url": "/m/x/video"}}</script>
<form><input type="hidden" name="next" value="/queue/"><input type="text" value="typed by someone">
<textarea>Rate the grasp only.</textarea>
<input type="submit" value="{button}"><button title="{tip}">保存</button></form>
<p>{sentence}</p></main></body></html>"""
CLEAN = {"title": "我的队列", "hint": "请先看完两段视频。", "button": "提交", "tip": "保存评分"}


def test_the_checker_reports_each_unmarked_text_and_nothing_else():
    """A made-up page: Chinese, data values, code, another language's element, a script,
    form fields people type in pass; English in each place a reader reads it is named."""
    data = ["aurora borealis"]
    assert unmarked_english(PAGE.format(**CLEAN, sentence="一切正常。"), data) == []
    spoiled = PAGE.format(
        title="My queue",
        hint="Watch both clips to the end first.",
        button="Submit",
        tip="Save the rating",
        sentence="请注意：the rating was not saved。",
    )
    assert unmarked_english(spoiled, data) == [
        "<title>: 'My queue'",
        "<script#rate-config> JSON: 'Watch both clips to the end first.'",
        "<input value>: 'Submit'",
        "<button title>: 'Save the rating'",
        "text: '请注意：the rating was not saved。'",
    ]
    # Without the data values, a team's two-word name reads as English.
    assert unmarked_english(PAGE.format(**CLEAN, sentence="。"), []) == [
        "text: '队伍 aurora borealis 的结果'"
    ]


def test_a_crawl_names_the_page_and_the_text():
    """What the crawl reports: the page, who read it, the text; an excused sentence (one
    being converted, with any value in its placeholder) is left out."""
    crawl = Crawl(client=Client(), person="annotator", data=["aurora borealis"])
    page = PAGE.format(**CLEAN, sentence="The rating was not saved: the campaign is locked.")
    crawl.read("/rate/7/", HttpResponse(page, content_type="text/html; charset=utf-8"))
    assert crawl.findings == {
        "/rate/7/ (annotator)": ["text: 'The rating was not saved: the campaign is locked.'"]
    }
    assert "/rate/7/ (annotator)\n    text: 'The rating was not saved" in _report(crawl.findings)
    excused = PAGE.format(**CLEAN, sentence="does not decode: moov atom not found")
    crawl.read("/teams/demo/", HttpResponse(excused, content_type="text/html"))
    assert "/teams/demo/ (annotator)" not in crawl.findings
    crawl.read("/x.csv", HttpResponse("Plain English, a file", content_type="text/csv"))
    assert len(crawl.findings) == 1


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("保存", []),
        ("Save", ["Save"]),  # a common interface word alone
        ("Krippendorff α（有序）", []),  # a name, not a phrase
        ("Fleiss' kappa", ["Fleiss kappa"]),
        ("评分员 annotator3 已完成 3 / 10", []),
        ("H.264 yuv420p +faststart", []),
        ("team_id=3 task1/episode_2", []),
        ("kind,score,explanation 列", []),
        ("任务 3 · in progress", ["in progress"]),
        ("e.g. the banana", ["the banana"]),
    ],
)
def test_what_counts_as_english(text, found):
    assert english_in(text) == found
