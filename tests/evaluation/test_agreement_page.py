"""The agreement report page, its figures and exports, the pair review, the API and the command.

The numbers on the page must be those of ``manage.py agreement`` run offline on the
campaign's ratings and verdicts written to CSV, with the same seed and resamples.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import xml.etree.ElementTree as ElementTree
from io import StringIO

import numpy as np
import pandas as pd
import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from rest_framework.authtoken.models import Token
from scipy.stats import kendalltau

from annotate.models import Clip, Episode, Rating
from evaluation import figures, services
from evaluation.models import JudgeRun, JudgeVersion, Verdict
from evaluation.scoring import RANK_DECIMALS
from evaluation.scoring.agreement import agreement_report
from evaluation.selectors import rater_pseudonym
from tests.evaluation.test_leaderboard import add_ratings, rated_campaign
from tests.factories import ClipFactory, SubmissionFactory

N_BOOT = 200
FIGURE_NAMES = ("confusion", "scatter", "task-scores", "task-agreement", "ranking")


@pytest.fixture(autouse=True)
def _fresh_cache():
    # The report cache is process-wide; a test must never see another test's report.
    cache.clear()
    yield
    cache.clear()


def stored_verdicts_run(
    *, campaign, seed: int, status: str = JudgeRun.Status.DONE, skip_every: int = 0
) -> JudgeRun:
    """A judge run whose verdicts are written straight into the database: no judge runs.

    Each verdict is the clip's first rating plus seeded noise of at most one point, so
    the report has something to measure. The pages only read stored verdicts, whoever
    made them; ``test_demo_campaign_with_the_baseline_judge_...`` runs the real judge.
    """
    rng = np.random.default_rng(seed)
    judge, _ = JudgeVersion.objects.get_or_create(name="baseline", version=f"v{seed}")
    run = JudgeRun.objects.create(
        campaign=campaign,
        judge=judge,
        status=status,
        finished_at=timezone.now() if status == JudgeRun.Status.DONE else None,
    )
    clips = Clip.objects.filter(submission__team__campaign=campaign).order_by("pk")
    verdicts = []
    for index, clip in enumerate(clips):
        if skip_every and index % skip_every == 0:
            continue
        first = Rating.objects.filter(clip=clip).order_by("pk").first()
        truth = first.score if first else 0
        score = int(np.clip(truth + rng.choice([0, 0, 1, -1]), 0, 3))
        verdicts.append(Verdict(run=run, clip=clip, score=score, expected_score=float(score)))
    Verdict.objects.bulk_create(verdicts)
    JudgeRun.objects.filter(pk=run.pk).update(done=len(verdicts), total=len(verdicts))
    run.refresh_from_db()
    return run


def offline_csvs(*, campaign, run: JudgeRun | None, folder) -> dict[str, str]:
    """Ratings, verdicts and episodes written with pandas in the documented column shapes."""
    ratings = pd.DataFrame(
        list(
            Rating.objects.filter(clip__submission__team__campaign=campaign)
            .order_by(
                "clip__episode__task__number",
                "clip__submission__team__name",
                "clip__episode__number",
                "pk",
            )
            .values_list(
                "clip__episode__task__key",
                "clip__submission__team__name",
                "clip__episode__key",
                "annotator_id",
                "score",
            )
        ),
        columns=["task", "team", "episode", "rater", "score"],
    )
    # Raters under the pseudonyms the exports give them: the report names them per rater.
    ratings["rater"] = [
        rater_pseudonym(user_id=user_id, campaign_slug=campaign.slug)
        for user_id in ratings["rater"]
    ]
    episodes = pd.DataFrame(
        list(
            Episode.objects.filter(task__campaign=campaign, in_rated_set=True)
            .order_by("task__number", "number")
            .values_list("task__key", "key")
        ),
        columns=["task", "episode"],
    )
    paths = {"ratings": str(folder / "ratings.csv"), "episodes": str(folder / "episodes.csv")}
    ratings.to_csv(paths["ratings"], index=False)
    episodes.to_csv(paths["episodes"], index=False)
    if run is not None:
        verdicts = pd.DataFrame(
            list(
                Verdict.objects.filter(run=run, score__isnull=False).values_list(
                    "clip__episode__task__key",
                    "clip__submission__team__name",
                    "clip__episode__key",
                    "score",
                )
            ),
            columns=["task", "team", "episode", "score"],
        )
        paths["judge"] = str(folder / "verdicts.csv")
        verdicts.to_csv(paths["judge"], index=False)
    return paths


def offline_report(*, campaign, run, folder) -> dict:
    paths = offline_csvs(campaign=campaign, run=run, folder=folder)
    output = folder / "report.json"
    call_command(
        "agreement",
        **paths,
        output=str(output),
        bootstrap=N_BOOT,
        seed=campaign.seed,
        stdout=StringIO(),
    )
    return json.loads(output.read_text())


def page_url(campaign, run: JudgeRun | None, **extra) -> str:
    params = {"boot": N_BOOT, "run": run.pk if run else "humans", **extra}
    return (
        reverse("agreement", args=[campaign.slug])
        + "?"
        + "&".join(f"{key}={value}" for key, value in params.items())
    )


def api_headers(user) -> dict[str, str]:
    token, _ = Token.objects.get_or_create(user=user)
    return {"HTTP_AUTHORIZATION": f"Token {token.key}"}


def assert_valid_png(content: bytes) -> None:
    image = Image.open(io.BytesIO(content))
    image.verify()
    assert image.format == "PNG"
    assert image.size[0] > 200 and image.size[1] > 150


def assert_valid_svg(content: bytes) -> None:
    root = ElementTree.fromstring(content)
    assert root.tag.endswith("svg")


# --- the numbers ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_page_exports_and_api_equal_the_offline_command(staff_client, organizer, tmp_path):
    data = rated_campaign(n_teams=4, n_tasks=2, n_episodes=5, seed=3, slug="agr")
    run = stored_verdicts_run(campaign=data.campaign, seed=5, skip_every=7)
    offline = offline_report(campaign=data.campaign, run=run, folder=tmp_path)
    assert offline["meta"]["has_judge"] and offline["video.n_missing_verdicts"] > 0

    page = staff_client.get(page_url(data.campaign, run, compute=1))
    assert page.status_code == 200
    assert page.context["result"].run_id == run.pk

    exported = staff_client.get(
        reverse("agreement-export", args=["agr", "json"]), {"run": run.pk, "boot": N_BOOT}
    )
    assert exported.status_code == 200
    assert json.loads(exported.content) == offline

    # Every statistic shown on the page, overall and per task, is the offline one.
    shown = [
        *page.context["rater_rows"],
        *page.context["video_rows"],
        *page.context["team_rows"],
        *page.context["team_task_rows"],
    ]
    assert len(shown) == 6 + 10 + 6 + 3
    for row in shown:
        expected = offline[row.key]
        assert (row.value, row.ci_low, row.ci_high, row.n) == (
            expected["value"],
            expected["ci_low"],
            expected["ci_high"],
            expected["n"],
        ), row.key
    for entry in page.context["task_rows"]:
        for row in [*entry.raters, *entry.video, *entry.team]:
            expected = offline["per_task"][entry.task][row.key]
            assert (row.value, row.ci_low, row.ci_high) == (
                expected["value"],
                expected["ci_low"],
                expected["ci_high"],
            ), (entry.task, row.key)
    confusion = [row["counts"] for row in page.context["confusion"]]
    assert confusion == offline["video.confusion"]
    html = page.content.decode()
    kappa = offline["video.qwk"]
    assert f"{kappa['value']:.3f}" in html and f"{kappa['ci_low']:.3f}" in html

    # The CSV export: one row per statistic, the same numbers.
    rows = list(
        csv.DictReader(
            io.StringIO(
                staff_client.get(
                    reverse("agreement-export", args=["agr", "csv"]),
                    {"run": run.pk, "boot": N_BOOT},
                ).content.decode()
            )
        )
    )
    by_key = {row["key"]: row for row in rows}
    assert float(by_key["team.kendall_tau"]["value"]) == pytest.approx(
        offline["team.kendall_tau"]["value"]
    )
    assert by_key["video.qwk"]["n"] == str(offline["video.qwk"]["n"])
    assert "per_task.task1.raters.fleiss_kappa" in by_key
    assert len(rows) == sum(
        isinstance(value, dict) and "value" in value for value in offline.values()
    ) + sum(
        isinstance(value, dict) and "value" in value
        for entries in offline["per_task"].values()
        for value in entries.values()
    )

    # The API says the same.
    api = staff_client.get(
        reverse("api-agreement", args=["agr"]),
        {"run": run.pk, "bootstrap": N_BOOT},
        **api_headers(organizer),
    )
    assert api.status_code == 200
    assert api.json()["report"] == offline
    assert api.json()["run"] == run.pk and api.json()["figures"] == list(FIGURE_NAMES)
    figure = staff_client.get(
        reverse("api-agreement-figure", args=["agr", "ranking", "png"]),
        {"run": run.pk, "bootstrap": N_BOOT},
        HTTP_ACCEPT="image/png",
        **api_headers(organizer),
    )
    assert figure.status_code == 200 and figure["Content-Type"] == "image/png"
    assert_valid_png(figure.content)


@pytest.mark.django_db
def test_a_team_resubmitting_after_the_run_leaves_one_tau_on_both_pages_and_apis(
    staff_client, organizer
):
    """The judge run page and the agreement page read the run's verdicts the same way:
    a verdict on a clip its team has since replaced judged another video, so it no
    longer counts, on either page, and their Kendall's tau is the same number."""
    data = rated_campaign(n_teams=4, n_tasks=2, n_episodes=3, seed=21, slug="resub")
    run = stored_verdicts_run(campaign=data.campaign, seed=21)
    verdict = {
        (team, task, episode): score
        for team, task, episode, score in Verdict.objects.filter(run=run).values_list(
            "clip__submission__team__name",
            "clip__episode__task__key",
            "clip__episode__key",
            "score",
        )
    }
    # team0 replaces every clip after the run; the humans rate the new clips 3 throughout.
    newer = SubmissionFactory(team=data.teams[0], version=2)
    episodes = Episode.objects.filter(task__campaign=data.campaign).order_by("pk")
    add_ratings(
        campaign=data.campaign,
        raters=data.raters,
        given_by_clip=[
            (ClipFactory(submission=newer, episode=episode), [3, 3, 3]) for episode in episodes
        ],
    )

    tasks, episode_keys = ("task1", "task2"), [f"episode_{e}" for e in range(3)]
    human, judge = [], []
    for team in ("team0", "team1", "team2", "team3"):
        if team == "team0":
            human.append(3.0)
            judge.append(0.0)  # no verdict on its current clips: each counts 0
            continue
        human.append(
            np.mean(
                [np.mean([np.mean(data.scores[(team, k, e)]) for e in episode_keys]) for k in tasks]
            )
        )
        judge.append(np.mean([sum(verdict[(team, k, e)] for e in episode_keys) / 3 for k in tasks]))
    # Compared as the ranking compares them: equal means on paper tie.
    expected = kendalltau(np.round(human, RANK_DECIMALS), np.round(judge, RANK_DECIMALS)).statistic

    run_page = staff_client.get(reverse("judge-run", args=["resub", run.pk]))
    assert run_page.context["comparison"].kendall_tau == pytest.approx(expected)
    assert f"<strong>{floatformat(expected, 2)}</strong>" in run_page.content.decode()
    ranking = staff_client.get(
        reverse("api-judge-run-ranking", args=[run.pk]), **api_headers(organizer)
    )
    assert ranking.json()["kendall_tau"] == pytest.approx(expected)

    page = staff_client.get(page_url(data.campaign, run, compute=1))
    rows = {row.key: row for row in page.context["team_rows"]}
    assert rows["team.kendall_tau"].value == pytest.approx(expected)
    assert page.context["report"]["video.n_unrated_verdicts"] == 0  # old clips' verdicts left out
    team_row = page.content.decode().split('data-key="team.kendall_tau"')[1].split("</tr>")[0]
    assert floatformat(expected, 3) in team_row
    api = staff_client.get(
        reverse("api-agreement", args=["resub"]),
        {"run": run.pk, "bootstrap": N_BOOT},
        **api_headers(organizer),
    )
    assert api.json()["report"]["team.kendall_tau"]["value"] == pytest.approx(expected)


