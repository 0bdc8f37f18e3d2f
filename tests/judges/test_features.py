from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from evaluation.judges.features import (
    _contrast_match,
    _opening,
    compare_clips,
    dtw,
    prepare_clip,
    ssim_map,
)
from evaluation.judges.video import decode_clip
from tests.judges.clips import moving_square_scene, write_clip


def _ssim_by_convolution(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The textbook formulation, with a 2-D Gaussian convolution."""
    coords = torch.arange(7, dtype=torch.float32) - 3
    kernel = torch.exp(-(coords**2) / (2 * 1.5**2))
    kernel = kernel / kernel.sum()
    window = (kernel[:, None] * kernel[None, :]).view(1, 1, 7, 7)
    x, y = a.unsqueeze(1), b.unsqueeze(1)
    mx, my = F.conv2d(x, window), F.conv2d(y, window)
    vx = F.conv2d(x * x, window) - mx**2
    vy = F.conv2d(y * y, window) - my**2
    cxy = F.conv2d(x * y, window) - mx * my
    c1, c2 = 0.01**2, 0.03**2
    return (
        ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    ).squeeze(1)


def test_ssim_matches_the_convolution_formulation() -> None:
    generator = torch.Generator().manual_seed(0)
    a = torch.rand(4, 32, 32, generator=generator)
    b = (a + 0.2 * torch.rand(4, 32, 32, generator=generator)).clamp(0, 1)
    assert torch.allclose(ssim_map(a, b), _ssim_by_convolution(a, b), atol=1e-5)
    assert torch.allclose(ssim_map(a, a), torch.ones(4, 26, 26), atol=1e-5)


def _dtw_by_loops(cost: np.ndarray) -> float:
    n, m = cost.shape
    total = np.full((n + 1, m + 1), np.inf)
    total[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            c = cost[i - 1, j - 1]
            total[i, j] = min(total[i - 1, j - 1] + 2 * c, total[i - 1, j] + c, total[i, j - 1] + c)
    return float(total[n, m] / (n + m))


@pytest.mark.parametrize(("n", "m"), [(5, 5), (7, 4), (3, 9)])
def test_vectorized_dtw_matches_the_double_loop(n: int, m: int) -> None:
    rng = np.random.default_rng(n * 10 + m)
    costs = rng.random((3, n, m))
    got = dtw(torch.from_numpy(costs))
    assert np.allclose(got.numpy(), [_dtw_by_loops(cost) for cost in costs])


def test_dtw_forgives_a_time_shift_that_pointwise_comparison_does_not() -> None:
    t = np.linspace(0, 1, 30)
    a = np.sin(2 * np.pi * t)
    b = np.sin(2 * np.pi * (t - 0.1))
    cost = torch.from_numpy(np.abs(a[:, None] - b[None, :]))[None]
    assert float(dtw(cost)[0]) < 0.5 * float(np.abs(a - b).mean())


def test_a_clip_compared_with_itself_agrees_on_everything(tmp_path: Path) -> None:
    clip = decode_clip(
        write_clip(tmp_path / "a.mp4", frame_at=moving_square_scene(), frames=24), time_bins=12
    )
    reversed_clip = decode_clip(
        write_clip(tmp_path / "b.mp4", frame_at=moving_square_scene(reverse=True), frames=24),
        time_bins=12,
    )
    same = compare_clips(reference=clip, generated=clip, device=torch.device("cpu"))
    different = compare_clips(reference=clip, generated=reversed_clip, device=torch.device("cpu"))
    assert same["missed_change"] == pytest.approx(0.0, abs=1e-6)
    assert same["final_ssim"] == pytest.approx(1.0, abs=1e-5)
    assert same["motion_map_dtw"] == pytest.approx(0.0, abs=1e-5)
    assert same["flicker_log_ratio"] == pytest.approx(0.0, abs=1e-6)
    # The reversed clip ends where the reference started: none of its change is reproduced.
    assert different["missed_change"] > 0.8
    assert different["centroid_dtw"] > 0.1


def test_opening_removes_what_is_thinner_than_the_tolerance_window() -> None:
    maps = torch.zeros(2, 12, 12)
    maps[0, 2:5, 2:5] = 1.0  # a 3x3 blob: kept whole
    maps[0, 8, 1:11] = 1.0  # a line one pixel wide: removed
    maps[1, 0:2, :] = 2.0  # two rows along the edge: a window clipped at the edge fits
    maps[1, 6:8, 3:9] = 1.0  # two pixels wide inside the view: removed
    opened = _opening(maps)
    expected = torch.zeros(2, 12, 12)
    expected[0, 2:5, 2:5] = 1.0
    expected[1, 0:2, :] = 2.0
    assert torch.equal(opened, expected)


def test_contrast_match_undoes_a_black_level_and_keeps_noise_unbiased(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    base = (rng.random((32, 96, 3)) * 120 + 60).astype(np.float32)

    def clip(name: str, transform) -> object:  # type: ignore[no-untyped-def]
        frames = transform(base)
        path = write_clip(
            tmp_path / f"{name}.mp4",
            frame_at=lambda t: np.clip(frames, 0, 255).astype(np.uint8),
            frames=6,
            preset="ultrafast",
        )
        return prepare_clip(decode_clip(path, size=32, time_bins=4), device=torch.device("cpu"))

    reference = clip("reference", lambda x: x)
    # A black level of +30 grey levels on a mean of 120: relative contrast 120/150.
    lifted = clip("lifted", lambda x: x + 30.0)
    noisy = clip("noisy", lambda x: x + rng.normal(0, 4, x.shape))
    # The factor maps the generated clip's relative values back: 1 + (x - 1) / a.
    assert torch.allclose(
        _contrast_match(lifted, reference), torch.full((3, 3), 150 / 120), atol=0.06
    )
    # Noise widens the spread a little; the ratio of spreads is not pulled toward 0 by it.
    assert torch.allclose(_contrast_match(noisy, reference), torch.ones(3, 3), atol=0.05)


def _square_scene(*, hide_from: float = 2.0, jump: tuple[float, float] = (2.0, 2.0), pace=1.0):
    """A textured floor with a small square pushed across each of three views.

    `hide_from`: the square is gone from then on; `jump`: it sits elsewhere during
    that interval; `pace`: the push runs this much faster.
    """
    rng = np.random.default_rng(5)
    height, width = 48, 144
    floor = (rng.random((height, width, 3)) * 40 + 150).astype(np.uint8)

    def frame_at(t: float) -> np.ndarray:
        image = floor.copy()
        if t >= hide_from:
            return image
        u = min(1.0, t * pace)
        for left in range(0, width, height):
            x = left + 8 + int(u * 24)
            y = 20 if not jump[0] <= t <= jump[1] else 6
            image[y : y + 6, x : x + 6] = (30, 160, 60)
        return image

    return frame_at


def _features(tmp_path: Path, name: str, frame_at, reference) -> dict[str, float]:
    clip = decode_clip(write_clip(tmp_path / f"{name}.mp4", frame_at=frame_at, frames=32))
    return compare_clips(reference=reference, generated=clip, device=torch.device("cpu"))


def test_object_level_features_see_a_small_object(tmp_path: Path) -> None:
    reference = decode_clip(
        write_clip(tmp_path / "reference.mp4", frame_at=_square_scene(), frames=32)
    )
    same = _features(tmp_path, "same", _square_scene(), reference)
    vanished = _features(tmp_path, "vanished", _square_scene(hide_from=0.8), reference)
    jumped = _features(tmp_path, "jumped", _square_scene(jump=(0.4, 0.5)), reference)
    faster = _features(tmp_path, "faster", _square_scene(pace=1.1), reference)
    # The square covers 1.6% of each view: its disappearance is most of what changed.
    assert same["final_object_mismatch"] == pytest.approx(0.0, abs=1e-6)
    assert vanished["final_object_mismatch"] > 0.3
    assert jumped["final_object_mismatch"] == pytest.approx(0.0, abs=1e-6)
    assert faster["final_object_mismatch"] < 0.05
    # While unfolding: a jump is unexplained, a push a tenth faster is not.
    assert same["process_unexplained"] == pytest.approx(0.0, abs=1e-6)
    assert jumped["process_unexplained"] > 10 * max(faster["process_unexplained"], 1e-3)


def test_a_blink_between_frames_is_seen_and_a_black_level_is_not(tmp_path: Path) -> None:
    # The square is pushed in the first third of the clip and rests after it.
    scene = _square_scene(pace=3.0)
    reference = decode_clip(write_clip(tmp_path / "reference.mp4", frame_at=scene, frames=32))
    brighter = _features(
        tmp_path,
        "brighter",
        lambda t: np.clip(scene(t).astype(int) + 25, 0, 255).astype(np.uint8),
        reference,
    )
    # Every other frame from about 0.4 to 0.7 of the clip, the resting square is not there:
    # the mean frames only show it fainter, the frames themselves show it gone.
    blank = _square_scene(hide_from=0.0)

    def blinking(t: float) -> np.ndarray:
        frame = round(t * 31)
        return blank(t) if 12 <= frame <= 22 and frame % 2 else scene(t)

    blinked = _features(tmp_path, "blinked", blinking, reference)
    assert brighter["process_unexplained"] < 1e-3
    assert blinked["process_unexplained"] > 0.005
    assert blinked["final_object_mismatch"] == pytest.approx(0.0, abs=1e-6)
