"""The baseline's measurements, in torch, comparing a generated clip with its reference.

Every feature is scale-free: a ratio to the reference's own statistics, a
correlation, a structural similarity, or a distance in fractions of the view
size, so that no threshold depends on a particular renderer's or camera's look.
Each is measured per camera view and averaged over views.
"""

from __future__ import annotations

import contextlib
import functools
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from evaluation.judges.video import ClipSamples

# One 8-bit grey level: the floor under which differences are quantization noise.
QUANTUM = 1.0 / 255.0
MAP_GRID = 16
SSIM_WINDOW = 7
SSIM_SIGMA = 1.5
LOCAL_PERCENTILE = 0.05
# A difference an observer sees: a tenth of the image's own mean colour (relative units).
VISIBLE = 0.1
# Differences below this (relative units, a hundredth of the mean colour) are noise.
LOOK_FLOOR = 0.01
# (How early or late a generated episode may run without being inconsistent, a tenth of
# it, is `video.TIME_TOLERANCE`: the decoder keeps what the frames show within it.)


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


@functools.lru_cache(maxsize=1)
def _gaussian_window() -> tuple[float, ...]:
    """The SSIM window's weights (one dimension of the separable 2-D Gaussian)."""
    coords = torch.arange(SSIM_WINDOW, dtype=torch.float64) - SSIM_WINDOW // 2
    kernel = torch.exp(-(coords**2) / (2 * SSIM_SIGMA**2))
    return tuple((kernel / kernel.sum()).tolist())


def _filtered(images: torch.Tensor) -> torch.Tensor:
    """Gaussian-windowed local means of (..., S, S) images -> (..., S', S') (valid part).

    The window is separable: seven shifted, weighted sums along rows, then along
    columns, which is fewer operations than a convolution or band-matrix products.
    """
    weights = _gaussian_window()
    for dim in (-2, -1):
        size = images.shape[dim] - SSIM_WINDOW + 1
        result = images.narrow(dim, 0, size) * weights[0]
        for offset in range(1, SSIM_WINDOW):
            result.add_(images.narrow(dim, offset, size), alpha=weights[offset])
        images = result
    return images


def _ssim_from_moments(
    mu_x: torch.Tensor, mu_y: torch.Tensor, xx: torch.Tensor, yy: torch.Tensor, xy: torch.Tensor
) -> torch.Tensor:
    """SSIM from windowed means, means of squares and the mean of products.

    ((2 mx my + c1)(2 cov + c2)) / ((mx^2 + my^2 + c1)(var_x + var_y + c2)), computed in
    place where it can be: the maps are large, and fresh memory costs page faults.
    """
    c1, c2 = 0.01**2, 0.03**2
    product = mu_x * mu_y
    squares = mu_x.square().add_(mu_y.square())
    numerator = torch.sub(xy, product).mul_(2.0).add_(c2)  # 2 cov + c2
    numerator.mul_(product.mul_(2.0).add_(c1))
    denominator = torch.add(xx, yy).sub_(squares).add_(c2)  # var_x + var_y + c2
    denominator.mul_(squares.add_(c1))
    return numerator.div_(denominator)