@pytest.mark.django_db
def test_latest_completed_run_is_the_default_and_humans_alone_without_one(staff_client, tmp_path):
    data = rated_campaign(n_teams=3, n_tasks=2, n_episodes=4, seed=8, slug="solo")
    page = staff_client.get(reverse("agreement", args=["solo"]), {"compute": 1, "boot": N_BOOT})
    assert page.status_code == 200
    result = page.context["result"]
    assert result.run_id is None and "video.qwk" not in result.report
    assert [figure["name"] for figure in page.context["figures"]] == ["task-agreement"]
    html = page.content.decode()
    assert 'id="confusion"' not in html and "Humans only" in html
    assert result.report == offline_report(campaign=data.campaign, run=None, folder=tmp_path)
    confusion = staff_client.get(
        reverse("agreement-figure", args=["solo", "confusion", "png"]), {"boot": N_BOOT}
    )
    assert confusion.status_code == 404

    older = stored_verdicts_run(campaign=data.campaign, seed=1)
    newer = stored_verdicts_run(campaign=data.campaign, seed=2)
    stored_verdicts_run(campaign=data.campaign, seed=3, status=JudgeRun.Status.RUNNING)
    JudgeRun.objects.filter(pk=older.pk).update(finished_at=timezone.now())
    page = staff_client.get(reverse("agreement", args=["solo"]), {"compute": 1, "boot": N_BOOT})
    assert page.context["result"].run_id == older.pk  # finished last
    assert {run.pk for run in page.context["runs"]} == {older.pk, newer.pk}
    humans = staff_client.get(page_url(data.campaign, None, compute=1))
    assert humans.context["result"].run_id is None


