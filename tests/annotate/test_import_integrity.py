"""Imports that cannot lose data: no empty or clip-dropping version becomes rated unseen, a
rated reference is never swapped, odd archives and names are refused by name, and every
import job ends."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from annotate.models import (
    Episode,
    ImportJob,
    Rating,
    ReferenceReplacement,
    Submission,
    Team,
)
from annotate.notice_text import text
from annotate.selectors import current_clips
from annotate.services import (
    ImportRefused,
    import_job_run,
    reference_import,
    submission_confirm,
    submission_import,
)
from tests.factories import AssignmentFactory, RatingFactory, UserFactory
from tests.videos import write_reference_tree, write_submission_tree, write_video

# Real commits, so that on-commit work (media preparation, import jobs) runs as in production.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def reference(campaign, tmp_path):
    write_reference_tree(tmp_path / "ref", "single", episodes=(0, 1, 2))
    reference_import(campaign=campaign, path=tmp_path / "ref")
    return campaign


def said(notes) -> dict[str, str]:
    """(name, notice) pairs of a report, as an English reader reads them."""
    return {name: text(reason) for name, reason in notes}


def rated_keys(campaign) -> dict[str, list[str]]:
    """Team name to the episodes of its rated clips."""
    keys: dict[str, list[str]] = {}
    for clip in current_clips(campaign=campaign).order_by("episode__number"):
        keys.setdefault(clip.submission.team.name, []).append(str(clip.episode))
    return keys


def uploads_left(settings) -> list[Path]:
    folder = Path(settings.VAR_DIR) / "uploads"
    return list(folder.iterdir()) if folder.exists() else []


def zip_of(target: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return target


ALL_THREE = ["task1/episode_0", "task1/episode_1", "task1/episode_2"]


# --- an import that accepts nothing, or drops clips -------------------------------------


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("contents", ["debug_only", "non_videos_only", "empty"])
def test_an_import_that_accepts_no_clip_creates_no_version(reference, tmp_path, contents, strict):
    write_submission_tree(tmp_path / "v1", episodes=(0, 1, 2))
    submission_import(campaign=reference, team_name="aurora", path=tmp_path / "v1")
    clip = write_video(tmp_path / "clip.mp4").read_bytes()
    members = {
        "debug_only": {"test/task1/concat_episode_0.mp4": clip},
        "non_videos_only": {"test/task1/notes.txt": b"hello", "README.md": b"# clips"},
        "empty": {},
    }[contents]
    archive = zip_of(tmp_path / "upload.zip", members)

    with pytest.raises(ImportRefused, match="no file was accepted; nothing was written") as refused:
        submission_import(campaign=reference, team_name="aurora", path=archive, strict=strict)

    assert refused.value.report.submission_version is None
    assert list(Submission.objects.values_list("version", flat=True)) == [1]
    assert rated_keys(reference) == {"aurora": ALL_THREE}


def test_a_version_that_drops_clips_waits_for_the_organizers_confirmation(reference, tmp_path):
    write_submission_tree(tmp_path / "v1", episodes=(0, 1, 2), seed=1)
    write_submission_tree(tmp_path / "v2", episodes=(1,), seed=2)
    submission_import(campaign=reference, team_name="aurora", path=tmp_path / "v1")

    report = submission_import(campaign=reference, team_name="aurora", path=tmp_path / "v2")

    assert (report.submission_version, report.awaiting_confirmation) == (2, True)
    assert report.dropped == ["task1/episode_0", "task1/episode_2"]
    assert rated_keys(reference) == {"aurora": ALL_THREE}  # version 1 is still the rated one
    v2 = Submission.objects.get(version=2)
    assert v2.report["dropped"] == report.dropped

    submission_confirm(submission=v2)

    assert rated_keys(reference) == {"aurora": ["task1/episode_1"]}
    with pytest.raises(ImportRefused, match="not awaiting confirmation"):
        submission_confirm(submission=v2)


def test_allow_drop_rates_the_new_version_at_once_and_adding_clips_needs_nothing(
    reference, tmp_path
):
    write_submission_tree(tmp_path / "one", episodes=(0,), seed=1)
    write_submission_tree(tmp_path / "two", episodes=(0, 1), seed=2)
    write_submission_tree(tmp_path / "other", episodes=(2,), seed=3)
    submission_import(campaign=reference, team_name="aurora", path=tmp_path / "one")

    grown = submission_import(campaign=reference, team_name="aurora", path=tmp_path / "two")
    assert (grown.dropped, grown.awaiting_confirmation) == ([], False)
    assert rated_keys(reference) == {"aurora": ["task1/episode_0", "task1/episode_1"]}

    report = submission_import(
        campaign=reference, team_name="aurora", path=tmp_path / "other", allow_drop=True
    )
    assert report.dropped == ["task1/episode_0", "task1/episode_1"]
    assert not report.awaiting_confirmation
    assert rated_keys(reference) == {"aurora": ["task1/episode_2"]}


def test_a_pending_version_overtaken_by_a_newer_rated_one_cannot_be_confirmed(reference, tmp_path):
    write_submission_tree(tmp_path / "v1", episodes=(0, 1), seed=1)
    write_submission_tree(tmp_path / "v2", episodes=(0,), seed=2)
    write_submission_tree(tmp_path / "v3", episodes=(0, 1, 2), seed=3)
    for folder in ("v1", "v2", "v3"):
        submission_import(campaign=reference, team_name="aurora", path=tmp_path / folder)
    with pytest.raises(ImportRefused, match="version 3 is newer"):
        submission_confirm(submission=Submission.objects.get(version=2))
    assert rated_keys(reference) == {"aurora": ALL_THREE}


def test_commands_report_drops_confirm_them_and_say_when_nothing_was_written(
    reference, tmp_path, capsys
):
    write_submission_tree(tmp_path / "v1", episodes=(0, 1), seed=1)
    write_submission_tree(tmp_path / "v2", episodes=(0,), seed=2)
    (tmp_path / "v2/test/task1/episode_2.mp4").write_text("broken")
    call_command("import_submission", "cvpr", "aurora", str(tmp_path / "v1"), verbosity=0)
    capsys.readouterr()

    with pytest.raises(CommandError, match="strict import wrote nothing"):
        call_command(
            "import_submission", "cvpr", "aurora", str(tmp_path / "v2"), "--strict", verbosity=0
        )
    out = capsys.readouterr().out
    assert "nothing was written" in out and "submission version" not in out
    assert Submission.objects.count() == 1

    call_command("import_submission", "cvpr", "aurora", str(tmp_path / "v2"), verbosity=0)
    out = capsys.readouterr().out
    assert "submission version 2" in out
    assert "drops 1 episode(s) of the rated one and waits for confirmation" in out
    assert "task1/episode_1" in out
    assert rated_keys(reference) == {"aurora": ["task1/episode_0", "task1/episode_1"]}

    call_command("submission_confirm", "cvpr", "aurora", "2", verbosity=0)
    assert "aurora v2 is now the rated version; dropped: task1/episode_1" in capsys.readouterr().out
    assert rated_keys(reference) == {"aurora": ["task1/episode_0"]}

    call_command(
        "import_submission", "cvpr", "aurora", str(tmp_path / "v1"), "--allow-drop", verbosity=0
    )
    assert rated_keys(reference) == {"aurora": ["task1/episode_0", "task1/episode_1"]}


def test_the_campaign_page_and_the_api_show_and_confirm_a_dropping_version(
    reference, tmp_path, staff_client, staff_api
):
    write_submission_tree(tmp_path / "v1", episodes=(0, 1), seed=1)
    write_submission_tree(tmp_path / "v2", episodes=(0,), seed=2)
    write_submission_tree(tmp_path / "v3", episodes=(1,), seed=3)
    for folder in ("v1", "v2"):
        submission_import(campaign=reference, team_name="aurora", path=tmp_path / folder)
    v2 = Submission.objects.get(version=2)

    page = staff_client.get("/organize/cvpr/").content.decode()
    assert "aurora v2</strong> drops 1 episode(s)" in page and "task1/episode_1" in page
    staff_client.post(f"/organize/cvpr/submissions/{v2.pk}/confirm")
    assert rated_keys(reference) == {"aurora": ["task1/episode_0"]}

    submission_import(campaign=reference, team_name="aurora", path=tmp_path / "v3")
    v3 = Submission.objects.get(version=3)
    response = staff_api.post(f"/api/campaigns/cvpr/submissions/{v3.pk}/confirm/")
    assert response.status_code == 200
    assert response.json()["dropped"] == ["task1/episode_0"]
    assert rated_keys(reference) == {"aurora": ["task1/episode_1"]}
    again = staff_api.post(f"/api/campaigns/cvpr/submissions/{v3.pk}/confirm/")
    assert again.status_code == 400 and "not awaiting confirmation" in again.json()["detail"]


# --- references of rated episodes ---------------------------------------------------------


def test_a_rated_reference_is_not_replaced_and_an_unrated_one_is_kept_in_history(
    campaign, tmp_path
):
    write_reference_tree(tmp_path / "ref", "single", episodes=(0, 1))
    write_reference_tree(tmp_path / "new", "single", episodes=(0, 1), frames=13)
    reference_import(campaign=campaign, path=tmp_path / "ref")
    write_submission_tree(tmp_path / "sub", episodes=(0,))
    submission_import(campaign=campaign, team_name="aurora", path=tmp_path / "sub")
    clip = current_clips(campaign=campaign).get()
    for _ in range(2):
        RatingFactory(assignment=AssignmentFactory(clip=clip, annotator=UserFactory()))
    before = dict(Episode.objects.values_list("key", "reference__sha256"))

    report = reference_import(campaign=campaign, path=tmp_path / "new")

    assert said(report.rejected) == {
        "task1/episode_0.mp4": "task1/episode_0 already has 2 rating(s) made against its "
        "current reference, which is therefore not replaced"
    }
    assert report.accepted == ["task1/episode_1"]
    after = dict(Episode.objects.values_list("key", "reference__sha256"))
    assert after["episode_0"] == before["episode_0"]
    assert after["episode_1"] != before["episode_1"]
    [replaced] = report.replaced
    assert replaced[0] == "task1/episode_1" and before["episode_1"][:12] in text(replaced[1])
    history = ReferenceReplacement.objects.get()
    assert (history.previous.sha256, history.replaced_by.sha256) == (
        before["episode_1"],
        after["episode_1"],
    )
    assert Rating.objects.count() == 2

    # The same files again change nothing and are not a replacement.
    again = reference_import(campaign=campaign, path=tmp_path / "ref")
    assert again.rejected == [] and len(again.accepted) == 2
    assert ReferenceReplacement.objects.count() == 2  # episode_1 went back to its first file


# --- names -----------------------------------------------------------------------------------


def test_an_episode_given_twice_is_rejected_naming_both_files(reference, tmp_path):
    write_submission_tree(tmp_path / "sub", episodes=(0, 1), split="test")
    write_video(tmp_path / "sub/train/task1/episode_0.mp4", width=144, height=48, seed=9)

    report = submission_import(campaign=reference, team_name="aurora", path=tmp_path / "sub")

    reason = "task1/episode_0 is given more than once: test/task1/episode_0.mp4, train/task1/episode_0.mp4"
    assert said(report.rejected) == {
        "test/task1/episode_0.mp4": reason,
        "train/task1/episode_0.mp4": reason,
    }
    assert report.accepted == ["task1/episode_1"]


def test_a_reference_episode_in_two_layouts_is_rejected_naming_both_files(campaign, tmp_path):
    write_video(tmp_path / "ref/task1/episode_0/cam_high.mp4", seed=1)
    write_video(tmp_path / "ref/task1/videos/cam_high/episode_0.mp4", seed=2)
    write_video(tmp_path / "ref/task1/episode_1.mp4", seed=3)

    report = reference_import(campaign=campaign, path=tmp_path / "ref")

    names = {"task1/episode_0/cam_high.mp4", "task1/videos/cam_high/episode_0.mp4"}
    assert set(said(report.rejected)) == names
    assert all(
        text(reason).startswith("task1/episode_0 is given more than once: ")
        for _, reason in report.rejected
    )
    assert report.accepted == ["task1/episode_1"]


def test_a_path_longer_than_the_stored_name_is_rejected_by_name(reference, tmp_path):
    deep = "/".join(["d" * 100] * 3)
    write_video(tmp_path / f"sub/{deep}/task1/episode_0.mp4", width=144, height=48)
    write_video(tmp_path / "sub/task1/episode_1.mp4", width=144, height=48)

    report = submission_import(campaign=reference, team_name="aurora", path=tmp_path / "sub")

    assert said(report.rejected) == {
        f"{deep}/task1/episode_0.mp4": "path inside the upload has 322 characters, at most 255"
    }
    assert report.accepted == ["task1/episode_1"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("x" * 500, "a team name has at most 100 characters, this one has 500"),
        ("   ", "needs the team's name"),
        ("two\nlines", "control characters"),
    ],
)
def test_a_bad_team_name_is_refused_by_the_service_and_the_api(
    reference, tmp_path, staff_api, settings, name, message
):
    write_submission_tree(tmp_path / "sub", episodes=(0,))
    with pytest.raises(ImportRefused, match=message):
        submission_import(campaign=reference, team_name=name, path=tmp_path / "sub")

    archive = zip_of(tmp_path / "s.zip", {"task1/episode_0.mp4": b"x"})
    with open(archive, "rb") as upload:
        response = staff_api.post(
            "/api/campaigns/cvpr/imports/",
            {"kind": "submission", "team": name, "archive": upload},
            format="multipart",
        )
    assert response.status_code == 400 and message in str(response.json())
    assert not Team.objects.exists() and not ImportJob.objects.exists()
    assert uploads_left(settings) == []


# --- import jobs always end, and remove their upload ----------------------------------------


def post_import(staff_api, archive: Path, **fields):
    with open(archive, "rb") as upload:
        response = staff_api.post(
            "/api/campaigns/cvpr/imports/",
            {"kind": "submission", "team": "aurora", "archive": upload, **fields},
            format="multipart",
        )
    assert response.status_code == 202, response.content
    return ImportJob.objects.get(pk=response.json()["id"])


def test_a_job_with_a_bad_archive_ends_failed_naming_the_member(
    reference, tmp_path, staff_api, settings
):
    clip = write_video(tmp_path / "clip.mp4").read_bytes()
    archive = zip_of(tmp_path / "clash.zip", {"task1": b"x", "task1/episode_0.mp4": clip})

    job = post_import(staff_api, archive)

    assert job.status == ImportJob.Status.FAILED and job.finished_at is not None
    assert "task1 is both a file and the folder of task1/episode_0.mp4" in text(job.error)
    assert uploads_left(settings) == []
    assert not Submission.objects.exists()


def test_a_finished_job_keeps_its_report_and_removes_its_upload(
    reference, tmp_path, staff_api, settings
):
    write_submission_tree(tmp_path / "sub", episodes=(0, 1))
    archive = tmp_path / "sub.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted((tmp_path / "sub").rglob("*.mp4")):
            out.write(path, path.relative_to(tmp_path / "sub").as_posix())

    job = post_import(staff_api, archive)

    assert job.status == ImportJob.Status.DONE
    assert sorted(job.report["accepted"]) == ["task1/episode_0", "task1/episode_1"]
    assert uploads_left(settings) == []


def test_a_file_that_cannot_be_stored_is_rejected_and_the_job_ends(reference, tmp_path, settings):
    write_submission_tree(tmp_path / "sub", episodes=(0,))
    # Storage that cannot take a file: its root is a file.
    settings.MEDIA_ROOT = tmp_path / "not-a-folder"
    settings.MEDIA_ROOT.write_text("")
    job = ImportJob.objects.create(
        campaign=reference, kind="submission", team_name="aurora", source=str(tmp_path / "sub")
    )

    job = import_job_run(job_id=job.pk)

    assert job.status == ImportJob.Status.FAILED
    assert text(job.error) == "no file was accepted; nothing was written"
    [rejected] = job.report["rejected"]
    assert rejected["file"] == "test/task1/episode_0.mp4"
    assert text(rejected["reason"]).startswith("could not be processed")


def encrypted_zip(target: Path, clip: bytes) -> Path:
    """A zip whose member is marked encrypted: zipfile cannot extract it without a password."""
    zip_of(target, {"task1/episode_0.mp4": clip})
    data = bytearray(target.read_bytes())
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        data[at + flags_at] |= 0x01
    target.write_bytes(bytes(data))
    return target


def test_a_job_on_an_archive_zipfile_cannot_open_ends_failed_naming_the_member(
    reference, tmp_path, staff_api
):
    archive = encrypted_zip(tmp_path / "locked.zip", write_video(tmp_path / "c.mp4").read_bytes())

    job = post_import(staff_api, archive)

    assert job.status == ImportJob.Status.FAILED and job.finished_at is not None
    assert text(job.error) == "archive member task1/episode_0.mp4 is encrypted"
    assert not Submission.objects.exists()


def test_a_job_redelivered_after_its_worker_died_ends_failed(reference, tmp_path):
    write_submission_tree(tmp_path / "sub", episodes=(0,))
    job = ImportJob.objects.create(
        campaign=reference,
        kind="submission",
        team_name="aurora",
        source=str(tmp_path / "sub"),
        status=ImportJob.Status.RUNNING,
    )

    job = import_job_run(job_id=job.pk)

    assert job.status == ImportJob.Status.FAILED
    assert text(job.error) == "the worker running this import stopped; nothing was written"
    assert not Submission.objects.exists()


def test_a_failing_command_line_import_prints_an_error_and_writes_nothing(
    reference, tmp_path, settings
):
    clip = write_video(tmp_path / "clip.mp4").read_bytes()
    archive = zip_of(
        tmp_path / "long.zip",
        {"task1/episode_0.mp4": clip, f"{'y' * 300}/task1/episode_1.mp4": clip},
    )
    media_before = sorted(Path(settings.MEDIA_ROOT).rglob("*"))

    with pytest.raises(CommandError, match=r"name too long in archive: y{80}"):
        call_command("import_submission", "cvpr", "aurora", str(archive), verbosity=0)

    assert not Submission.objects.exists()
    assert sorted(Path(settings.MEDIA_ROOT).rglob("*")) == media_before
