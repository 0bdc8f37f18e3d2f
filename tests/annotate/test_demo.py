from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from annotate.models import Assignment, Campaign, Clip, Episode, MediaAsset, Rating
from demo import truth as demo_truth
from demo.campaign import (
    DemoWorkdirServed,
    demo_campaign_create,
    demo_ratings_simulate,
)
from demo.scene import task_look, task_texts


def _clips(campaign: Campaign):
    return Clip.objects.filter(submission__team__campaign=campaign).select_related(
        "episode__task", "submission__team", "asset"
    )


def test_demo_campaign_is_imported_through_the_ingest(demo_campaign, demo_footage):
    assert demo_campaign.tasks.count() == 2
    assert Episode.objects.filter(task__campaign=demo_campaign).count() == 6
    assert demo_campaign.teams.count() == 3
    clips = _clips(demo_campaign)
    assert clips.count() > 0
    # Every imported clip and episode has its label in the truth the renderer wrote.
    truth = demo_truth.load(demo_campaign)
    rendered = demo_footage.truth
    for clip in clips:
        key = f"{clip.episode.task.key}/{clip.episode.key}"
        expected = rendered["teams"][clip.submission.team.name]["clips"][key]["category"]
        assert truth.category(clip) == expected
    for episode in Episode.objects.filter(task__campaign=demo_campaign).select_related("task"):
        assert truth.success(episode) is rendered["reference"][str(episode)]["success"]
    # Broken files are rejected with their reason, and the demo accounts exist.
    reports = [s.report for team in demo_campaign.teams.all() for s in team.submissions.all()]
    assert sum(len(report["rejected"]) for report in reports) >= 1
    assert get_user_model().objects.get(username="organizer").is_staff
    assert get_user_model().objects.filter(username__startswith="annotator").count() == 6
    assert set(MediaAsset.objects.values_list("status", flat=True)) == {MediaAsset.Status.READY}


def test_demo_tasks_say_what_the_robot_does_in_both_languages(demo_campaign):
    from tests.conftest import SMALL_DEMO

    for task in demo_campaign.tasks.all():
        look = task_look(
            task_index=task.number, n_tasks=SMALL_DEMO["n_tasks"], seed=demo_campaign.seed
        )
        shape, shape_zh = {"disc": ("disc", "圆盘"), "square": ("block", "方块")}[look.object_shape]
        side, side_zh = ("right", "右") if look.direction > 0 else ("left", "左")
        assert shape in task.title and shape in task.instruction and side in task.instruction
        assert shape_zh in task.title_zh_hans and f"{side_zh}边" in task.instruction_zh_hans
    # Eight tasks, eight colours: no two demo tasks read alike.
    titles = [task_texts(task_look(task_index=k, n_tasks=8, seed=0)) for k in range(1, 9)]
    assert len({t.title.split()[0] for t in titles}) == 8
    assert len({t.title_zh_hans for t in titles}) == 8


def test_demo_is_deterministic_for_a_seed(demo_campaign, demo_footage, tmp_path):
    from demo.render import DEFAULT_TEAMS
    from tests.conftest import SMALL_DEMO

    def fingerprint(campaign: Campaign) -> set[tuple[str, str, int | None]]:
        truth = demo_truth.load(campaign)
        return {
            (str(clip.episode), clip.asset.sha256, truth.category(clip))
            for clip in _clips(campaign)
        }

    first = fingerprint(demo_campaign)
    # Render again from scratch with the same seed: the same bytes come out.
    again = demo_campaign_create(
        workdir=tmp_path / "again", seed=7, teams=DEFAULT_TEAMS[:3], replace=True, **SMALL_DEMO
    )
    assert fingerprint(again.campaign) == first
    other = demo_campaign_create(
        workdir=tmp_path / "other", slug="other", seed=8, teams=DEFAULT_TEAMS[:3], **SMALL_DEMO
    )
    assert fingerprint(other.campaign) != first
    shutil.rmtree(tmp_path / "again")


def test_an_existing_demo_campaign_is_replaced_only_when_asked(demo_campaign, tmp_path):
    from demo.campaign import DemoCampaignExists
    from tests.conftest import SMALL_DEMO

    clips = Clip.objects.filter(submission__team__campaign=demo_campaign).count()
    with pytest.raises(DemoCampaignExists):
        demo_campaign_create(workdir=tmp_path / "again", seed=7, **SMALL_DEMO)
    assert Campaign.objects.get(slug="demo").pk == demo_campaign.pk
    assert Clip.objects.filter(submission__team__campaign=demo_campaign).count() == clips
    assert not (tmp_path / "again").exists()  # refused before anything was rendered