# --- cache and progress note --------------------------------------------------------------


@pytest.mark.django_db
def test_first_visit_shows_a_progress_note_then_the_report_is_cached(staff_client):
    data = rated_campaign(n_teams=3, n_tasks=2, n_episodes=3, seed=2, slug="cache")
    run = stored_verdicts_run(campaign=data.campaign, seed=2)
    first = staff_client.get(page_url(data.campaign, run))
    assert first.status_code == 200 and first.context["result"] is None
    html = first.content.decode()
    assert "Computing the agreement report" in html
    compute_url = first.context["compute_url"]
    assert f'http-equiv="refresh" content="0;url={compute_url}"'.replace("&", "&amp;") in html

    computed = staff_client.get(compute_url)
    assert computed.context["result"].from_cache is False
    again = staff_client.get(page_url(data.campaign, run))
    assert again.context["result"].from_cache is True
    assert again.context["result"].report == computed.context["result"].report

    # Another number of resamples is another report.
    other = staff_client.get(page_url(data.campaign, run, boot=N_BOOT + 1))
    assert other.context["result"] is None

    # A changed rating changes the data hash: the cached report is not served.
    rating = Rating.objects.filter(clip__submission__team__campaign=data.campaign).first()
    new_score = 0 if rating.score else 3
    Rating.objects.filter(pk=rating.pk).update(
        score=new_score,
        final_state=new_score == 3,
        clean=True if new_score == 3 else None,
        motion=None if new_score == 3 else False,
    )
    stale = staff_client.get(page_url(data.campaign, run))
    assert stale.context["result"] is None
    fresh = staff_client.get(page_url(data.campaign, run, compute=1))
    assert fresh.context["result"].data_hash != computed.context["result"].data_hash


