"""The baseline's measurements, in torch, comparing a generated clip with its reference.

Every feature is scale-free: a ratio to the reference's own statistics, a
correlation, a structural similarity, or a distance in fractions of the view
size, so that no threshold depends on a particular renderer's or camera's look.
Each is measured per camera view and averaged over views.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import torch
import torch.nn.functional as F

from evaluation.judges.video import ClipSamples

# One 8-bit grey level: the floor under which differences are quantization noise.
QUANTUM = 1.0 / 255.0
MAP_GRID = 16
SSIM_WINDOW = 7
SSIM_SIGMA = 1.5
LOCAL_PERCENTILE = 0.05


class FeatureError(Exception):
    """Two clips cannot be compared."""


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise FeatureError(f"device {device!r} requested but CUDA is not available")
    try:
        return torch.device(device)
    except RuntimeError as exc:
        raise FeatureError(f"unknown device {device!r}") from exc


@contextlib.contextmanager
def cpu_threads(*, device: torch.device, threads: int | None) -> Iterator[None]:
    """Limit torch's intra-op threads on CPU for a while (None: leave them), then restore."""
    if device.type != "cpu" or threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _gaussian_band(size: int, device: torch.device) -> torch.Tensor:
    """(size, size - window + 1) matrix whose columns are shifted Gaussian windows."""
    coords = torch.arange(SSIM_WINDOW, dtype=torch.float32, device=device) - SSIM_WINDOW // 2
    kernel = torch.exp(-(coords**2) / (2 * SSIM_SIGMA**2))
    kernel = kernel / kernel.sum()
    out = size - SSIM_WINDOW + 1
    band = torch.zeros(size, out, device=device)
    for offset in range(SSIM_WINDOW):
        band[torch.arange(out) + offset, torch.arange(out)] = kernel[offset]
    return band


