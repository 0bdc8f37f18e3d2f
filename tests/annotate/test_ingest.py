from __future__ import annotations

import zipfile
from pathlib import Path

import av
import numpy as np
import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from annotate.models import Clip, Episode, MediaAsset, Submission, Task
from annotate.notice_text import text
from annotate.services import ImportRefused, reference_import, submission_import
from tests.videos import (
    rotate_video,
    write_audio_only,
    write_raw_avi,
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


def said(notes) -> dict[str, str]:
    """(name, notice) pairs of a report, as an English reader reads them."""
    return {name: text(reason) for name, reason in notes}


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
    skipped = said(report.skipped)
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

    reasons = said(report.rejected)
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
    with pytest.raises(ImportRefused, match="no file was accepted") as refused:
        submission_import(campaign=reference, team_name="t", path=tmp_path / "sub")
    assert refused.value.report.accepted == []
    assert said(refused.value.report.rejected)["task1/episode_0.mp4"] == "no frames"


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

    report = submission_import(
        campaign=reference, team_name="dynamo", path=tmp_path / "v2", allow_drop=True
    )

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


# --- what the probe refuses, and what the served copy is -----------------------------


def write_image(path: Path, image_format: str) -> Path:
    """A still image under a video's name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (144, 48), (200, 30, 30)).save(path, format=image_format)
    return path


@pytest.mark.parametrize(("image_format", "ffmpeg_name"), [("PNG", "png"), ("JPEG", "jpeg")])
def test_an_image_named_mp4_is_no_clip_and_no_camera(
    reference, tmp_path, image_format, ffmpeg_name
):
    write_video(tmp_path / "sub/task1/episode_0.mp4", width=144, height=48)
    write_image(tmp_path / "sub/task1/episode_1.mp4", image_format)
    cameras = write_reference_tree(tmp_path / "cameras", "per_episode", episodes=(0, 1))
    write_image(cameras / "task1/episode_1/cam_left_wrist.mp4", image_format)

    clips = submission_import(campaign=reference, team_name="t", path=tmp_path / "sub")
    references = reference_import(campaign=reference, path=cameras)

    reason = said(clips.rejected)["task1/episode_1.mp4"]
    assert reason.startswith(f"not a video container: FFmpeg reads it as {ffmpeg_name}_pipe")
    assert "(an image)" in reason
    assert clips.accepted == ["task1/episode_0"] and references.accepted == ["task1/episode_0"]
    ((name, camera_reason),) = references.rejected
    assert "task1/episode_1/cam_left_wrist.mp4" in name
    assert text(camera_reason).startswith(
        "task1/episode_1/cam_left_wrist.mp4: not a video container"
    )


def test_a_one_frame_video_is_refused(reference, tmp_path):
    write_video(tmp_path / "sub/task1/episode_0.mp4", width=144, height=48)
    write_video(tmp_path / "sub/task1/episode_1.mp4", width=144, height=48, frames=1)
    report = submission_import(campaign=reference, team_name="t", path=tmp_path / "sub")
    assert said(report.rejected) == {
        "task1/episode_1.mp4": "a single frame: a still image, not a video"
    }


@pytest.mark.parametrize(("width", "height"), [(1, 1), (15, 240), (320, 2)])
def test_frames_under_the_minimum_size_are_refused_at_the_probe(
    reference, tmp_path, settings, width, height
):
    write_video(tmp_path / "sub/task1/episode_0.mp4", width=144, height=48)
    write_raw_avi(tmp_path / "sub/task1/episode_1.avi", width=width, height=height)

    report = submission_import(campaign=reference, team_name="t", path=tmp_path / "sub")

    assert said(report.rejected) == {
        "task1/episode_1.avi": f"declared resolution {width}x{height} is under the minimum "
        "of 16x16 pixels"
    }
    assert report.accepted == ["task1/episode_0"]
    assert set(MediaAsset.objects.values_list("status", flat=True)) == {MediaAsset.Status.READY}
    assert not MediaAsset.objects.filter(width__lt=16).exists()


def test_the_smallest_accepted_frame_is_served(reference, tmp_path):
    write_raw_avi(tmp_path / "sub/task1/episode_0.avi", width=16, height=16)
    report = submission_import(campaign=reference, team_name="t", path=tmp_path / "sub")
    asset = Clip.objects.get().asset
    assert report.accepted == ["task1/episode_0"]
    assert (asset.status, asset.width, asset.height) == (MediaAsset.Status.READY, 16, 16)


def served(asset: MediaAsset, settings) -> tuple[int, int, float, int, np.ndarray, int]:
    """Width, height, rate, frames, first picture and rotation, read from the served file."""
    with av.open(str(Path(settings.MEDIA_ROOT) / asset.playable)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        first = frames[0]
        return (
            first.width,
            first.height,
            float(stream.average_rate),
            len(frames),
            first.to_ndarray(format="rgb24"),
            int(first.rotation or 0),
        )


def test_the_asset_describes_the_served_file_of_odd_size(reference, tmp_path, settings):
    write_raw_avi(tmp_path / "sub/task1/episode_0.avi", width=673, height=225, frames=6)

    submission_import(campaign=reference, team_name="t", path=tmp_path / "sub")

    asset = Clip.objects.get().asset
    width, height, fps, frames, _, _ = served(asset, settings)
    # H.264 in yuv420p needs even sides: the copy loses a column and a row, and says so.
    assert (width, height, frames) == (672, 224, 6)
    assert (asset.width, asset.height, asset.fps, asset.frame_count) == (width, height, fps, 6)


def test_a_rotation_is_applied_to_the_served_copy(reference, tmp_path, settings):
    upload = write_video(tmp_path / "sub/task1/episode_0.mp4", width=144, height=48)
    with av.open(str(upload)) as container:
        upright = next(container.decode(video=0)).to_ndarray(format="rgb24")
    rotate_video(upload, 90)

    submission_import(campaign=reference, team_name="t", path=tmp_path / "sub")

    asset = Clip.objects.get().asset
    width, height, _, _, picture, rotation = served(asset, settings)
    assert (width, height, rotation) == (48, 144, 0)
    assert (asset.width, asset.height) == (48, 144)
    # Turned a quarter counterclockwise, as a player shows the display matrix.
    error = np.abs(picture.astype(int) - np.rot90(upright).astype(int)).mean()
    assert error < 4, error


def write_counting_camera(path: Path, *, fps: int, seconds: int, step: int) -> Path:
    """A grey camera whose brightness counts its frames: frame i is i * step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        stream.options = {"preset": "ultrafast", "qp": "0"}
        for index in range(fps * seconds):
            image = np.full((32, 32, 3), index * step, np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    return path


def test_cameras_with_different_rates_are_composited_on_their_timestamps(
    campaign, tmp_path, settings
):
    root = tmp_path / "ref/task1/episode_0"
    write_counting_camera(root / "cam_high.mp4", fps=10, seconds=3, step=8)
    write_counting_camera(root / "cam_left_wrist.mp4", fps=30, seconds=3, step=2)
    write_counting_camera(root / "cam_right_wrist.mp4", fps=10, seconds=3, step=8)

    reference_import(campaign=campaign, path=tmp_path / "ref")

    asset = Episode.objects.get().reference
    # Three seconds at the fastest camera's rate, not 90 frames at the first camera's 10 fps.
    assert (asset.fps, asset.frame_count, asset.duration_s) == (30.0, 90, 3.0)
    with av.open(str(Path(settings.MEDIA_ROOT) / asset.playable)) as container:
        rows = [
            f.to_ndarray(format="rgb24")[16, :, 0].astype(int) for f in container.decode(video=0)
        ]
    for index in (0, 1, 2, 3, 44, 45, 89):
        slow, fast = rows[index][16], rows[index][48]
        assert abs(slow - index // 3 * 8) <= 3 and abs(fast - index * 2) <= 3, (index, slow, fast)


def test_cameras_too_wide_side_by_side_are_refused_before_compositing(campaign, tmp_path):
    root = tmp_path / "ref/task1/episode_0"
    for camera in ("cam_high", "cam_left_wrist", "cam_right_wrist"):
        write_raw_avi(root / f"{camera}.avi", width=4000, height=16, frames=2)
    write_video(tmp_path / "ref/task1/episode_1.mp4", width=144, height=48)

    report = reference_import(campaign=campaign, path=tmp_path / "ref")

    ((names, reason),) = report.rejected
    assert names.count("cam_") == 3
    assert text(reason).startswith("side-by-side composite resolution 12000x16 is over the limit")
    assert report.accepted == ["task1/episode_1"]