# --- undefined statistics and bad requests -------------------------------------------------


@pytest.mark.django_db
def test_undefined_statistics_show_their_reason(staff_client):
    data = rated_campaign(n_teams=3, n_tasks=2, n_episodes=4, seed=4, slug="flat")
    Rating.objects.filter(clip__submission__team__campaign=data.campaign).update(
        score=2, final_state=True, clean=False, motion=None
    )
    run = stored_verdicts_run(campaign=data.campaign, seed=4)
    page = staff_client.get(page_url(data.campaign, run, compute=1))
    rows = {row.key: row for row in page.context["rater_rows"] + page.context["team_rows"]}
    assert rows["raters.krippendorff_alpha_ordinal"].value is None
    assert rows["raters.krippendorff_alpha_ordinal"].reason == "no variation"
    assert rows["team.top3_agree"].reason == "too few items"  # 3 teams: all in the top 3
    html = page.content.decode()
    alpha_row = html.split('data-key="raters.krippendorff_alpha_ordinal"')[1].split("</tr>")[0]
    assert "no variation" in alpha_row
    top3_row = html.split('data-key="team.top3_agree"')[1].split("</tr>")[0]
    assert "too few items" in top3_row
    # The per-task figure still draws, marking what is undefined.
    figure = staff_client.get(
        reverse("agreement-figure", args=["flat", "task-agreement", "svg"]),
        {"run": run.pk, "boot": N_BOOT},
    )
    assert figure.status_code == 200 and b"n/a" in figure.content