def test_the_truth_is_not_in_the_schema_nor_where_files_are_served(demo_campaign, client):
    """The labels live in the footage folder only: no model field, no file under
    MEDIA_ROOT, and the media URLs of every asset send video or poster bytes, never JSON."""
    for model in (Clip, Episode):
        names = {field.name for field in model._meta.get_fields()}
        assert not names & {"demo_category", "reference_success", "category"}
    truth = demo_truth.load(demo_campaign)
    media_root = Path(settings.MEDIA_ROOT).resolve()
    assert not truth.folder.resolve().is_relative_to(media_root)
    assert not [p for p in media_root.rglob("*") if p.suffix in (".json", ".csv")]
    truth_bytes = (truth.folder / "truth.json").read_bytes()
    client.force_login(get_user_model().objects.get(username="organizer"))
    for asset in MediaAsset.objects.all():
        for kind in ("video", "poster"):
            response = client.get(f"/m/{asset.token}/{kind}")
            assert response.status_code == 200
            body = b"".join(response.streaming_content)
            assert response["Content-Type"] in ("video/mp4", "image/jpeg")
            assert body != truth_bytes and not body.lstrip().startswith(b"{")


def test_a_footage_folder_where_files_are_served_is_refused(db, tmp_path):
    from tests.conftest import SMALL_DEMO

    for root in (Path(settings.MEDIA_ROOT), Path(settings.STATIC_ROOT)):
        with pytest.raises(DemoWorkdirServed, match="lies under"):
            demo_campaign_create(workdir=root / "demo-footage", **SMALL_DEMO)
        assert not (root / "demo-footage").exists()
    assert not Campaign.objects.exists()


def test_truth_load_by_folder_slug_or_campaign_agree(demo_campaign, demo_footage):
    by_campaign = demo_truth.load(demo_campaign)
    assert demo_truth.load("demo") == by_campaign
    assert demo_truth.load(by_campaign.folder) == by_campaign
    assert demo_truth.load(by_campaign.folder / "truth.json") == by_campaign
    # The rows are the rendered clips, counted independently from the manifest.
    rendered = demo_footage.truth["teams"]
    assert len(by_campaign.rows()) == sum(len(team["clips"]) for team in rendered.values())
    row = by_campaign.rows()[0]
    assert set(row) == {"task", "team", "episode", "category"}
    expected = rendered[row["team"]]["clips"][f"{row['task']}/{row['episode']}"]["category"]
    assert row["category"] == expected


def test_truth_refusals_name_what_is_wrong(demo_campaign, campaign, tmp_path):
    with pytest.raises(demo_truth.DemoTruthMissing, match="no campaign 'nope'"):
        demo_truth.load("nope")
    with pytest.raises(demo_truth.DemoTruthMissing, match="was not imported by the demo"):
        demo_truth.load(campaign)
    with pytest.raises(demo_truth.DemoTruthMissing, match="no truth.json in"):
        demo_truth.load(tmp_path / "empty")
    # The folder rendered again with another seed: its labels are no longer the campaign's.
    folder = demo_truth.load(demo_campaign).folder
    raw = json.loads((folder / "truth.json").read_text())
    (folder / "truth.json").write_text(json.dumps({**raw, "seed": raw["seed"] + 1}))
    with pytest.raises(demo_truth.DemoTruthMissing, match="rendered again since"):
        demo_truth.load(demo_campaign)
    # Imported from a folder gone since: the same clear error, not a traceback.
    shutil.rmtree(folder)
    with pytest.raises(demo_truth.DemoTruthMissing, match="no truth.json in"):
        demo_truth.load(demo_campaign)


def test_simulated_ratings_mostly_give_the_true_category(demo_campaign):
    rated = demo_ratings_simulate(campaign=demo_campaign, seed=1, leave_for=())
    rendered = json.loads((demo_truth.load(demo_campaign).folder / "truth.json").read_text())
    ratings = Rating.objects.filter(assignment__campaign=demo_campaign).select_related(
        "clip__episode__task", "clip__submission__team"
    )
    assert ratings.count() == rated > 0
    hits = 0
    for rating in ratings:
        clip = rating.clip
        key = f"{clip.episode.task.key}/{clip.episode.key}"
        truth = rendered["teams"][clip.submission.team.name]["clips"][key]["category"]
        assert abs(rating.score - truth) <= 2
        hits += rating.score == truth
    assert hits / rated > 0.6  # 74 % by design, a little more where 0..3 clips an error off


