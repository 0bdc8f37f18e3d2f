from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from evaluation.judges import video
from evaluation.judges.video import TIME_TOLERANCE, ClipDecodeError, decode_clip, views_in_layout
from tests.judges.clips import moving_square_scene, write_clip


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [(672, 224, 3), (448, 224, 2), (224, 224, 1), (640, 480, 1), (1280, 720, 1), (675, 224, 3)],
)
def test_views_follow_the_aspect_ratio(width: int, height: int, expected: int) -> None:
    assert views_in_layout(width=width, height=height) == expected


def test_forced_views_override_the_layout() -> None:
    assert views_in_layout(width=640, height=480, forced=2) == 2
    with pytest.raises(ClipDecodeError, match="cannot split"):
        views_in_layout(width=64, height=64, forced=0)


def _square_position(clip_frames: np.ndarray) -> list[float]:
    """Horizontal position (view fraction) of the bright square in each time bin of view 0."""
    gray = clip_frames[0].mean(axis=1)
    size = gray.shape[-1]
    positions = []
    for image in gray:
        columns = np.nonzero(image > 0.6)[1]
        positions.append(float(columns.mean()) / size)
    return positions


def test_clips_of_different_lengths_land_on_one_time_base(tmp_path: Path) -> None:
    scene = moving_square_scene(width=96, height=32)
    short = decode_clip(write_clip(tmp_path / "short.mp4", frame_at=scene, frames=20), time_bins=16)
    long = decode_clip(
        write_clip(tmp_path / "long.mp4", frame_at=scene, frames=160, fps=48), time_bins=16
    )
    assert (short.frame_count, long.frame_count) == (20, 160)
    assert short.views == long.views == 3
    assert short.frames.shape == long.frames.shape == (3, 16, 3, 64, 64)
    short_path, long_path = _square_position(short.frames), _square_position(long.frames)
    assert np.allclose(short_path, long_path, atol=0.05)
    assert short_path[0] < 0.25 < 0.6 < short_path[-1]  # the square crosses from left to right


def test_reversed_motion_is_seen_reversed(tmp_path: Path) -> None:
    forward = decode_clip(
        write_clip(tmp_path / "f.mp4", frame_at=moving_square_scene(), frames=24), time_bins=8
    )
    backward = decode_clip(
        write_clip(tmp_path / "b.mp4", frame_at=moving_square_scene(reverse=True), frames=24),
        time_bins=8,
    )
    assert np.allclose(
        _square_position(forward.frames), _square_position(backward.frames)[::-1], atol=0.06
    )
    assert np.abs(forward.first - backward.last).mean() < 0.02


def test_memory_does_not_grow_with_clip_length(tmp_path: Path) -> None:
    scene = moving_square_scene(width=192, height=64)
    peaks = {}
    for frames in (40, 640):
        path = write_clip(tmp_path / f"c{frames}.mp4", frame_at=scene, frames=frames)
        video._workspace.bins = None  # count the bins' arrays, which a thread reuses, every time
        tracemalloc.start()
        samples = decode_clip(path, size=32, time_bins=16)
        peaks[frames] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert samples.frame_count == frames
        assert samples.frames.shape == (3, 16, 3, 32, 32)
    # 16x more frames; the peak is the fixed working set plus noise.
    assert peaks[640] < 1.25 * peaks[40]


def test_undecodable_files_raise_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 100)
    with pytest.raises(ClipDecodeError, match="junk.mp4"):
        decode_clip(junk)
    with pytest.raises(ClipDecodeError, match="no such file"):
        decode_clip(tmp_path / "absent.mp4")
    two = write_clip(tmp_path / "two.mp4", frame_at=moving_square_scene(), frames=2)
    with pytest.raises(ClipDecodeError, match="at least 3"):
        decode_clip(two)


def _all_frames(path: Path, *, size: int, views: int) -> np.ndarray:
    """Every frame, shrunk as the decoder shrinks it: (frames, views, 3, size, size), 8-bit."""
    import av
    from av.video.reformatter import VideoReformatter

    frames = []
    with av.open(str(path)) as container:
        reformatter = VideoReformatter()
        for frame in container.decode(container.streams.video[0]):
            image = reformatter.reformat(
                frame, width=views * size, height=size, format="rgb24", interpolation="AREA"
            ).to_ndarray()
            frames.append(image.reshape(size, views, size, 3).transpose(1, 3, 0, 2))
    return np.stack(frames)


@pytest.mark.parametrize("frames", [20, 150])
def test_frame_ranges_hold_every_frame_near_each_part(tmp_path: Path, frames: int) -> None:
    # 150 frames fill the bins and merge them twice; 20 do not.
    path = write_clip(
        tmp_path / "c.mp4", frame_at=moving_square_scene(width=96, height=32), frames=frames
    )
    samples = decode_clip(path, size=16, time_bins=32)
    every = _all_frames(path, size=16, views=3)
    parts = samples.range_low.shape[1]
    assert parts == video.RANGE_BINS
    # Independently: frame i covers [i/N, (i+1)/N]; a part's frames overlap its interval,
    # and its envelope's frames overlap that interval widened by the tolerance.
    for part in range(parts):
        start, stop = part / parts, (part + 1) / parts
        own = [i for i in range(frames) if (i + 1) / frames > start and i / frames < stop]
        near = [
            i
            for i in range(frames)
            if (i + 1) / frames > start - TIME_TOLERANCE and i / frames < stop + TIME_TOLERANCE
        ]
        # The bins hold whole groups of frames: after merging, a window may take in the
        # rest of a bin it overlaps, never less than its frames.
        assert (samples.range_low[:, part] <= every[own].min(axis=0)).all()
        assert (samples.range_high[:, part] >= every[own].max(axis=0)).all()
        assert (samples.envelope_low[:, part] <= every[near].min(axis=0)).all()
        assert (samples.envelope_high[:, part] >= every[near].max(axis=0)).all()
        # ... and no more than the bins those frames are in (4 frames each after merging).
        width = 1 if frames <= 2 * 32 else 4
        wider = [i for i in range(frames) if own[0] // width <= i // width <= own[-1] // width]
        assert (samples.range_low[:, part] >= every[wider].min(axis=0)).all()
        if frames <= 2 * 32:  # one frame per bin: exactly those frames
            assert np.array_equal(samples.range_low[:, part], every[own].min(axis=0))
            assert np.array_equal(samples.envelope_high[:, part], every[near].max(axis=0))