@pytest.mark.django_db
def test_bad_requests_are_refused_with_the_reason(staff_client, organizer):
    data = rated_campaign(n_teams=3, n_tasks=1, n_episodes=3, seed=6, slug="bad")
    running = stored_verdicts_run(campaign=data.campaign, seed=6, status=JudgeRun.Status.RUNNING)
    elsewhere = stored_verdicts_run(
        campaign=rated_campaign(n_teams=2, n_tasks=1, n_episodes=2, seed=1, slug="other").campaign,
        seed=7,
    )
    url = reverse("agreement", args=["bad"])
    for params, message in [
        ({"run": "abc"}, "run must be a judge run id"),
        ({"run": running.pk}, "is running, not done"),
        ({"run": elsewhere.pk}, "does not exist in campaign"),
        ({"boot": -1}, "boot"),
    ]:
        response = staff_client.get(url, params)
        assert response.status_code == 400, params
        assert message in response.content.decode(), params
    api = staff_client.get(
        reverse("api-agreement", args=["bad"]), {"run": running.pk}, **api_headers(organizer)
    )
    assert api.status_code == 400 and "not done" in str(api.json()["detail"])
    for name, fmt in [("nothing", "png"), ("confusion", "gif")]:
        assert (
            staff_client.get(reverse("agreement-figure", args=["bad", name, fmt])).status_code
            == 404
        )

    empty = rated_campaign(n_teams=1, n_tasks=1, n_episodes=1, n_raters=0, seed=0, slug="empty")
    response = staff_client.get(reverse("agreement", args=[empty.campaign.slug]), {"compute": 1})
    assert response.status_code == 400 and "no ratings yet" in response.content.decode()