def ssim_map(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Structural similarity maps of grey images (N, S, S) -> (N, S', S')."""
    return _ssim_from_moments(*_filtered(torch.stack([a, b, a * a, b * b, a * b])))


def _summary(maps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and low-percentile SSIM per image (the percentile catches local differences)."""
    maps = maps.flatten(1)
    rank = max(1, int(LOCAL_PERCENTILE * maps.shape[1]))
    if maps.device.type == "cpu":
        # numpy's selection is about twice as fast as torch's on CPU; the same values.
        lowest = np.partition(maps.numpy(), rank - 1, axis=1)[:, rank - 1]
        return maps.mean(dim=1), torch.from_numpy(np.ascontiguousarray(lowest))
    return maps.mean(dim=1), maps.kthvalue(rank, dim=1).values


def _quantile(values: torch.Tensor, q: float) -> torch.Tensor:
    """`torch.quantile(values, q, dim=1)` (linear interpolation), by numpy's selection on CPU."""
    if values.device.type == "cpu":
        return torch.from_numpy(np.quantile(values.numpy(), q, axis=1).astype(np.float32))
    return values.quantile(q, dim=1)


def _ssim_summary(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return _summary(ssim_map(a, b))


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
    each diagonal is one vectorized step; the matrices are small, so the loop runs
    in numpy (in float64) on the host, where a step costs microseconds.
    """
    batch, n, m = cost.shape
    values = cost.detach().to("cpu", torch.float64).numpy()
    total = np.full((batch, n + 1, m + 1), np.inf)
    total[:, 0, 0] = 0.0
    for diagonal in range(2, n + m + 1):
        i = np.arange(max(1, diagonal - m), min(n, diagonal - 1) + 1)
        j = diagonal - i
        step = values[:, i - 1, j - 1]
        best = np.minimum(total[:, i - 1, j], total[:, i, j - 1]) + step
        total[:, i, j] = np.minimum(best, total[:, i - 1, j - 1] + 2.0 * step)
    result = torch.from_numpy(total[:, n, m] / (n + m))
    return result.to(device=cost.device, dtype=cost.dtype)


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


@dataclass(frozen=True)
class PreparedClip:
    """Everything the comparison needs from one clip alone, computed once per clip.

    A reference shared by several teams' clips is prepared once; the per-pair work
    that is left is small (pooled differences, one SSIM cross-moment, the warping).
    """

    views: int
    shape: tuple[int, ...]  # ClipSamples.frames.shape
    first_gray: torch.Tensor  # (V, S, S)
    last_gray: torch.Tensor  # (V, S, S)
    frames_gray: torch.Tensor  # (V*T, S, S)
    frames_moments: torch.Tensor  # (2, V*T, S', S'): windowed mean and mean of squares
    pooled_first: torch.Tensor  # (V, 3, G*G): first frame over its mean colour, cell means
    pooled_last: torch.Tensor  # (V, 3, G*G)
    pooled_frames: torch.Tensor  # (V, T, 3, G*G)
    motion_maps: torch.Tensor  # (V, T-1, G*G): frame-to-frame change, cell means
    motion_path: torch.Tensor  # (V, T-1, 2): motion-weighted centroids, view fractions
    flicker: torch.Tensor  # (V,): mean local-brightness second difference
    spikiness: torch.Tensor  # (V,)
    relative_first: torch.Tensor  # (V, 3, S, S): first frame over its mean colour
    relative_last: torch.Tensor  # (V, 3, S, S)
    # Frame ranges (V, R, 3, S, S): per pixel and part of the clip, the smallest and
    # largest value of the part's frames (range), and of the frames within one pixel and
    # TIME_TOLERANCE of them (envelope), over the first frame's mean colour. The episode
    # is seen in the exposure and white balance of the clip's first frame: the mean
    # colour of a later frame depends on where the arm is, not only on the camera, and
    # dividing each instant by its own would shift every pixel when the arm is elsewhere.
    range_low: torch.Tensor
    range_high: torch.Tensor
    envelope_low: torch.Tensor
    envelope_high: torch.Tensor


def _relative(images: torch.Tensor) -> torch.Tensor:
    """(..., 3, S, S) images over their own mean colour (exposure and white balance removed)."""
    return images / images.mean(dim=(-1, -2), keepdim=True).clamp_min(QUANTUM)


def _running_extremes(
    low: torch.Tensor, high: torch.Tensor, *, dim: int, reach: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Minimum and maximum over +-reach along `dim` (edges repeat), by shifted copies."""
    size = low.shape[dim]
    out_low, out_high = low.clone(), high.clone()
    for shift in range(1, min(reach, size - 1) + 1):
        ahead, behind = slice(shift, None), slice(None, size - shift)
        for target, source in ((behind, ahead), (ahead, behind)):
            index = [slice(None)] * low.dim()
            index[dim] = target
            other = [slice(None)] * low.dim()
            other[dim] = source
            into, source_index = tuple(index), tuple(other)
            torch.minimum(out_low[into], low[source_index], out=out_low[into])
            torch.maximum(out_high[into], high[source_index], out=out_high[into])
    return out_low, out_high


def _unexplained(values: torch.Tensor, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """How far values fall outside [low, high], mean over colour channels: (..., 3, S, S) -> (..., S, S)."""
    return (values - torch.clamp(values, min=low, max=high)).abs().mean(dim=-3)


# Per thread, two scratch tensors for the per-pair pixel comparison (`_unexplained_ranges`).
_scratch = threading.local()


def _scratch_pair(like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Two tensors shaped like `like`, reused from pair to pair: on CPU, fresh memory costs
    a page fault per 4 KiB, as much again as the arithmetic that fills it."""
    held = getattr(_scratch, "pair", None)
    if held is None or held[0].shape != like.shape or held[0].device != like.device:
        held = (torch.empty_like(like), torch.empty_like(like))
        _scratch.pair = held
    return held


def _unexplained_ranges(
    reference: PreparedClip, generated: PreparedClip, contrast: torch.Tensor
) -> torch.Tensor:
    """How far either clip's frame ranges reach outside the other's envelope, (V, R, S, S).

    Per pixel, colour channel and part of the clip: below the envelope's low or above its
    high (0 inside), averaged over channels; the larger of the two directions. The
    generated clip's values are taken in the reference's look, `m(x) = f x + (1 - f)`
    with f = `contrast` (V, 3), folded into each difference.
    """
    factor = contrast[:, None, :, None, None]
    shift = 1.0 - factor
    ref, gen = reference, generated
    below, above = _scratch_pair(ref.range_low)
    # The generated clip's frames against the reference's envelope.
    torch.addcmul(ref.envelope_low, gen.range_low, -factor, out=below).sub_(shift)
    torch.mul(gen.range_high, factor, out=above).add_(shift).sub_(ref.envelope_high)
    generated_outside = torch.maximum(below, above, out=below).clamp_min_(0.0).mean(dim=-3)
    # The reference's frames against the generated clip's envelope.
    torch.mul(gen.envelope_low, factor, out=below).add_(shift).sub_(ref.range_low)
    torch.addcmul(ref.range_high, gen.envelope_high, -factor, out=above).sub_(shift)
    reference_outside = torch.maximum(below, above, out=below).clamp_min_(0.0).mean(dim=-3)
    return torch.maximum(generated_outside, reference_outside)


def _spatial_envelope(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-pixel minimum and maximum over +-1 pixel: (..., 3, S, S) -> two of the same shape."""
    return _spatial_envelope_of(images, images, dims=(-1, -2))


def _spatial_envelope_of(
    low: torch.Tensor, high: torch.Tensor, *, dims: tuple[int, int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Minimum of `low` and maximum of `high` over +-1 pixel along both image `dims`."""
    low, high = _running_extremes(low, high, dim=dims[0], reach=1)
    return _running_extremes(low, high, dim=dims[1], reach=1)


def _neighbourhood(values: torch.Tensor, combine: object) -> torch.Tensor:
    """`combine` (torch.minimum or torch.maximum) of each pixel's 3x3 neighbourhood (clipped
    at the edges) in (..., S, S) maps."""
    result = values
    for dim in (-1, -2):
        source, result = result, result.clone()
        size = source.shape[dim]
        ahead, behind = source.narrow(dim, 1, size - 1), source.narrow(dim, 0, size - 1)
        combine(result.narrow(dim, 0, size - 1), ahead, out=result.narrow(dim, 0, size - 1))  # type: ignore[operator]
        combine(result.narrow(dim, 1, size - 1), behind, out=result.narrow(dim, 1, size - 1))  # type: ignore[operator]
    return result


def _opening(values: torch.Tensor) -> torch.Tensor:
    """Morphological opening of (..., S, S) maps with a 3x3 window (clipped at the edges).

    Keeps the values of regions that contain a whole 3x3 window, removing thinner ones:
    the window is the envelope's own spatial tolerance, so what the opening removes is
    no larger than that tolerance (an edge displaced by motion between two frames, or
    softened by other optics), while an object-level difference survives it.
    """
    return _neighbourhood(_neighbourhood(values, torch.minimum), torch.maximum)


def _contrast_match(generated: PreparedClip, reference: PreparedClip) -> torch.Tensor:
    """(V, 3) factors that map the generated clip's relative values into the reference's look.

    A camera's response is, to first order, a gain and a black level per colour channel.
    Relative images (each over its mean colour) remove the gain; a black level (or an
    equivalent difference in contrast) remains as a contrast around the mean,
    `generated = a * reference + (1 - a)` per view and channel. `a` is the ratio of the
    spreads of the first frames, which show the same state in both clips (the ratio, not
    a regression slope, so that noise on either side does not bias it); the generated
    clip's values map back as `1 + (x - 1) / a`. The map is increasing, so it carries
    ranges and envelopes over exactly.
    """
    spread_gen = generated.relative_first.flatten(-2).std(dim=-1)  # (V, 3)
    spread_ref = reference.relative_first.flatten(-2).std(dim=-1)
    return 1.0 / (spread_gen / spread_ref.clamp_min(QUANTUM)).clamp(0.25, 4.0)


def _relative_pooled(images: torch.Tensor) -> torch.Tensor:
    """(..., 3, S, S) -> (..., 3, G*G): cell means of the image over its own mean colour.

    Divided by its own mean colour, an image no longer depends on exposure or white
    balance, so a global brightness shift is not mistaken for a change of state.
    Pooling is linear, so pooling first and dividing after gives the same cells.
    """
    gain = images.mean(dim=(-1, -2)).clamp_min(QUANTUM)
    return _signed_pooled(images) / gain.unsqueeze(-1)


@torch.no_grad()
def prepare_clip(clip: ClipSamples, *, device: torch.device) -> PreparedClip:
    """A clip's own measurements, on `device`."""

    def image(values: torch.Tensor) -> torch.Tensor:
        return torch.as_tensor(values, device=device)

    frames, first, last = image(clip.frames), image(clip.first), image(clip.last)
    frames_gray = frames.mean(dim=-3).flatten(0, 1)
    motion = _colour_difference(frames[:, 1:], frames[:, :-1])  # (V, T-1, S, S)
    views, steps = motion.shape[0], motion.shape[1]
    step_mean = image(clip.step_mean)
    typical = step_mean.median(dim=1).values
    step_max = image(clip.step_max).max(dim=1).values

    def extremes(low: torch.Tensor, high: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return image(low), image(high)

    # One pixel of offset forgiven (in 8-bit integers).
    envelope_low, envelope_high = _spatial_envelope_of(
        *extremes(clip.envelope_low, clip.envelope_high), dims=(-1, -2)
    )
    range_low, range_high = extremes(clip.range_low, clip.range_high)
    # 8-bit values to relative units (a positive factor keeps minima and maxima).
    scale = (1.0 / (255.0 * first.mean(dim=(-1, -2)).clamp_min(QUANTUM)))[:, None, :, None, None]

    def relative(values: torch.Tensor) -> torch.Tensor:
        return values.float().mul_(scale)

    return PreparedClip(
        views=clip.views,
        shape=tuple(clip.frames.shape),
        first_gray=first.mean(dim=-3),
        last_gray=last.mean(dim=-3),
        frames_gray=frames_gray,
        frames_moments=_filtered(torch.stack([frames_gray, frames_gray * frames_gray])),
        pooled_first=_relative_pooled(first),
        pooled_last=_relative_pooled(last),
        pooled_frames=_relative_pooled(frames),
        motion_maps=_pooled(motion.flatten(0, 1)).view(views, steps, -1),
        motion_path=_centroids(motion),
        flicker=image(clip.flicker).mean(dim=1),
        # Largest frame-to-frame change relative to the clip's typical change.
        spikiness=(step_max + QUANTUM) / (typical + QUANTUM),
        relative_first=_relative(first),
        relative_last=_relative(last),
        range_low=relative(range_low),
        range_high=relative(range_high),
        envelope_low=relative(envelope_low),
        envelope_high=relative(envelope_high),
    )


def _colour_difference(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference over colour channels: (..., 3, S, S) -> (..., S, S)."""
    return (a - b).abs().mean(dim=-3)


@torch.no_grad()
def compare_clips(
    *, reference: ClipSamples, generated: ClipSamples, device: torch.device
) -> dict[str, float]:
    """All baseline features of a generated clip against its reference, as a flat dict."""
    _check_layouts(reference.views, generated.views, reference.frames.shape, generated.frames.shape)
    return compare_prepared(
        reference=prepare_clip(reference, device=device),
        generated=prepare_clip(generated, device=device),
    )


def _check_layouts(
    reference_views: int,
    generated_views: int,
    reference_shape: tuple[int, ...],
    generated_shape: tuple[int, ...],
) -> None:
    if reference_views != generated_views:
        raise FeatureError(
            f"view layouts differ: reference has {reference_views} views, "
            f"generated has {generated_views}"
        )
    if tuple(reference_shape) != tuple(generated_shape):
        raise FeatureError(f"sample shapes differ: {reference_shape} vs {generated_shape}")


@torch.no_grad()
def compare_prepared(*, reference: PreparedClip, generated: PreparedClip) -> dict[str, float]:
    """All baseline features of a prepared generated clip against its prepared reference."""
    ref, gen = reference, generated
    _check_layouts(ref.views, gen.views, ref.shape, gen.shape)
    views, bins = ref.views, ref.shape[1]
    features: dict[str, torch.Tensor] = {}

    # Final state -------------------------------------------------------------
    # First frames and last frames in one SSIM call.
    ssim_mean, ssim_local = _ssim_summary(
        torch.cat([gen.first_gray, gen.last_gray]), torch.cat([ref.first_gray, ref.last_gray])
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
    ref_change = ref.pooled_last - ref.pooled_first  # (V, 3, G*G)
    gen_change = gen.pooled_last - gen.pooled_first
    # What is left of the look difference after pooling, measured where the clips should
    # agree (their first frames); differences below twice this level are not evidence.
    look_noise = (gen.pooled_first - ref.pooled_first).abs().mean(dim=1).median()
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
    gen_change_over_time = gen.pooled_frames - gen.pooled_first.unsqueeze(1)  # (V, T, 3, G*G)
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
    ref_change_over_time = ref.pooled_frames - ref.pooled_first.unsqueeze(1)
    process_error = (
        (gen_change_over_time - ref_change_over_time).abs().mean(dim=2) - 2.0 * look_noise
    ).clamp_min(0.0)
    process_weight = (ref_change_over_time.abs().mean(dim=2) - 2.0 * look_noise).clamp_min(0.0)
    process_residual = _residual(
        process_weight.flatten(), process_error.flatten(), process_weight.flatten()
    )

    # The object, not the whole frame: at pixel level, where either clip changes between
    # its first and last frames, the share of that region whose last frames disagree by
    # more than their first frames already did (up to a pixel of camera offset), once
    # the generated clip is seen in the reference's look.
    contrast = _contrast_match(gen, ref)  # (V, 3)

    def in_reference_look(images: torch.Tensor) -> torch.Tensor:  # (V, 3, S, S)
        factor = contrast[:, :, None, None]
        return torch.addcmul(1.0 - factor, images, factor)

    gen_first, gen_last = (
        in_reference_look(gen.relative_first),
        in_reference_look(gen.relative_last),
    )

    def gap(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        low, high = _spatial_envelope(b)
        return torch.maximum(_unexplained(a, low, high), _unexplained(b, *_spatial_envelope(a)))

    start_gap = gap(gen_first, ref.relative_first)  # (V, S, S)
    end_gap = gap(gen_last, ref.relative_last)
    changed = (_colour_difference(ref.relative_last, ref.relative_first) > VISIBLE) | (
        _colour_difference(gen_last, gen_first) > VISIBLE
    )
    wrong = (end_gap - start_gap) > VISIBLE
    final_object_mismatch = (changed & wrong).sum() / changed.sum().clamp_min(1)

    # The same while the episode unfolds, frame by frame: what either clip's frames show
    # in each part of the clip that the other's frames do not explain within a pixel and
    # TIME_TOLERANCE (an object that jumps, blinks, stretches or sinks, an arm elsewhere),
    # beyond the look difference of the first frames, in regions at least as large as
    # the tolerance window, as a share of the reference's own end-to-end change (the
    # object's footprint). A scene where nothing changes counts as an object a
    # hundredth of the view in size.
    unexplained = _unexplained_ranges(ref, gen, contrast)  # (V, R, S, S)
    # The look difference of the first frames at each pixel, and at least its typical
    # level over the view (codec and sensor noise do not stay where they were).
    look = torch.maximum(start_gap, _quantile(start_gap.flatten(1), 0.9)[:, None, None])
    excess = _opening((unexplained - look.unsqueeze(1) - 2.0 * LOOK_FLOOR).clamp_min(0.0))
    footprint = _colour_difference(ref.relative_last, ref.relative_first).mean()
    process_unexplained = excess.mean() / footprint.clamp_min(0.01 * VISIBLE)

    # Arm motion ---------------------------------------------------------------
    ref_maps, gen_maps = ref.motion_maps, gen.motion_maps  # (V, T-1, G*G)
    map_similarity = _correlation(ref_maps.unsqueeze(2), gen_maps.unsqueeze(1))  # (V, T-1, T-1)
    path_distance = torch.cdist(ref.motion_path, gen.motion_path)  # in view fractions
    warped = dtw(torch.cat([(1.0 - map_similarity) / 2.0, path_distance]))
    features["motion_map_dtw"], features["centroid_dtw"] = warped[:views], warped[views:]
    features["motion_map_corr_aligned"] = torch.diagonal(map_similarity, dim1=1, dim2=2).mean(dim=1)

    ref_energy, gen_energy = ref_maps.mean(dim=-1), gen_maps.mean(dim=-1)  # (V, T-1)
    features["energy_corr"] = _correlation(ref_energy, gen_energy)
    features["energy_log_ratio"] = torch.log(
        (gen_energy.sum(dim=1) + QUANTUM) / (ref_energy.sum(dim=1) + QUANTUM)
    )

    # Artifacts -----------------------------------------------------------------
    features["flicker_log_ratio"] = torch.log((gen.flicker + QUANTUM) / (ref.flicker + QUANTUM))
    features["break_log_ratio"] = torch.log(gen.spikiness / ref.spikiness)
    # Windowed means and squares are each clip's own; only the cross moment is per pair.
    (gen_mu, gen_sq), (ref_mu, ref_sq) = gen.frames_moments, ref.frames_moments
    cross = _filtered(gen.frames_gray * ref.frames_gray)
    process_mean, process_local = _summary(
        _ssim_from_moments(gen_mu, ref_mu, gen_sq, ref_sq, cross)
    )
    features["process_ssim_drop"] = start_mean - process_mean.view(views, -1).mean(dim=1)
    features["process_local_ssim_drop"] = start_local - process_local.view(views, -1).mean(dim=1)

    summary = {name: float(value.mean()) for name, value in features.items()}
    summary["missed_change"] = float(missed_change)
    summary["extra_change"] = float(extra_change)
    summary["vanish"] = float(vanish)
    summary["process_residual"] = float(process_residual)
    summary["final_object_mismatch"] = float(final_object_mismatch)
    summary["process_unexplained"] = float(process_unexplained)
    summary["views"] = float(views)
    for name, value in summary.items():
        if not math.isfinite(value):
            raise FeatureError(f"feature {name} is not finite")
    return summary