def parse_accounts(out: str) -> list[list[str]]:
    """The rows of the accounts table as printed: a header, a rule, then one row each."""
    lines = out.splitlines()
    start = next(
        i for i, line in enumerate(lines) if line.split()[:3] == ["role", "username", "password"]
    )
    assert set(lines[start + 1].replace(" ", "")) == {"-"}
    rows = []
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        rows.append(line.split())
    return rows


@pytest.mark.django_db(transaction=True)
def test_demo_data_keeps_a_demo_made_before_and_resets_it_when_asked(tmp_path, capsys):
    small = ("--tasks", "1", "--episodes", "2", "--workdir", str(tmp_path / "f"))
    call_command("demo_data", *small)
    assert "Demo campaign 'demo' ready" in capsys.readouterr().out
    campaign = Campaign.objects.get(slug="demo")
    ratings = Rating.objects.filter(assignment__campaign=campaign).count()
    assert ratings > 0

    # A second run keeps the campaign and its ratings, and says so.
    call_command("demo_data", *small)
    out = capsys.readouterr().out
    assert "exists, kept with its ratings" in out and "make demo-reset" in out
    assert Campaign.objects.get(slug="demo").pk == campaign.pk
    assert Rating.objects.filter(assignment__campaign=campaign).count() == ratings

    with pytest.raises(SystemExit) as exit_status:
        call_command("demo_data", "--exists")
    assert exit_status.value.code == 0

    call_command("demo_data", *small, "--reset")
    assert "ready" in capsys.readouterr().out
    assert Campaign.objects.get(slug="demo").pk != campaign.pk

    call_command("demo_data", "--delete")
    assert not Campaign.objects.filter(slug="demo").exists()
    with pytest.raises(SystemExit) as exit_status:
        call_command("demo_data", "--exists")
    assert exit_status.value.code == 1


@pytest.mark.django_db(transaction=True)
def test_demo_data_prints_accounts_that_log_in(tmp_path, capsys, client):
    call_command("demo_data", "--tasks", "1", "--episodes", "2", "--workdir", str(tmp_path / "f"))
    capsys.readouterr()
    call_command("demo_data", "--accounts", "--url", "http://127.0.0.1:8000/")
    out = capsys.readouterr().out
    assert "log in at http://127.0.0.1:8000/" in out
    rows = parse_accounts(out)
    assert [row[:2] for row in rows] == [["organizer", "organizer"]] + [
        ["annotator", f"annotator{n}"] for n in range(1, 7)
    ]
    for role, username, password, to_rate in rows:
        response = client.post("/accounts/login/", {"username": username, "password": password})
        assert response.status_code == 302, username  # signed in, sent on; a failure is a 200
        client.logout()
        if role == "annotator":
            open_work = Assignment.objects.filter(annotator__username=username).exclude(
                status=Assignment.Status.DONE
            )
            assert to_rate == str(open_work.count())
    # annotator1's queue is left to try the rating page; the others are rated.
    assert int(rows[1][3]) > 0 and {row[3] for row in rows[2:]} == {"0"}

    # An account whose password was changed is no longer printed as a demo account.
    user = get_user_model().objects.get(username="annotator2")
    user.set_password("changed-by-someone")
    user.save()
    call_command("demo_data", "--accounts")
    assert "annotator2" not in capsys.readouterr().out


@pytest.mark.django_db
def test_demo_data_refuses_a_slug_that_is_not_a_folder_name(tmp_path):
    with pytest.raises(CommandError, match="--slug must be letters"):
        call_command("demo_data", "--slug", "../escape", "--tasks", "1", "--episodes", "1")
    assert not Campaign.objects.exists()
    assert not list(Path(settings.VAR_DIR).parent.glob("escape*"))


@pytest.mark.django_db
def test_demo_accounts_before_any_demo_is_a_clear_error():
    with pytest.raises(CommandError, match="run demo_data first"):
        call_command("demo_data", "--accounts")