@pytest.mark.django_db
def test_organizers_only(client, annotator, organizer):
    data = rated_campaign(n_teams=3, n_tasks=1, n_episodes=3, seed=9, slug="private")
    run = stored_verdicts_run(campaign=data.campaign, seed=9)
    clip = Clip.objects.filter(submission__team__campaign=data.campaign).first()
    urls = [
        page_url(data.campaign, run, compute=1),
        reverse("agreement-figure", args=["private", "confusion", "png"]),
        reverse("agreement-export", args=["private", "json"]),
        reverse("agreement-pair", args=["private", clip.pk]),
    ]
    for user in (None, annotator):
        client.logout()
        if user is not None:
            client.force_login(user)
        for url in urls:
            response = client.get(url)
            if user is None:  # to the app's login page; an annotator gets the app's 403 page
                assert response.status_code == 302, url
                assert response["Location"].startswith(reverse("login")), url
            else:
                assert response.status_code == 403, url
    for headers in ({}, api_headers(annotator)):
        client.logout()
        api = client.get(reverse("api-agreement", args=["private"]), **headers)
        assert api.status_code in (401, 403)
    client.force_login(organizer)
    assert client.get(urls[0]).status_code == 200


# --- the management command ----------------------------------------------------------------


@pytest.mark.django_db
def test_agreement_report_command_writes_the_page_report(staff_client, tmp_path):
    data = rated_campaign(n_teams=4, n_tasks=2, n_episodes=3, seed=12, slug="cmd")
    run = stored_verdicts_run(campaign=data.campaign, seed=12)
    out = StringIO()
    call_command(
        "agreement_report", "cmd", output=str(tmp_path / "r.json"), bootstrap=N_BOOT, stdout=out
    )
    assert f"run {run.pk}" in out.getvalue()
    written = json.loads((tmp_path / "r.json").read_text())
    page = staff_client.get(page_url(data.campaign, run, compute=1))
    assert written == page.context["report"]

    call_command(
        "agreement_report",
        "cmd",
        "--humans-only",
        output=str(tmp_path / "r.csv"),
        bootstrap=N_BOOT,
        stdout=StringIO(),
    )
    keys = [row["key"] for row in csv.DictReader((tmp_path / "r.csv").open())]
    assert "raters.fleiss_kappa" in keys and not any(key.startswith("video.") for key in keys)
    with pytest.raises(CommandError, match="must end in .json or .csv"):
        call_command("agreement_report", "cmd", output=str(tmp_path / "r.txt"))
    with pytest.raises(CommandError, match="no campaign"):
        call_command("agreement_report", "nope", output=str(tmp_path / "r.json"))
    with pytest.raises(CommandError, match="does not exist"):
        call_command(
            "agreement_report", "cmd", judge_run=run.pk + 100, output=str(tmp_path / "r.json")
        )


# --- a real campaign: every figure, and the pair review ------------------------------------


@pytest.mark.slow
def test_demo_campaign_with_the_baseline_judge_renders_every_figure_and_opens_pairs(
    demo_campaign, client, django_user_model
):
    """The real baseline judge on the small demo (eager Celery), against simulated raters."""
    from demo.campaign import demo_ratings_simulate

    client.force_login(django_user_model.objects.create_user("analyst", is_staff=True))
    assert demo_ratings_simulate(campaign=demo_campaign, seed=3, leave_for=()) > 0
    run = services.judge_run_create(
        campaign=demo_campaign,
        judge_version=services.judge_version_for(name="baseline"),
        chunk_size=6,
    )
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.DONE and run.done == run.total, run.error
    page = client.get(page_url(demo_campaign, run, compute=1))
    assert page.status_code == 200
    html = page.content.decode()
    assert [figure["name"] for figure in page.context["figures"]] == list(FIGURE_NAMES)
    for figure in page.context["figures"]:
        assert figure["svg"].replace("&", "&amp;") in html  # embedded
        assert figure["png"].replace("&", "&amp;") in html  # and downloadable
        png = client.get(figure["png"])
        assert png.status_code == 200 and png["Content-Type"] == "image/png"
        assert_valid_png(png.content)
        svg = client.get(figure["svg"])
        assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
        assert_valid_svg(svg.content)
    # The simulated raters mostly give the footage's true category, which the baseline
    # judges far better than chance (its own acceptance test): they must agree well.
    assert page.context["report"]["video.qwk"]["value"] > 0.5
    assert reverse("agreement", args=[demo_campaign.slug]) in html  # the nav link

    disagreements = page.context["disagreements"]
    assert disagreements and all(row.review_url for row in disagreements)
    worst = disagreements[0]
    review = client.get(worst.review_url)
    assert review.status_code == 200
    review_html = review.content.decode()
    clip = review.context["clip"]
    assert (clip.episode.task.key, clip.submission.team.name, clip.episode.key) == (
        worst.task,
        worst.team,
        worst.episode,
    )
    assert review.context["review"].consensus == worst.consensus
    assert review.context["review"].verdict.score == worst.judge
    assert sorted(r.score for r in review.context["review"].ratings) == sorted(worst.ratings)
    assert worst.team in review_html and "annotate/player.js" in review_html
    config = review.context["config"]
    for side in ("reference", "generated"):
        assert config[side]["video"] in review_html
        media = client.get(config[side]["video"], HTTP_RANGE="bytes=0-99")
        assert media.status_code == 206


