from __future__ import annotations

import zipfile
from pathlib import Path

import av
import pytest
from django.core.management import CommandError, call_command

from annotate.models import Clip, Episode, MediaAsset, Submission, Task
from annotate.services import ImportRefused, reference_import, submission_import
from tests.videos import (
    write_audio_only,
    write_reference_tree,
    write_submission_tree,
    write_video,
    write_zero_frames,
)

# Real commits, so that the on-commit media tasks run as they do in production.
pytestmark = pytest.mark.django_db(transaction=True)


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.parametrize("layout", ["single", "per_episode", "training"])
def test_each_reference_layout_is_accepted(campaign, tmp_path, settings, layout):
    write_reference_tree(tmp_path / "ref", layout, tasks=(1, 2), episodes=(0, 1))

    report = reference_import(campaign=campaign, path=tmp_path / "ref")

    assert sorted(report.accepted) == [
        "task1/episode_0",
        "task1/episode_1",
        "task2/episode_0",
        "task2/episode_1",
    ]
    assert report.rejected == []
    assert list(Task.objects.values_list("key", flat=True)) == ["task1", "task2"]
    episode = Episode.objects.get(task__key="task2", key="episode_1")
    # Three 48x48 cameras are composited into one 144x48 clip, like the teams' clips.
    assert (episode.reference.width, episode.reference.height) == (144, 48)
    assert episode.reference.views == 3
    assert episode.reference.status == MediaAsset.Status.READY
    assert (Path(settings.MEDIA_ROOT) / episode.reference.poster).exists()


