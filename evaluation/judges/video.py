"""Streaming clip decoding onto a normalized time base, with view splitting.

A clip of any length is reduced, while it decodes, to a fixed number of
time bins over normalized time [0, 1]: each frame is shrunk at once to a few
thousand pixels per view and added into its bin. When the bins fill up,
neighbouring bins are merged (the bin width doubles), so memory stays bounded
without trusting the container's announced duration or frame count. At the end
the bins are resampled onto `time_bins` evenly spaced instants, which puts
clips of different lengths and frame rates on a common time base.

Besides the mean frame per bin, two per-frame signals that averaging would
hide are accumulated per bin: the frame-to-frame change (for sudden breaks)
and the second temporal difference of local brightness (for flicker).

Everything after decoding runs in torch on the judge's device. Each frame is shrunk
by FFmpeg's scaler as it decodes (`ScalerShrinker`), or, for an accelerator, the
decoder's own planes go to the device in blocks and are shrunk and converted there
(`PlaneShrinker`), so that the host does little more than decode.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import torch
from av.video.reformatter import VideoReformatter

FLICKER_GRID = 4
# How early or late an instant of one clip may be matched in the other: a tenth of the
# episode. The tolerance envelope holds what the frames show within it (`ClipSamples`).
TIME_TOLERANCE = 0.1
# Frame ranges (each pixel's smallest and largest value) are kept per sixteenth of the
# clip: every frame is in one, and finer ones would cost more without seeing more
# within a tolerance of a tenth.
RANGE_BINS = 16


class ClipDecodeError(Exception):
    """A clip cannot be opened or decoded."""


@dataclass(frozen=True)
class ClipSamples:
    """A decoded clip, reduced, on the decoding device. Tensors are float32, pixel values
    in [0, 1], unless said otherwise."""

    frames: torch.Tensor  # (views, time_bins, 3, size, size): mean frame per normalized-time bin
    first: torch.Tensor  # (views, 3, size, size): the very first frame
    last: torch.Tensor  # (views, 3, size, size): the very last frame
    step_mean: torch.Tensor  # (views, time_bins): mean frame-to-frame change within the bin
    step_max: torch.Tensor  # (views, time_bins): largest frame-to-frame change within the bin
    flicker: torch.Tensor  # (views, time_bins): mean local-brightness second difference
    # (views, min(RANGE_BINS, time_bins), 3, size, size), 8-bit: per pixel, the smallest
    # and largest value of the frames in each equal part of the clip ...
    range_low: torch.Tensor
    range_high: torch.Tensor
    # ... and of the frames within TIME_TOLERANCE of those.
    envelope_low: torch.Tensor
    envelope_high: torch.Tensor
    frame_count: int
    width: int
    height: int
    views: int

    @property
    def nbytes(self) -> int:
        return sum(
            array.nbytes
            for array in (
                self.frames,
                self.first,
                self.last,
                self.step_mean,
                self.step_max,
                self.flicker,
                self.range_low,
                self.range_high,
                self.envelope_low,
                self.envelope_high,
            )
        )


def views_in_layout(*, width: int, height: int, forced: int | None = None) -> int:
    """How many side-by-side camera views a frame holds.

    Views are assumed square-ish and laid out horizontally: a 672x224 frame is
    three 224x224 views. A frame whose width is not an integer multiple (>= 2)
    of its height is one view.
    """
    if forced is not None:
        if forced < 1 or forced > width:
            raise ClipDecodeError(f"cannot split a {width}x{height} frame into {forced} views")
        return forced
    if height <= 0 or width <= 0:
        raise ClipDecodeError(f"invalid frame size {width}x{height}")
    ratio = width / height
    nearest = round(ratio)
    if nearest >= 2 and abs(ratio - nearest) <= 0.02 * nearest:
        return nearest
    return 1


# Per thread, the bin tensors of the last decoded clip, for the next one (`_BinAccumulator`).
_workspace = threading.local()


class _BinAccumulator:
    """Per-bin sums and extremes that merge pairwise when full, keeping memory bounded.

    Bin `b` holds frames `b * bin_width` to `(b + 1) * bin_width - 1`. Besides the sum of
    its frames (for the mean frame), a bin keeps each pixel's smallest and largest value
    over its frames: the tolerance envelope is built from what the frames really show,
    not from their averages, in which a fast-moving arm is only a faint double image.
    """

    def __init__(
        self, *, capacity: int, views: int, frame_shape: tuple[int, ...], device: torch.device
    ) -> None:
        self.capacity = capacity
        self.bin_width = 1
        # A bin's tensors are written when its first frames arrive, so none is initialized,
        # and the large ones are reused from the thread's previous clip of the same shape:
        # fresh memory costs a page fault per 4 KiB, as much again as filling it.
        shape = (capacity, *frame_shape)
        reused = getattr(_workspace, "bins", None)
        if reused is None or reused[0].shape != shape or reused[0].device != device:
            reused = (
                torch.empty(shape, dtype=torch.float32, device=device),
                torch.empty(shape, dtype=torch.uint8, device=device),
                torch.empty(shape, dtype=torch.uint8, device=device),
            )
        # Taken, not shared: a nested decode in the same thread allocates its own.
        _workspace.bins = None
        self._workspace = reused
        self.frame_sum, self.frame_low, self.frame_high = reused

        def small(*size: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
            return torch.empty(size, dtype=dtype, device=device)

        self.step_sum = small(capacity, views)
        self.step_count = small(capacity, dtype=torch.int64)
        self.step_max = small(capacity, views)
        self.flicker_sum = small(capacity, views)
        self.flicker_count = small(capacity, dtype=torch.int64)
        self.frames_seen = 0

    @property
    def used(self) -> int:
        """Bins holding at least one frame."""
        return -(-self.frames_seen // self.bin_width)

    def add_block(
        self, frames: torch.Tensor, steps: torch.Tensor, flicker: torch.Tensor, valid: torch.Tensor
    ) -> None:
        """Add consecutive 8-bit frames (n, *frame_shape) with their per-frame signals (n, views).

        `valid` (n, 2) says which frames have a step (all but the clip's first) and a
        flicker value (all but the first two); the signals of the others are 0. Whole
        runs of frames are folded into their bins at once, not frame by frame.
        """
        done, total = 0, len(frames)
        while done < total:
            if self.frames_seen // self.bin_width >= self.capacity:
                self._merge_pairs()
            width, seen = self.bin_width, self.frames_seen
            available = min(total - done, self.capacity * width - seen)
            if seen % width:  # complete the partly filled bin first
                take = min(available, width - seen % width)
            elif available >= width:  # then whole bins
                take = available // width * width
            else:  # then a partly filled last bin
                take = available
            self._fold(slice(done, done + take), frames, steps, flicker, valid)
            done += take

    def _fold(
        self,
        run: slice,
        frames: torch.Tensor,
        steps: torch.Tensor,
        flicker: torch.Tensor,
        valid: torch.Tensor,
    ) -> None:
        """Fold a run of frames that fills whole bins, or part of one bin, into the bins.

        A run that starts a bin writes it; one that continues a bin adds to it.
        """
        count = run.stop - run.start
        width = self.bin_width
        per_bin = width if count >= width and count % width == 0 else count
        bins = count // per_bin
        first = self.frames_seen // width
        into = slice(first, first + bins)
        if per_bin == 1:
            total, low, high = frames[run], frames[run], frames[run]
        else:
            shaped = frames[run].reshape(bins, per_bin, *frames.shape[1:])
            total = shaped.sum(dim=1, dtype=torch.float32)
            low, high = shaped.amin(dim=1), shaped.amax(dim=1)
        views = steps.shape[1]
        step = steps[run].reshape(bins, per_bin, views)
        flick = flicker[run].reshape(bins, per_bin, views)
        values = (
            (self.frame_sum, total, torch.add),
            (self.frame_low, low, torch.minimum),
            (self.frame_high, high, torch.maximum),
            (self.step_sum, step.sum(dim=1), torch.add),
            (self.step_count, valid[run, 0].reshape(bins, per_bin).sum(dim=1), torch.add),
            # Signals are >= 0 and 0 where not valid, so they never raise a maximum.
            (self.step_max, step.amax(dim=1), torch.maximum),
            (self.flicker_sum, flick.sum(dim=1), torch.add),
            (self.flicker_count, valid[run, 1].reshape(bins, per_bin).sum(dim=1), torch.add),
        )
        starts_bin = self.frames_seen % width == 0
        for array, value, combine in values:
            if starts_bin:
                array[into] = value
            else:
                combine(array[into], value, out=array[into])
        self.frames_seen += count

    def _merge_pairs(self) -> None:
        """Bins 2k and 2k+1 become bin k, in place.

        Bin k is written from bins 2k and 2k+1, which lie at or after it: going in
        doubling chunks [1, 2), [2, 4), [4, 8), ..., no chunk reads what it writes.
        """
        half = self.capacity // 2
        combines = (
            (self.frame_sum, torch.add),
            (self.frame_low, torch.minimum),
            (self.frame_high, torch.maximum),
            (self.step_sum, torch.add),
            (self.step_count, torch.add),
            (self.step_max, torch.maximum),
            (self.flicker_sum, torch.add),
            (self.flicker_count, torch.add),
        )
        for array, combine in combines:
            combine(array[0:1], array[1:2], out=array[0:1])
            start = 1
            while start < half:
                stop = min(2 * start, half)
                combine(
                    array[2 * start : 2 * stop : 2],
                    array[2 * start + 1 : 2 * stop : 2],
                    out=array[start:stop],
                )
                start = stop
        self.bin_width *= 2

    def release(self) -> None:
        """Hand the bin tensors back to the thread's workspace; the accumulator is done."""
        _workspace.bins = self._workspace

    def _counts(self) -> np.ndarray:
        starts = np.arange(self.used) * self.bin_width
        return np.minimum(self.bin_width, self.frames_seen - starts).astype(np.float64)

    def resample(
        self, *, time_bins: int, range_bins: int, frame_scale: float = 1.0, tolerance: float = 0.1
    ) -> tuple[torch.Tensor, ...]:
        """Bins onto `time_bins` evenly spaced normalized instants, and frame ranges.

        Mean frames (multiplied by `frame_scale`) and the per-frame signals are linearly
        interpolated between the bins around each instant. Frame ranges are per pixel,
        for each of `range_bins` equal parts of the clip: the smallest and largest 8-bit
        values of the part's own frames (those overlapping it), and of the frames within
        `tolerance` of normalized time of them (the envelope).
        """
        used, total = self.used, self.frames_seen
        counts = self._counts()
        starts = np.arange(used) * self.bin_width
        # Frame i covers [i/N, (i+1)/N]; a bin's centre is the mean of its frames' centres.
        centres = (starts + (counts - 1.0) / 2.0 + 0.5) / total
        targets = (np.arange(time_bins) + 0.5) / time_bins
        right = np.clip(np.searchsorted(centres, targets), 1, max(used - 1, 1))
        left = right - 1
        if used == 1:
            left = right = np.zeros(time_bins, dtype=np.int64)
            weight = np.zeros(time_bins)
        else:
            span = centres[right] - centres[left]
            weight = np.clip((targets - centres[left]) / span, 0.0, 1.0)
        device = self.frame_sum.device
        w = torch.from_numpy(weight.astype(np.float32)).to(device).reshape(-1, 1)
        left_index, right_index = (torch.from_numpy(i).to(device) for i in (left, right))

        def interpolate(values: torch.Tensor) -> torch.Tensor:
            return values[left_index] * (1.0 - w) + values[right_index] * w

        # Mean frames: each instant is two weighted bin sums (the weights folding in the
        # bins' frame counts and the scale), written straight into the views' layout.
        frames, into = self._by_view(time_bins, torch.float32)
        for target in range(time_bins):
            a, b, share = int(left[target]), int(right[target]), float(weight[target])
            torch.mul(self.frame_sum[a], frame_scale * (1.0 - share) / counts[a], out=into[target])
            if share > 0.0:
                into[target].add_(self.frame_sum[b], alpha=frame_scale * share / counts[b])
        # The frames of each instant (those overlapping its own 1/time_bins of the clip),
        # and those within the tolerance of it, as ranges of bins [first, last).
        ends = (starts + counts) / total
        own = (np.arange(range_bins) / range_bins, (np.arange(range_bins) + 1) / range_bins)
        # Each frame is matched within the tolerance of itself: the union of those
        # windows over an instant's frames.
        near = (own[0] - tolerance, own[1] + tolerance)
        extremes = []
        for early, late in (own, near):
            first = np.searchsorted(ends, early, side="right")
            last = np.searchsorted(starts / total, late, side="left")
            for values, combine in (
                (self.frame_low, torch.minimum),
                (self.frame_high, torch.maximum),
            ):
                result, into = self._by_view(range_bins, torch.uint8)
                _window_extremes(values[:used], first, last, combine, out=into)
                extremes.append(result)
        step_mean = interpolate(self.step_sum[:used] / self.step_count[:used].clamp_min(1)[:, None])
        step_max = interpolate(self.step_max[:used])
        flicker = interpolate(
            self.flicker_sum[:used] / self.flicker_count[:used].clamp_min(1)[:, None]
        )
        return (frames, step_mean, step_max, flicker, *extremes)

    def _by_view(self, count: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """A (views, count, 3, size, size) tensor, and the same as (count, *frame_shape) to
        write frames into (each frame's views stay contiguous)."""
        result = torch.empty(
            (self.frame_sum.shape[1], count, *self.frame_sum.shape[2:]),
            dtype=dtype,
            device=self.frame_sum.device,
        )
        return result, result.transpose(0, 1)


def _window_extremes(
    values: torch.Tensor,
    first: np.ndarray,
    last: np.ndarray,
    combine: Callable[..., torch.Tensor],
    *,
    out: torch.Tensor,
) -> None:
    """`combine` (torch.minimum or torch.maximum) over values[first[k]:last[k]] into out[k].

    With a sparse table: level j holds the combination over 2**j consecutive bins, and
    any window is the combination of two (overlapping) spans of one level.
    """
    lengths = last - first
    levels = [values]
    while 2 ** len(levels) <= lengths.max():
        previous, span = levels[-1], 2 ** (len(levels) - 1)
        levels.append(combine(previous[:-span], previous[span:]))
    for index, (start, length) in enumerate(zip(first.tolist(), lengths.tolist(), strict=True)):
        level = length.bit_length() - 1
        table, span = levels[level], 2**level
        combine(table[start], table[start + length - span], out=out[index])


def _local_brightness(frames: torch.Tensor) -> torch.Tensor:
    """Brightness summed on a coarse grid per view: (n, views, 3, size, size) -> (n, views, grid, grid).

    Sums over each cell's pixels and channels (the caller scales them to means); the
    channels are added first, in 16-bit integers.
    """
    count, views, _, size, _ = frames.shape
    grid = FLICKER_GRID
    cell = size // grid
    whole = frames[..., : cell * grid, : cell * grid]
    channels = whole[:, :, 0].to(torch.int16) + whole[:, :, 1] + whole[:, :, 2]
    cells = channels.reshape(count, views, grid, cell, grid, cell)
    return cells.sum(dim=(3, 5), dtype=torch.int32)


# Frames are shrunk as they decode, then measured in blocks of this many: a few tensor
# operations per block instead of per frame, with memory still bounded.
DECODE_BLOCK = 16
# 8-bit planar Y'CbCr layouts whose planes the device reads as they are; any other is
# converted to the first on the host.
PLANAR_YUV = frozenset(
    f"yuv{j}{sampling}p" for j in ("", "j") for sampling in ("420", "422", "444", "440", "411")
)
CONVERTED = "yuv420p"
# FFmpeg's numbers for a BT.709 colour matrix and for full-range ("JPEG") values.
BT709, FULL_RANGE = 1, 2


class ScalerShrinker:
    """Shrinks each frame in FFmpeg's area scaler, on the host, as it decodes."""

    def __init__(self, *, size: int, views: int) -> None:
        self.size, self.views = size, views
        # One reformatter for the whole clip: it keeps its scaling context between frames.
        self.reformatter = VideoReformatter()
        self.block = torch.empty((DECODE_BLOCK, size, views * size, 3), dtype=torch.uint8)
        self.arrays = self.block.numpy()  # the same memory: numpy copies a frame in faster
        self.pending = 0

    def push(self, frame: av.VideoFrame) -> None:
        # Shrunk inside FFmpeg's scaler, so full-size frames never become arrays.
        image = self.reformatter.reformat(
            frame,
            width=self.views * self.size,
            height=self.size,
            format="rgb24",
            interpolation="AREA",
        ).to_ndarray()
        self.arrays[self.pending] = image
        self.pending += 1

    def take(self, out: torch.Tensor) -> None:
        """Write the pending frames, (n, views, 3, size, size) 8-bit RGB, into `out`."""
        count, size = self.pending, self.size
        out.copy_(self.block[:count].view(count, size, self.views, size, 3).permute(0, 2, 4, 1, 3))
        self.pending = 0


def area_matrix(n_in: int, n_out: int) -> torch.Tensor:
    """(n_out, n_in): output i is the mean of inputs [i*s, (i+1)*s), s = n_in / n_out,
    each input weighted by the share of it inside that span."""
    scale = n_in / n_out
    starts = np.arange(n_out)[:, None] * scale
    samples = np.arange(n_in)[None, :]
    overlap = np.minimum(starts + scale, samples + 1) - np.maximum(starts, samples)
    return torch.from_numpy((np.clip(overlap, 0.0, None) / scale).astype(np.float32))


class PlaneShrinker:
    """Shrinks frames on the judge's device from the decoder's own planes.

    The host copies each frame's 8-bit Y, Cb and Cr planes into a block; on the device
    each plane is area-averaged to the output size (two small matrix products), and
    the three are converted to RGB there (ITU-R BT.601, or BT.709 where the stream says
    so; studio or full range). Area averaging and the conversion are both linear, so up
    to rounding this is the area shrink of the full-size RGB frame.
    """

    def __init__(self, *, size: int, views: int, device: torch.device) -> None:
        self.size, self.views, self.device = size, views, device
        self.layout: tuple[str, int, int] | None = None
        self.pending = 0

    def _prepare(self, frame: av.VideoFrame) -> None:
        self.layout = (frame.format.name, frame.width, frame.height)
        out_height, out_width = self.size, self.views * self.size
        self.blocks = [
            torch.empty((DECODE_BLOCK, plane.height, plane.width), dtype=torch.uint8)
            for plane in frame.planes
        ]
        self.matrices = [
            (
                area_matrix(plane.height, out_height).to(self.device),
                area_matrix(plane.width, out_width).T.contiguous().to(self.device),
            )
            for plane in frame.planes
        ]
        kr, kb = (0.2126, 0.0722) if int(frame.colorspace) == BT709 else (0.299, 0.114)
        full = frame.format.name.startswith("yuvj") or int(frame.color_range) == FULL_RANGE
        # Luma offset and gain, chroma gain (8-bit studio range: luma 16-235, chroma 16-240).
        self.levels = (0.0, 1.0, 1.0) if full else (16.0, 255.0 / 219.0, 255.0 / 224.0)
        kg = 1.0 - kr - kb
        self.red_cr, self.blue_cb = 2.0 * (1.0 - kr), 2.0 * (1.0 - kb)
        self.green_cb, self.green_cr = -kb * self.blue_cb / kg, -kr * self.red_cr / kg

    def push(self, frame: av.VideoFrame) -> None:
        if frame.format.name not in PLANAR_YUV:
            frame = frame.reformat(format=CONVERTED)
        if self.layout is None:
            self._prepare(frame)
        elif (frame.format.name, frame.width, frame.height) != self.layout:
            name, width, height = self.layout  # a stream that changes size midway
            frame = frame.reformat(width=width, height=height, format=name)
        for plane, block in zip(frame.planes, self.blocks, strict=True):
            samples = np.frombuffer(plane, dtype=np.uint8).reshape(plane.height, plane.line_size)
            block[self.pending] = torch.from_numpy(samples[:, : plane.width])
        self.pending += 1

    def take(self, out: torch.Tensor) -> None:
        """Write the pending frames, (n, views, 3, size, size) 8-bit RGB, into `out`."""
        count = self.pending
        luma, blue, red = (
            rows @ block[:count].to(self.device).float() @ columns
            for block, (rows, columns) in zip(self.blocks, self.matrices, strict=True)
        )
        offset, gain, chroma_gain = self.levels
        y = luma.sub_(offset).mul_(gain)
        cb, cr = blue.sub_(128.0).mul_(chroma_gain), red.sub_(128.0).mul_(chroma_gain)
        rgb = torch.stack(
            [
                y + self.red_cr * cr,
                y + self.green_cb * cb + self.green_cr * cr,
                y + self.blue_cb * cb,
            ],
            dim=1,
        )  # (n, 3, size, views*size)
        size = self.size
        by_view = rgb.view(count, 3, size, self.views, size).permute(0, 3, 1, 2, 4)
        out.copy_(by_view.add_(0.5).clamp_(0.0, 255.0).to(torch.uint8))
        self.pending = 0


class _ClipReader:
    """Turns blocks of shrunk frames into accumulated bins, carrying state across blocks.

    Frames are (n, views, 3, size, size), each view's channels contiguous as the
    features read them, and stay in 8-bit integers while they are measured and summed;
    values are scaled to [0, 1] only on the small results.
    """

    def __init__(self, *, views: int, size: int, time_bins: int, device: torch.device) -> None:
        self.views, self.size = views, size
        self.accumulator = _BinAccumulator(
            capacity=2 * time_bins, views=views, frame_shape=(views, 3, size, size), device=device
        )
        # Slot 0 holds the frame before the block, so that every frame has its predecessor.
        self.buffer = torch.zeros(
            (DECODE_BLOCK + 1, views, 3, size, size), dtype=torch.uint8, device=device
        )
        self.first: torch.Tensor | None = None
        self.brightness_tail: torch.Tensor | None = None  # the last two frames' local brightness

    @property
    def last(self) -> torch.Tensor | None:
        return None if self.first is None else self.buffer[0]

    def consume(self, shrinker: ScalerShrinker | PlaneShrinker) -> None:
        """Measure and fold in the frames the shrinker holds."""
        count, size, views = shrinker.pending, self.size, self.views
        if not count:
            return
        buffer = self.buffer
        frames, previous = buffer[1 : count + 1], buffer[:count]
        shrinker.take(frames)
        seen = self.accumulator.frames_seen
        # Mean absolute change from the previous frame, per view, exact in 8-bit integers.
        change = torch.maximum(frames, previous).sub_(torch.minimum(frames, previous))
        pixels = 1.0 / (255.0 * size * size * 3)
        steps = change.view(count, views, -1).sum(dim=2, dtype=torch.int32).float() * pixels
        cell = size // FLICKER_GRID
        brightness = _local_brightness(frames).float() * (1.0 / (255.0 * cell * cell * 3))
        history = (
            brightness
            if self.brightness_tail is None
            else torch.cat([self.brightness_tail, brightness])
        )
        flicker = torch.zeros((count, views), dtype=torch.float32, device=frames.device)
        if len(history) >= 3:
            second = (history[2:] - 2.0 * history[1:-1] + history[:-2]).abs_()
            flicker[count - len(second) :] = second.reshape(len(second), views, -1).amax(dim=2)
        frame_numbers = seen + torch.arange(count, device=frames.device)
        valid = torch.stack([frame_numbers >= 1, frame_numbers >= 2], dim=1)
        steps[~valid[:, 0]] = 0.0
        self.accumulator.add_block(frames, steps, flicker, valid)
        if self.first is None:
            self.first = frames[0].clone()
        buffer[0] = frames[-1]
        self.brightness_tail = history[-2:].clone()


def _scaled(frame: torch.Tensor) -> torch.Tensor:
    """8-bit units -> [0, 1]."""
    return frame.float().mul_(1.0 / 255.0)


def decode_clip(
    path: Path | str,
    *,
    size: int = 64,
    time_bins: int = 32,
    views: int | None = None,
    thread_type: str = "AUTO",
    device: torch.device | str = "cpu",
    shrink: str = "scaler",
) -> ClipSamples:
    """Decode a clip into `ClipSamples` on `device`, streaming, with memory bounded by `size`
    and `time_bins`.

    `thread_type` is FFmpeg's decoder threading; callers that already decode several
    clips in parallel pass "SLICE" so that frame threads do not oversubscribe the cores.
    `shrink` is "scaler" (`ScalerShrinker`: FFmpeg's, on the host) or "planes"
    (`PlaneShrinker`: on the device, for an accelerator).
    """
    device = torch.device(device)
    if shrink not in ("scaler", "planes"):
        raise ClipDecodeError(f"unknown shrink {shrink!r}: 'scaler' or 'planes'")
    if size < FLICKER_GRID * 2 or time_bins < 4:
        raise ClipDecodeError(f"size {size} or time_bins {time_bins} too small")
    path = Path(path)
    if not path.is_file():
        raise ClipDecodeError(f"no such file: {path}")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise ClipDecodeError(f"cannot open {path.name}: {exc}") from exc
    with container:
        if not container.streams.video:
            raise ClipDecodeError(f"{path.name} has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = thread_type
        width, height = stream.codec_context.width, stream.codec_context.height
        view_count = views_in_layout(width=width, height=height, forced=views)
        reader = _ClipReader(views=view_count, size=size, time_bins=time_bins, device=device)
        shrinker = (
            ScalerShrinker(size=size, views=view_count)
            if shrink == "scaler"
            else PlaneShrinker(size=size, views=view_count, device=device)
        )
        try:
            for frame in container.decode(stream):
                shrinker.push(frame)
                if shrinker.pending == DECODE_BLOCK:
                    reader.consume(shrinker)
            reader.consume(shrinker)
        except av.FFmpegError as exc:
            raise ClipDecodeError(f"cannot decode {path.name}: {exc}") from exc
    accumulator, first, previous = reader.accumulator, reader.first, reader.last
    if first is None or previous is None or accumulator.frames_seen < 3:
        raise ClipDecodeError(
            f"{path.name} has {accumulator.frames_seen} frames; at least 3 needed"
        )
    frames, step_mean, step_max, flicker, *extremes = accumulator.resample(
        time_bins=time_bins,
        range_bins=min(RANGE_BINS, time_bins),
        frame_scale=1.0 / 255.0,
        tolerance=TIME_TOLERANCE,
    )
    accumulator.release()

    return ClipSamples(
        frames=frames,
        first=_scaled(first),
        last=_scaled(previous),
        step_mean=step_mean.T.contiguous(),
        step_max=step_max.T.contiguous(),
        flicker=flicker.T.contiguous(),
        range_low=extremes[0],
        range_high=extremes[1],
        envelope_low=extremes[2],
        envelope_high=extremes[3],
        frame_count=accumulator.frames_seen,
        width=width,
        height=height,
        views=view_count,
    )


def count_frames(path: Path | str, *, thread_type: str = "AUTO") -> int:
    """Decode a clip and count its frames, doing nothing else (the cost floor of judging)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = thread_type
        return sum(1 for _ in container.decode(stream))