# --- figures from a report alone -----------------------------------------------------------


def test_figures_draw_from_a_report_and_refuse_what_it_lacks():
    rng = np.random.default_rng(0)
    rows = [
        (f"task{k}", f"team{t}", f"episode_{e}", f"r{r}", int(rng.integers(0, 4)))
        for k in range(2)
        for t in range(4)
        for e in range(4)
        for r in range(3)
    ]
    ratings = pd.DataFrame(rows, columns=["task", "team", "episode", "rater", "score"])
    verdicts = ratings.drop_duplicates(["task", "team", "episode"]).drop(columns="rater")
    with_judge = agreement_report(ratings=ratings, verdicts=verdicts, n_boot=50, seed=0)
    humans = agreement_report(ratings=ratings, n_boot=50, seed=0)
    assert figures.available_figures(report=with_judge) == list(FIGURE_NAMES)
    for name in FIGURE_NAMES:
        assert_valid_png(figures.agreement_figure(report=with_judge, name=name, fmt="png"))
        svg = figures.agreement_figure(report=with_judge, name=name, fmt="svg")
        assert_valid_svg(svg)
        # No timestamp in the file: the same report gives the same bytes.
        assert svg == figures.agreement_figure(report=with_judge, name=name, fmt="svg")
    labels = figures.agreement_figure(report=with_judge, name="scatter", fmt="svg")
    assert all(f"team{t}".encode() in labels for t in range(4))
    assert figures.available_figures(report=humans) == ["task-agreement"]
    with pytest.raises(figures.FigureError, match="without a judge run"):
        figures.agreement_figure(report=humans, name="confusion")
    with pytest.raises(figures.FigureError, match="unknown"):
        figures.agreement_figure(report=humans, name="pie")
    with pytest.raises(figures.FigureError, match="format"):
        figures.agreement_figure(report=humans, name="task-agreement", fmt="gif")


def test_figures_draw_names_with_dollar_signs_as_written():
    """Team and task names are data: an unbalanced ``$`` must not fail a figure."""
    rng = np.random.default_rng(1)
    teams = ["$x", "x$^$y", "a $b$ c", r"Lab $\undefinedmacro$"]
    tasks = ["pick $", "place"]
    rows = [
        (task, team, f"episode_{e}", f"r{r}", int(rng.integers(0, 4)))
        for task in tasks
        for team in teams
        for e in range(3)
        for r in range(3)
    ]
    ratings = pd.DataFrame(rows, columns=["task", "team", "episode", "rater", "score"])
    verdicts = ratings.drop_duplicates(["task", "team", "episode"]).drop(columns="rater")
    report = agreement_report(ratings=ratings, verdicts=verdicts, n_boot=20, seed=0)
    for name in FIGURE_NAMES:
        assert_valid_png(figures.agreement_figure(report=report, name=name, fmt="png"))
        assert_valid_svg(figures.agreement_figure(report=report, name=name, fmt="svg"))
    texts = {
        "".join(element.itertext())
        for name in ("scatter", "ranking", "task-scores")
        for element in ElementTree.fromstring(
            figures.agreement_figure(report=report, name=name, fmt="svg")
        ).iter("{http://www.w3.org/2000/svg}text")
    }
    # Drawn literally: "a $b$ c" is not turned into math italics.
    for written in ("$x", "x$^$y", "a $b$ c", r"Lab $\undefinedmacro$", "pick $"):
        assert any(text.strip().endswith(written) for text in texts), written