def test_cameras_are_composited_in_the_fixed_camera_order(campaign, tmp_path, settings):
    root = tmp_path / "ref"
    # Solid colours per camera make the order visible in the composite.
    colours = {
        "cam_right_wrist": (0, 0, 255),
        "cam_high": (255, 0, 0),
        "cam_left_wrist": (0, 255, 0),
    }
    for camera, colour in colours.items():
        path = root / f"task1/videos/{camera}/episode_0.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        with av.open(str(path), "w") as out:
            stream = out.add_stream("libx264", rate=12)
            stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
            import numpy as np

            image = np.zeros((32, 32, 3), np.uint8)
            image[:] = colour
            for _ in range(4):
                out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
            out.mux(stream.encode())

    reference_import(campaign=campaign, path=root)

    asset = Episode.objects.get().reference
    with av.open(str(Path(settings.MEDIA_ROOT) / asset.playable)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    dominant = [int(frame[16, 16 + 32 * view].argmax()) for view in range(3)]
    assert dominant == [0, 1, 2]  # cam_high red, left wrist green, right wrist blue


def test_submission_with_split_folder_skips_debug_hidden_and_non_videos(campaign, tmp_path):
    write_reference_tree(tmp_path / "ref", "single", episodes=(0, 1, 2))
    reference_import(campaign=campaign, path=tmp_path / "ref")
    sub = write_submission_tree(tmp_path / "sub", episodes=(0, 1))
    write_video(sub / "test/task1/concat_episode_0.mp4")
    (sub / "test/task1/.DS_Store").write_bytes(b"\0\0")
    (sub / "test/task1/notes.txt").write_text("hello")

    report = submission_import(campaign=campaign, team_name="aurora", path=sub)

    assert sorted(report.accepted) == ["task1/episode_0", "task1/episode_1"]
    skipped = dict(report.skipped)
    assert skipped["test/task1/concat_episode_0.mp4"].startswith("debug file")
    assert skipped["test/task1/.DS_Store"] == "hidden file"
    assert skipped["test/task1/notes.txt"] == "not a video"
    assert Clip.objects.count() == 2


def test_a_file_in_a_browser_unfriendly_codec_gets_a_playable_derivative(
    campaign, tmp_path, settings
):
    write_reference_tree(tmp_path / "ref", "single", episodes=(0,))
    reference_import(campaign=campaign, path=tmp_path / "ref")
    write_video(tmp_path / "sub/task1/episode_0.mp4", codec="mpeg4", width=144, height=48)

    submission_import(campaign=campaign, team_name="aurora", path=tmp_path / "sub")

    asset = Clip.objects.get().asset
    assert asset.codec == "mpeg4" and asset.playable != asset.original
    with av.open(str(Path(settings.MEDIA_ROOT) / asset.playable)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.codec_context.pix_fmt) == ("h264", "yuv420p")
    from annotate.media import moov_before_mdat

    assert moov_before_mdat(Path(settings.MEDIA_ROOT) / asset.playable)


@pytest.fixture
def reference(campaign, tmp_path):
    write_reference_tree(tmp_path / "ref", "single", episodes=(0, 1, 2, 3, 4, 5))
    reference_import(campaign=campaign, path=tmp_path / "ref")
    return campaign


def test_every_rejection_reason_is_reported(reference, tmp_path, settings):
    sub = tmp_path / "sub/task1"
    sub.mkdir(parents=True)
    (sub / "episode_0.mp4").write_text("this is not a video")
    write_audio_only(sub / "episode_1.mp4")
    write_zero_frames(sub / "episode_2.mp4")
    write_video(sub / "episode_3.mp4", frames=60, fps=12)  # 5 s
    write_video(sub / "episode_4.mp4", width=640, height=480, frames=4)
    write_video(sub / "episode_5.mp4")
    write_video(sub / "episode_99.mp4")
    good = (sub / "episode_5.mp4").stat().st_size
    settings.INGEST_MAX_DURATION_S = 4.0
    settings.INGEST_MAX_FILE_BYTES = max(good * 3, (sub / "episode_3.mp4").stat().st_size + 1)
    assert (sub / "episode_4.mp4").stat().st_size > settings.INGEST_MAX_FILE_BYTES

    report = submission_import(campaign=reference, team_name="borealis", path=tmp_path / "sub")

    reasons = dict(report.rejected)
    assert report.accepted == ["task1/episode_5"]
    assert reasons["task1/episode_0.mp4"].startswith("does not decode")
    assert reasons["task1/episode_1.mp4"] == "no video stream"
    assert reasons["task1/episode_2.mp4"] == "no frames"
    assert "over the limit of 4 s" in reasons["task1/episode_3.mp4"]
    assert "bytes, over the limit" in reasons["task1/episode_4.mp4"]
    assert (
        reasons["task1/episode_99.mp4"] == "no reference episode task1/episode_99 in this campaign"
    )


def test_zero_frame_video_is_refused_as_such(reference, tmp_path):
    write_zero_frames(tmp_path / "sub/task1/episode_0.mp4")
    report = submission_import(campaign=reference, team_name="t", path=tmp_path / "sub")
    assert report.accepted == []
    assert dict(report.rejected)["task1/episode_0.mp4"] == "no frames"


def test_strict_import_with_a_rejection_writes_nothing(reference, tmp_path, settings):
    write_submission_tree(tmp_path / "sub", episodes=(0, 1), split=None)
    (tmp_path / "sub/task1/episode_2.mp4").write_text("broken")
    before = stored_files(settings)

    with pytest.raises(ImportRefused, match="strict import wrote nothing") as refused:
        submission_import(
            campaign=reference, team_name="cirrus", path=tmp_path / "sub", strict=True
        )

    assert len(refused.value.report.rejected) == 1
    assert Submission.objects.count() == 0 and Clip.objects.count() == 0
    assert stored_files(settings) == before


def test_non_strict_import_keeps_the_good_files(reference, tmp_path):
    write_submission_tree(tmp_path / "sub", episodes=(0, 1), split=None)
    (tmp_path / "sub/task1/episode_2.mp4").write_text("broken")
    report = submission_import(campaign=reference, team_name="cirrus", path=tmp_path / "sub")
    assert len(report.accepted) == 2 and len(report.rejected) == 1
    assert Submission.objects.get().report["rejected"][0]["file"] == "task1/episode_2.mp4"


def test_reimport_creates_a_new_version_and_keeps_the_old(reference, tmp_path):
    write_submission_tree(tmp_path / "v1", episodes=(0, 1), seed=1)
    write_submission_tree(tmp_path / "v2", episodes=(0,), seed=2)
    submission_import(campaign=reference, team_name="dynamo", path=tmp_path / "v1")

    report = submission_import(campaign=reference, team_name="dynamo", path=tmp_path / "v2")

    assert report.submission_version == 2
    versions = Submission.objects.filter(team__name="dynamo").order_by("version")
    assert [s.clips.count() for s in versions] == [2, 1]
    from annotate.selectors import current_clips

    assert [c.submission.version for c in current_clips(campaign=reference)] == [2]


def zip_folder(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return target


def test_zip_upload_is_imported(reference, tmp_path):
    write_submission_tree(tmp_path / "sub", episodes=(0, 1, 2))
    report = submission_import(
        campaign=reference, team_name="t", path=zip_folder(tmp_path / "sub", tmp_path / "s.zip")
    )
    assert len(report.accepted) == 3


@pytest.mark.parametrize(
    ("member", "message"),
    [
        ("../../escape.mp4", "path escapes the archive"),
        ("/abs/task1/episode_0.mp4", "absolute path"),
    ],
)
def test_zip_with_unsafe_paths_is_refused_with_nothing_written(
    reference, tmp_path, settings, member, message
):
    good = write_video(tmp_path / "good.mp4")
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(good, "task1/episode_0.mp4")
        out.writestr(
            zipfile.ZipInfo(member), good.read_bytes()
        )  # ZipFile.write would strip a leading "/"
    before = stored_files(settings)

    with pytest.raises(ImportRefused, match=message):
        submission_import(campaign=reference, team_name="evil", path=archive)

    assert Submission.objects.count() == 0 and stored_files(settings) == before
    assert not (tmp_path.parent / "escape.mp4").exists()


def test_zip_with_a_link_is_refused(reference, tmp_path):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as out:
        info = zipfile.ZipInfo("task1/episode_0.mp4")
        info.external_attr = 0o120777 << 16
        out.writestr(info, "/etc/passwd")
    with pytest.raises(ImportRefused, match="link in archive"):
        submission_import(campaign=reference, team_name="t", path=archive)


def test_decompression_bomb_is_refused_before_extraction(reference, tmp_path, settings):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("task1/episode_0.mp4", b"\0" * (20 * 1024 * 1024))
    settings.INGEST_MAX_ARCHIVE_BYTES = 10 * 1024 * 1024

    with pytest.raises(ImportRefused, match="over the limit"):
        submission_import(campaign=reference, team_name="t", path=archive)
    settings.INGEST_MAX_ARCHIVE_BYTES = 1024**3
    with pytest.raises(ImportRefused, match="decompression bomb"):
        submission_import(campaign=reference, team_name="t", path=archive)
    assert Submission.objects.count() == 0


def test_commands_import_and_report(reference, tmp_path, capsys):
    write_submission_tree(tmp_path / "sub", episodes=(0,))
    (tmp_path / "sub/test/task1/episode_1.mp4").write_text("x")
    call_command("import_submission", "cvpr", "aurora", str(tmp_path / "sub"), verbosity=0)
    out = capsys.readouterr().out
    assert "accepted 1" in out and "rejected test/task1/episode_1.mp4: does not decode" in out

    with pytest.raises(CommandError, match="strict import wrote nothing"):
        call_command(
            "import_submission", "cvpr", "aurora", str(tmp_path / "sub"), "--strict", verbosity=0
        )
    with pytest.raises(CommandError, match="no campaign"):
        call_command("import_reference", "nope", str(tmp_path / "sub"), verbosity=0)
