from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from evaluation.judges import video
from evaluation.judges.video import TIME_TOLERANCE, ClipDecodeError, decode_clip, views_in_layout
from tests.judges.clips import decoding_working_set_mib, moving_square_scene, write_clip


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


def _square_position(clip_frames: torch.Tensor) -> list[float]:
    """Horizontal position (view fraction) of the bright square in each time bin of view 0."""
    gray = clip_frames[0].numpy().mean(axis=1)
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
    assert (forward.first - backward.last).abs().mean() < 0.02


@pytest.mark.parametrize("shrink", ["scaler", "planes"])
def test_memory_does_not_grow_with_clip_length(tmp_path: Path, shrink: str) -> None:
    # Keeping every frame of the long clip would take 1200 x 18 KiB (21 MiB) decoded, or
    # 1200 x 9 KiB (11 MiB) shrunk (the latter, tried, fails this test: 4.7 and 16.3 MiB).
    scene = moving_square_scene(width=192, height=64)
    growth = {
        frames: decoding_working_set_mib(
            write_clip(tmp_path / f"c{frames}.mp4", frame_at=scene, frames=frames), shrink=shrink
        )
        for frames in (75, 1200)
    }
    assert growth[1200] < growth[75] + 4.0, growth


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
    ranges = {
        name: getattr(samples, name).numpy()
        for name in ("range_low", "range_high", "envelope_low", "envelope_high")
    }
    parts = ranges["range_low"].shape[1]
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
        assert (ranges["range_low"][:, part] <= every[own].min(axis=0)).all()
        assert (ranges["range_high"][:, part] >= every[own].max(axis=0)).all()
        assert (ranges["envelope_low"][:, part] <= every[near].min(axis=0)).all()
        assert (ranges["envelope_high"][:, part] >= every[near].max(axis=0)).all()
        # ... and no more than the bins those frames are in (4 frames each after merging).
        width = 1 if frames <= 2 * 32 else 4
        wider = [i for i in range(frames) if own[0] // width <= i // width <= own[-1] // width]
        assert (ranges["range_low"][:, part] >= every[wider].min(axis=0)).all()
        if frames <= 2 * 32:  # one frame per bin: exactly those frames
            assert np.array_equal(ranges["range_low"][:, part], every[own].min(axis=0))
            assert np.array_equal(ranges["envelope_high"][:, part], every[near].max(axis=0))


def test_area_matrix_averages_what_each_output_covers() -> None:
    # Worked by hand: 8 -> 2 is the mean of each half; 7 -> 2 covers 3.5 samples each;
    # 2 -> 3 enlarges (each output covers two thirds of a sample).
    x = torch.arange(8, dtype=torch.float32) ** 2
    assert torch.allclose(video.area_matrix(8, 2) @ x, x.reshape(2, 4).mean(dim=1))
    y = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    halves = torch.tensor([(1 + 2 + 3 + 0.5 * 4) / 3.5, (0.5 * 4 + 5 + 6 + 7) / 3.5])
    assert torch.allclose(video.area_matrix(7, 2) @ y, halves)
    assert torch.allclose(
        video.area_matrix(2, 3) @ torch.tensor([3.0, 9.0]), torch.tensor([3.0, 6.0, 9.0])
    )
    for n_in, n_out in ((224, 64), (112, 64), (96, 64), (32, 96)):
        assert torch.allclose(video.area_matrix(n_in, n_out).sum(dim=1), torch.ones(n_out))


def _planar_frame(blocks: np.ndarray, pixel_format: str, *, bt709: bool, full: bool) -> object:
    """A frame of flat 8x8 patches of `blocks`' colours, its planes written by hand from the
    standard's forward equations: Y' = Kr R + Kg G + Kb B, Cb = (B - Y') / (2 (1 - Kb)),
    Cr = (R - Y') / (2 (1 - Kr)), in studio (16-235, 16-240) or full 8-bit range."""
    import av

    kr, kb = (0.2126, 0.0722) if bt709 else (0.299, 0.114)
    r, g, b = (blocks[..., channel] / 255.0 for channel in range(3))
    luma = kr * r + (1 - kr - kb) * g + kb * b
    cb, cr = (b - luma) / (2 * (1 - kb)), (r - luma) / (2 * (1 - kr))
    y_span, c_span, y_floor = (255, 255, 0) if full else (219, 224, 16)
    values = (y_floor + y_span * luma, 128 + c_span * cb, 128 + c_span * cr)
    rows, columns = blocks.shape[:2]
    frame = av.VideoFrame(columns * 8, rows * 8, pixel_format)
    for plane, value in zip(frame.planes, values, strict=True):
        patch = (plane.height // rows, plane.width // columns)
        image = np.repeat(np.repeat(np.round(value), patch[0], axis=0), patch[1], axis=1)
        padded = np.zeros((plane.height, plane.line_size), dtype=np.uint8)
        padded[:, : plane.width] = image
        plane.update(padded.tobytes())
    frame.colorspace, frame.color_range = (1 if bt709 else 2), (2 if full else 1)
    return frame


@pytest.mark.parametrize(
    ("pixel_format", "bt709", "full"),
    [
        ("yuv420p", False, False),  # what an untagged H.264 stream is
        ("yuv444p", True, True),
        ("yuv422p", False, True),
        ("yuvj420p", True, True),
    ],
)
def test_plane_shrinker_gives_the_frame_colours(pixel_format: str, bt709: bool, full: bool) -> None:
    blocks = np.random.default_rng(5).integers(0, 256, (8, 24, 3)).astype(np.uint8)
    shrinker = video.PlaneShrinker(size=8, views=3, device=torch.device("cpu"))
    shrinker.push(_planar_frame(blocks, pixel_format, bt709=bt709, full=full))
    out = torch.zeros((1, 3, 3, 8, 8), dtype=torch.uint8)  # (frames, views, RGB, rows, columns)
    shrinker.take(out)
    by_view = blocks.reshape(8, 3, 8, 3).transpose(1, 3, 0, 2)
    error = np.abs(out[0].numpy().astype(int) - by_view)
    # Within the rounding of 8-bit Y'CbCr.
    assert error.max() <= 2, (pixel_format, error.max())
    assert error.mean() < 1.0


def test_plane_shrinker_converts_other_layouts_on_the_host() -> None:
    import av

    grey = np.random.default_rng(6).integers(0, 256, (8, 24)).astype(np.uint8)
    image = np.repeat(np.repeat(grey, 8, axis=0), 8, axis=1)
    shrinker = video.PlaneShrinker(size=8, views=3, device=torch.device("cpu"))
    shrinker.push(av.VideoFrame.from_ndarray(image, format="gray"))
    out = torch.zeros((1, 3, 3, 8, 8), dtype=torch.uint8)
    shrinker.take(out)
    by_view = grey.reshape(8, 3, 8).transpose(1, 0, 2)[:, None]
    assert np.abs(out[0].numpy().astype(int) - by_view).max() <= 2


def test_both_shrinks_see_the_same_clip(tmp_path: Path) -> None:
    path = write_clip(
        tmp_path / "c.mp4", frame_at=moving_square_scene(width=192, height=64), frames=30
    )
    scaler = decode_clip(path, size=16, time_bins=8)
    planes = decode_clip(path, size=16, time_bins=8, shrink="planes")
    assert planes.frame_count == scaler.frame_count == 30
    # FFmpeg's scaler interpolates chroma before shrinking; the planes are shrunk as
    # they are. On this background of random per-pixel colours (chroma finer than 4:2:0
    # keeps) the frames differ by about three 8-bit levels on average.
    assert (planes.frames - scaler.frames).abs().mean() < 0.02
    # The square is found at the same place, to within one pixel of the 16-pixel view.
    assert np.allclose(_square_position(planes.frames), _square_position(scaler.frames), atol=0.07)
    assert torch.allclose(planes.step_mean, scaler.step_mean, rtol=0.1, atol=1e-3)
    with pytest.raises(ClipDecodeError, match="unknown shrink"):
        decode_clip(path, shrink="nearest")