@pytest.mark.django_db
def test_agreement_figures_of_a_campaign_with_a_dollar_team_name(staff_client):
    data = rated_campaign(n_teams=3, n_tasks=2, n_episodes=3, seed=6, slug="dollar")
    data.teams[0].name = "team $^$0"
    data.teams[0].save()
    run = stored_verdicts_run(campaign=data.campaign, seed=4)
    for name in FIGURE_NAMES:
        response = staff_client.get(
            reverse("agreement-figure", args=["dollar", name, "png"]),
            {"run": run.pk, "boot": N_BOOT},
        )
        assert response.status_code == 200, name
        assert_valid_png(response.content)


def test_long_names_stay_inside_each_figure_and_never_overlap():
    """Eight tasks and eight teams with long names: every label drawn whole and apart."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    rng = np.random.default_rng(2)
    teams = [f"World-Model Lab {t} (Embodied Robotics Group)" for t in range(8)]
    tasks = [f"task{k}_stack_the_cups" for k in range(1, 9)]
    rows = [
        (task, team, f"episode_{e}", f"r{r}", int(rng.integers(0, 4)))
        for task in tasks
        for team in teams
        for e in range(3)
        for r in range(3)
    ]
    ratings = pd.DataFrame(rows, columns=["task", "team", "episode", "rater", "score"])
    verdicts = ratings.drop_duplicates(["task", "team", "episode"]).drop(columns="rater")
    report = agreement_report(ratings=ratings, verdicts=verdicts, n_boot=20, seed=0)
    for name in FIGURE_NAMES:
        _, build, _ = figures.FIGURES[name]
        figure = build(report=report)
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        renderer = canvas.get_renderer()
        width, height = canvas.get_width_height()
        texts = [
            text
            for text in figure.findobj(Text)
            if text.get_visible() and text.get_text().strip() and text.get_figure() is not None
        ]
        named = [text for text in texts if text.get_text() in tasks or "Lab" in text.get_text()]
        assert named or name == "confusion", name  # the confusion matrix names nobody
        for text in named:
            box = text.get_window_extent(renderer)
            assert box.x0 >= -1 and box.y0 >= -1, (name, text.get_text(), box)
            assert box.x1 <= width + 1 and box.y1 <= height + 1, (name, text.get_text(), box)
        upright = [text for text in named if text.get_rotation() == 0]
        for i, one in enumerate(upright):
            for other in upright[i + 1 :]:
                assert not one.get_window_extent(renderer).overlaps(
                    other.get_window_extent(renderer)
                ), (name, one.get_text(), other.get_text())
        # Slanted labels are parallel: apart when the distance between their lines,
        # the step between them times the sine of the slant, exceeds the text height.
        slanted = sorted(
            (text for text in named if text.get_rotation() != 0),
            key=lambda text: text.get_window_extent(renderer).x1,
        )
        for one, other in itertools.pairwise(slanted):
            step = other.get_window_extent(renderer).x1 - one.get_window_extent(renderer).x1
            line_height = one.get_fontsize() * figure.dpi / 72
            assert step * math.sin(math.radians(one.get_rotation())) >= line_height, name