def ssim_map(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Structural similarity maps of grey images (N, S, S) -> (N, S', S').

    The Gaussian window is applied as two matrix products (rows, then columns),
    which is much faster on CPU than a single-channel convolution.
    """
    band = _gaussian_band(a.shape[-1], a.device)
    moments = torch.stack([a, b, a * a, b * b, a * b])
    mu_x, mu_y, xx, yy, xy = band.T @ moments @ band
    var_x, var_y, cov = xx - mu_x**2, yy - mu_y**2, xy - mu_x * mu_y
    c1, c2 = 0.01**2, 0.03**2
    numerator = (2 * mu_x * mu_y + c1) * (2 * cov + c2)
    denominator = (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    return numerator / denominator


def _ssim_summary(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and low-percentile SSIM per image (the percentile catches local differences)."""
    maps = ssim_map(a, b).flatten(1)
    rank = max(1, int(LOCAL_PERCENTILE * maps.shape[1]))
    return maps.mean(dim=1), maps.kthvalue(rank, dim=1).values


def _pooled(maps: torch.Tensor) -> torch.Tensor:
    """(N, S, S) -> (N, MAP_GRID*MAP_GRID): tolerant of small spatial shifts."""
    return F.adaptive_avg_pool2d(maps.unsqueeze(1), MAP_GRID).flatten(1)


def _signed_pooled(images: torch.Tensor) -> torch.Tensor:
    """(..., 3, S, S) signed images -> (..., 3, MAP_GRID*MAP_GRID) cell means."""
    leading = images.shape[:-2]
    pooled = F.adaptive_avg_pool2d(images.reshape(-1, 1, *images.shape[-2:]), MAP_GRID)
    return pooled.view(*leading, MAP_GRID * MAP_GRID)


def _correlation(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pearson correlation along the last axis; 0 where either side is constant."""
    a = a - a.mean(dim=-1, keepdim=True)
    b = b - b.mean(dim=-1, keepdim=True)
    denominator = a.norm(dim=-1) * b.norm(dim=-1)
    return torch.where(denominator > 1e-12, (a * b).sum(dim=-1) / denominator.clamp_min(1e-12), 0.0)


def dtw(cost: torch.Tensor) -> torch.Tensor:
    """Dynamic time warping of a batch of cost matrices (B, N, M) -> normalized path cost.

    The symmetric step pattern (a diagonal step counts twice) gives every path
    the same total weight N + M, so dividing by it yields a mean cost on the
    scale of `cost`. Cells on one anti-diagonal do not depend on each other, so
    each diagonal is one vectorized step.
    """
    batch, n, m = cost.shape
    total = torch.full((batch, n + 1, m + 1), float("inf"), device=cost.device, dtype=cost.dtype)
    total[:, 0, 0] = 0.0
    for diagonal in range(2, n + m + 1):
        i = torch.arange(max(1, diagonal - m), min(n, diagonal - 1) + 1, device=cost.device)
        j = diagonal - i
        step = cost[:, i - 1, j - 1]
        best = torch.minimum(total[:, i - 1, j], total[:, i, j - 1]) + step
        total[:, i, j] = torch.minimum(best, total[:, i - 1, j - 1] + 2.0 * step)
    return total[:, n, m] / (n + m)


def _centroids(motion: torch.Tensor) -> torch.Tensor:
    """Motion-weighted centroids in view fractions: (V, T, S, S) -> (V, T, 2)."""
    size = motion.shape[-1]
    axis = (torch.arange(size, device=motion.device, dtype=motion.dtype) + 0.5) / size
    mass = motion.sum(dim=(-1, -2)).clamp_min(1e-12)
    cy = (motion.sum(dim=-1) * axis).sum(dim=-1) / mass
    cx = (motion.sum(dim=-2) * axis).sum(dim=-1) / mass
    return torch.stack([cx, cy], dim=-1)


def _residual(weight: torch.Tensor, error: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Share of a change left unexplained: sum(w * error) / sum(w * scale), per view."""
    floor = QUANTUM**2 * weight.shape[-1]
    return (weight * error).sum(dim=-1) / ((weight * scale).sum(dim=-1) + floor)


def _tensors(clip: ClipSamples, device: torch.device) -> dict[str, torch.Tensor]:
    """Clip arrays on the device, colour channels moved first for fast reductions."""

    def image(array: object) -> torch.Tensor:
        return torch.from_numpy(array).to(device).movedim(-1, -3).contiguous()  # type: ignore[arg-type]

    tensors = {
        "frames": image(clip.frames),  # (V, T, 3, S, S)
        "first": image(clip.first),  # (V, 3, S, S)
        "last": image(clip.last),
        "step_mean": torch.from_numpy(clip.step_mean).to(device),
        "step_max": torch.from_numpy(clip.step_max).to(device),
        "flicker": torch.from_numpy(clip.flicker).to(device),
    }
    for name in ("frames", "first", "last"):
        tensors[f"{name}_gray"] = tensors[name].mean(dim=-3)
        # Divided by its own mean colour, an image no longer depends on exposure or
        # white balance, so a global brightness shift is not mistaken for a change of state.
        gain = tensors[name].mean(dim=(-1, -2), keepdim=True).clamp_min(QUANTUM)
        tensors[f"{name}_relative"] = tensors[name] / gain
    return tensors


def _colour_difference(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference over colour channels: (..., 3, S, S) -> (..., S, S)."""
    return (a - b).abs().mean(dim=-3)


def _spikiness(clip: dict[str, torch.Tensor]) -> torch.Tensor:
    """Largest frame-to-frame change relative to the clip's typical change, per view."""
    typical = clip["step_mean"].median(dim=1).values
    return (clip["step_max"].max(dim=1).values + QUANTUM) / (typical + QUANTUM)


@torch.no_grad()
def compare_clips(
    *, reference: ClipSamples, generated: ClipSamples, device: torch.device
) -> dict[str, float]:
    """All baseline features of a generated clip against its reference, as a flat dict."""
    if reference.views != generated.views:
        raise FeatureError(
            f"view layouts differ: reference has {reference.views} views, "
            f"generated has {generated.views}"
        )
    if reference.frames.shape != generated.frames.shape:
        raise FeatureError(
            f"sample shapes differ: {reference.frames.shape} vs {generated.frames.shape}"
        )
    ref, gen = _tensors(reference, device), _tensors(generated, device)
    views, bins = reference.views, reference.frames.shape[1]
    features: dict[str, torch.Tensor] = {}

    # Final state -------------------------------------------------------------
    # First frames and last frames in one SSIM call.
    ssim_mean, ssim_local = _ssim_summary(
        torch.cat([gen["first_gray"], gen["last_gray"]]),
        torch.cat([ref["first_gray"], ref["last_gray"]]),
    )
    start_mean, final_mean = ssim_mean[:views], ssim_mean[views:]
    start_local, final_local = ssim_local[:views], ssim_local[views:]
    features["start_ssim"] = start_mean
    features["final_ssim"] = final_mean
    features["final_ssim_drop"] = start_mean - final_mean
    features["final_local_ssim_drop"] = start_local - final_local

    # Changes are compared as signed differences averaged over grid cells: a photometric
    # difference between the clips (exposure, colour, blur, sensor noise) shows up in
    # the first frames as much as in the last and cancels out, a change of state does not.
    ref_change = _signed_pooled(ref["last_relative"] - ref["first_relative"])  # (V, 3, G*G)
    gen_change = _signed_pooled(gen["last_relative"] - gen["first_relative"])
    # What is left of the look difference after pooling, measured where the clips should
    # agree (their first frames); differences below twice this level are not evidence.
    look_noise = (
        _signed_pooled(gen["first_relative"] - ref["first_relative"]).abs().mean(dim=1).median()
    )
    change_error = ((gen_change - ref_change).abs().mean(dim=1) - 2.0 * look_noise).clamp_min(0.0)
    ref_weight = (ref_change.abs().mean(dim=1) - 2.0 * look_noise).clamp_min(0.0)  # (V, G*G)
    gen_weight = (gen_change.abs().mean(dim=1) - 2.0 * look_noise).clamp_min(0.0)
    features["look_noise"] = look_noise.expand(views)
    # How much of the reference's own change the generated clip fails to reproduce, and
    # how much of the generated clip's change the reference does not show, pooled over
    # views so that a camera that sees nothing happen weighs nothing.
    missed_change = _residual(ref_weight.flatten(), change_error.flatten(), ref_weight.flatten())
    extra_change = _residual(gen_weight.flatten(), change_error.flatten(), gen_weight.flatten())
    features["change_map_corr"] = _correlation(ref_change.flatten(1), gen_change.flatten(1))

    # Something reproduced mid-clip then gone at the end ("the banana vanishes").
    gen_change_over_time = _signed_pooled(
        gen["frames_relative"] - gen["first_relative"].unsqueeze(1)
    )  # (V, T, 3, G*G)
    error_over_time = (
        (gen_change_over_time - ref_change.unsqueeze(1)).abs().mean(dim=2) - 2.0 * look_noise
    ).clamp_min(0.0)  # (V, T, G*G)
    residual_over_time = _residual(
        ref_weight.flatten().expand(bins, -1),
        error_over_time.transpose(0, 1).flatten(1),
        ref_weight.flatten().expand(bins, -1),
    )  # (T,)
    vanish = (missed_change - residual_over_time.min()).clamp_min(0.0)

    # The same comparison at every instant: the share of the reference's ongoing change
    # (arm and objects) that the generated clip does not show at that time; deformed or
    # misbehaving objects raise it even when both clips end alike.
    ref_change_over_time = _signed_pooled(
        ref["frames_relative"] - ref["first_relative"].unsqueeze(1)
    )
    process_error = (
        (gen_change_over_time - ref_change_over_time).abs().mean(dim=2) - 2.0 * look_noise
    ).clamp_min(0.0)
    process_weight = (ref_change_over_time.abs().mean(dim=2) - 2.0 * look_noise).clamp_min(0.0)
    process_residual = _residual(
        process_weight.flatten(), process_error.flatten(), process_weight.flatten()
    )

    # Arm motion ---------------------------------------------------------------
    ref_motion = _colour_difference(ref["frames"][:, 1:], ref["frames"][:, :-1])  # (V, T-1, S, S)
    gen_motion = _colour_difference(gen["frames"][:, 1:], gen["frames"][:, :-1])
    steps = bins - 1
    ref_maps = _pooled(ref_motion.flatten(0, 1)).view(views, steps, -1)
    gen_maps = _pooled(gen_motion.flatten(0, 1)).view(views, steps, -1)
    map_similarity = _correlation(ref_maps.unsqueeze(2), gen_maps.unsqueeze(1))  # (V, T-1, T-1)
    ref_path, gen_path = _centroids(ref_motion), _centroids(gen_motion)
    path_distance = torch.cdist(ref_path, gen_path)  # (V, T-1, T-1), in view fractions
    warped = dtw(torch.cat([(1.0 - map_similarity) / 2.0, path_distance]))
    features["motion_map_dtw"], features["centroid_dtw"] = warped[:views], warped[views:]
    features["motion_map_corr_aligned"] = torch.diagonal(map_similarity, dim1=1, dim2=2).mean(dim=1)

    ref_energy, gen_energy = ref_maps.mean(dim=-1), gen_maps.mean(dim=-1)  # (V, T-1)
    features["energy_corr"] = _correlation(ref_energy, gen_energy)
    features["energy_log_ratio"] = torch.log(
        (gen_energy.sum(dim=1) + QUANTUM) / (ref_energy.sum(dim=1) + QUANTUM)
    )

    # Artifacts -----------------------------------------------------------------
    features["flicker_log_ratio"] = torch.log(
        (gen["flicker"].mean(dim=1) + QUANTUM) / (ref["flicker"].mean(dim=1) + QUANTUM)
    )
    features["break_log_ratio"] = torch.log(_spikiness(gen) / _spikiness(ref))
    process_mean, process_local = _ssim_summary(
        gen["frames_gray"].flatten(0, 1), ref["frames_gray"].flatten(0, 1)
    )
    features["process_ssim_drop"] = start_mean - process_mean.view(views, -1).mean(dim=1)
    features["process_local_ssim_drop"] = start_local - process_local.view(views, -1).mean(dim=1)

    summary = {name: float(value.mean()) for name, value in features.items()}
    summary["missed_change"] = float(missed_change)
    summary["extra_change"] = float(extra_change)
    summary["vanish"] = float(vanish)
    summary["process_residual"] = float(process_residual)
    summary["views"] = float(views)
    for name, value in summary.items():
        if not math.isfinite(value):
            raise FeatureError(f"feature {name} is not finite")
    return summary
