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
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
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
    """A decoded clip, reduced. Arrays are float32, pixel values in [0, 1]."""

    frames: np.ndarray  # (views, time_bins, 3, size, size): mean frame per normalized-time bin
    first: np.ndarray  # (views, 3, size, size): the very first frame
    last: np.ndarray  # (views, 3, size, size): the very last frame
    step_mean: np.ndarray  # (views, time_bins): mean frame-to-frame change within the bin
    step_max: np.ndarray  # (views, time_bins): largest frame-to-frame change within the bin
    flicker: np.ndarray  # (views, time_bins): mean local-brightness second difference
    # (views, min(RANGE_BINS, time_bins), 3, size, size), 8-bit: per pixel, the smallest
    # and largest value of the frames in each equal part of the clip ...
    range_low: np.ndarray
    range_high: np.ndarray
    # ... and of the frames within TIME_TOLERANCE of those.
    envelope_low: np.ndarray
    envelope_high: np.ndarray
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


# Per thread, the bin arrays of the last decoded clip, for the next one (`_BinAccumulator`).
_workspace = threading.local()


class _BinAccumulator:
    """Per-bin sums and extremes that merge pairwise when full, keeping memory bounded.

    Bin `b` holds frames `b * bin_width` to `(b + 1) * bin_width - 1`. Besides the sum of
    its frames (for the mean frame), a bin keeps each pixel's smallest and largest value
    over its frames: the tolerance envelope is built from what the frames really show,
    not from their averages, in which a fast-moving arm is only a faint double image.
    """

    def __init__(self, *, capacity: int, views: int, frame_shape: tuple[int, ...]) -> None:
        self.capacity = capacity
        self.bin_width = 1
        # A bin's arrays are written when its first frames arrive, so none is initialized,
        # and the large ones are reused from the thread's previous clip of the same shape:
        # fresh memory costs a page fault per 4 KiB, as much again as filling it.
        shape = (capacity, *frame_shape)
        reused = getattr(_workspace, "bins", None)
        if reused is None or reused[0].shape != shape:
            reused = (
                np.empty(shape, dtype=np.float32),
                np.empty(shape, dtype=np.uint8),
                np.empty(shape, dtype=np.uint8),
            )
        # Taken, not shared: a nested decode in the same thread allocates its own.
        _workspace.bins = None
        self._workspace = reused
        self.frame_sum, self.frame_low, self.frame_high = reused
        self.step_sum = np.empty((capacity, views), dtype=np.float32)
        self.step_count = np.empty(capacity, dtype=np.int64)
        self.step_max = np.empty((capacity, views), dtype=np.float32)
        self.flicker_sum = np.empty((capacity, views), dtype=np.float32)
        self.flicker_count = np.empty(capacity, dtype=np.int64)
        self.frames_seen = 0

    @property
    def used(self) -> int:
        """Bins holding at least one frame."""
        return -(-self.frames_seen // self.bin_width)

    def add_block(
        self, frames: np.ndarray, steps: np.ndarray, flicker: np.ndarray, valid: np.ndarray
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
        frames: np.ndarray,
        steps: np.ndarray,
        flicker: np.ndarray,
        valid: np.ndarray,
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
            total = shaped.sum(axis=1, dtype=np.float32)
            low, high = shaped.min(axis=1), shaped.max(axis=1)
        views = steps.shape[1]
        step = steps[run].reshape(bins, per_bin, views)
        flick = flicker[run].reshape(bins, per_bin, views)
        values = (
            (self.frame_sum, total, np.add),
            (self.frame_low, low, np.minimum),
            (self.frame_high, high, np.maximum),
            (self.step_sum, step.sum(axis=1), np.add),
            (self.step_count, valid[run, 0].reshape(bins, per_bin).sum(axis=1), np.add),
            # Signals are >= 0 and 0 where not valid, so they never raise a maximum.
            (self.step_max, step.max(axis=1), np.maximum),
            (self.flicker_sum, flick.sum(axis=1), np.add),
            (self.flicker_count, valid[run, 1].reshape(bins, per_bin).sum(axis=1), np.add),
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
            (self.frame_sum, np.add),
            (self.frame_low, np.minimum),
            (self.frame_high, np.maximum),
            (self.step_sum, np.add),
            (self.step_count, np.add),
            (self.step_max, np.maximum),
            (self.flicker_sum, np.add),
            (self.flicker_count, np.add),
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
        """Hand the bin arrays back to the thread's workspace; the accumulator is done."""
        _workspace.bins = self._workspace

    def _counts(self) -> np.ndarray:
        starts = np.arange(self.used) * self.bin_width
        return np.minimum(self.bin_width, self.frames_seen - starts).astype(np.float64)

    def resample(
        self, *, time_bins: int, range_bins: int, frame_scale: float = 1.0, tolerance: float = 0.1
    ) -> tuple[np.ndarray, ...]:
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

        def interpolate(values: np.ndarray) -> np.ndarray:
            w = weight.reshape(-1, 1).astype(np.float32)
            result = values[left] * (1.0 - w)
            result += values[right] * w
            return result

        # Mean frames: each instant is two weighted bin sums (weights folding in the
        # bin's frame count and the scale), one frame at a time to avoid temporaries.
        frames = np.empty((time_bins, *self.frame_sum.shape[1:]), dtype=np.float32)
        for target in range(time_bins):
            a, b, w = left[target], right[target], float(weight[target])
            np.multiply(
                self.frame_sum[a],
                np.float32(frame_scale * (1.0 - w) / counts[a]),
                out=frames[target],
            )
            if w > 0.0:
                frames[target] += self.frame_sum[b] * np.float32(frame_scale * w / counts[b])
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
            extremes.append(
                (
                    _window_extremes(self.frame_low[:used], first, last, np.minimum),
                    _window_extremes(self.frame_high[:used], first, last, np.maximum),
                )
            )
        step_mean = interpolate(
            self.step_sum[:used] / np.maximum(self.step_count[:used], 1)[:, None]
        )
        step_max = interpolate(self.step_max[:used])
        flicker = interpolate(
            self.flicker_sum[:used] / np.maximum(self.flicker_count[:used], 1)[:, None]
        )
        return (
            frames,
            step_mean.astype(np.float32),
            step_max.astype(np.float32),
            flicker.astype(np.float32),
            *extremes[0],
            *extremes[1],
        )


def _window_extremes(
    values: np.ndarray, first: np.ndarray, last: np.ndarray, combine: np.ufunc
) -> np.ndarray:
    """`combine` (np.minimum or np.maximum) over values[first[k]:last[k]] for each k.

    With a sparse table: level j holds the combination over 2**j consecutive bins, and
    any window is the combination of two (overlapping) spans of one level.
    """
    lengths = last - first
    levels = [values]
    while 2 ** len(levels) <= lengths.max():
        previous, span = levels[-1], 2 ** (len(levels) - 1)
        levels.append(combine(previous[:-span], previous[span:]))
    result = np.empty((len(first), *values.shape[1:]), dtype=values.dtype)
    for index, (start, length) in enumerate(zip(first, lengths, strict=True)):
        level = int(length).bit_length() - 1
        table, span = levels[level], 2**level
        combine(table[start], table[start + length - span], out=result[index])
    return result


def _local_brightness(frames: np.ndarray, *, views: int) -> np.ndarray:
    """Brightness summed on a coarse grid per view: (n, size, views*size, 3) -> (n, views, grid, grid).

    Sums over each cell's pixels and channels (the caller scales them to means); the
    contiguous axis (a cell row's pixels and channels) is summed first.
    """
    count, size = frames.shape[0], frames.shape[1]
    grid = FLICKER_GRID
    cell = size // grid
    if cell * grid != size:
        frames = frames.reshape(count, size, views, size, 3)[
            :, : cell * grid, :, : cell * grid
        ].reshape(count, cell * grid, views * cell * grid, 3)
    rows = frames.reshape(count, grid * cell, views * grid, cell * 3).sum(axis=3, dtype=np.uint32)
    sums = rows.reshape(count, grid, cell, views, grid).sum(axis=2)
    return sums.transpose(0, 2, 1, 3)


# Frames are shrunk one by one as they decode, then measured in blocks of this many:
# one numpy call per block instead of per frame, with memory still bounded.
DECODE_BLOCK = 16


class _ClipReader:
    """Turns blocks of shrunk frames into accumulated bins, carrying state across blocks.

    Frames stay in their decoded layout (n, size, views*size, 3) and in 8-bit integers
    while they are measured and summed; views are split and values scaled to [0, 1]
    only on the small results, which saves several passes over every frame.
    """

    def __init__(self, *, views: int, size: int, time_bins: int) -> None:
        self.views, self.size = views, size
        self.accumulator = _BinAccumulator(
            capacity=2 * time_bins, views=views, frame_shape=(size, views * size, 3)
        )
        # Slot 0 holds the frame before the block, so that every frame has its predecessor.
        self.buffer = np.zeros((DECODE_BLOCK + 1, size, views * size, 3), dtype=np.uint8)
        self.first: np.ndarray | None = None
        self.brightness_tail: np.ndarray | None = None  # the last two frames' local brightness

    @property
    def last(self) -> np.ndarray | None:
        return None if self.first is None else self.buffer[0]

    def consume(self, block: list[np.ndarray]) -> None:
        if not block:
            return
        count, size, views = len(block), self.size, self.views
        buffer = self.buffer
        for index, frame in enumerate(block):
            buffer[index + 1] = frame
        frames, previous = buffer[1 : count + 1], buffer[:count]
        seen = self.accumulator.frames_seen
        # Mean absolute change from the previous frame, per view, exact in 8-bit integers.
        change = np.maximum(frames, previous)
        change -= np.minimum(frames, previous)
        pixels = np.float32(1.0 / (255.0 * size * size * 3))
        steps = (
            change.reshape(count, size, views, size * 3).sum(axis=(1, 3), dtype=np.uint32) * pixels
        ).astype(np.float32)
        cell = size // FLICKER_GRID
        brightness = _local_brightness(frames, views=views) * np.float32(
            1.0 / (255.0 * cell * cell * 3)
        )
        history = (
            brightness
            if self.brightness_tail is None
            else np.concatenate([self.brightness_tail, brightness])
        )
        flicker = np.zeros((count, views), dtype=np.float32)
        if len(history) >= 3:
            second = np.abs(history[2:] - 2.0 * history[1:-1] + history[:-2])
            flicker[count - len(second) :] = second.reshape(len(second), views, -1).max(axis=2)
        frame_numbers = seen + np.arange(count)
        valid = np.stack([frame_numbers >= 1, frame_numbers >= 2], axis=1)
        steps[~valid[:, 0]] = 0.0
        self.accumulator.add_block(frames, steps, flicker, valid)
        if self.first is None:
            self.first = frames[0].copy()
        buffer[0] = frames[-1]
        self.brightness_tail = history[-2:].copy()


def _split_views(frame: np.ndarray, *, views: int) -> np.ndarray:
    """(size, views*size, 3) in 8-bit units -> (views, 3, size, size) in [0, 1]."""
    size = frame.shape[0]
    split = frame.reshape(size, views, size, 3).transpose(1, 3, 0, 2)
    result = np.ascontiguousarray(split, dtype=np.float32)
    result *= np.float32(1.0 / 255.0)
    return result


def decode_clip(
    path: Path | str,
    *,
    size: int = 64,
    time_bins: int = 32,
    views: int | None = None,
    thread_type: str = "AUTO",
) -> ClipSamples:
    """Decode a clip into `ClipSamples`, streaming, with memory bounded by `size` and `time_bins`.

    `thread_type` is FFmpeg's decoder threading; callers that already decode several
    clips in parallel pass "SLICE" so that frame threads do not oversubscribe the cores.
    """
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
        reader = _ClipReader(views=view_count, size=size, time_bins=time_bins)
        # One reformatter for the whole clip: it keeps its scaling context between frames.
        reformatter = VideoReformatter()
        block: list[np.ndarray] = []
        try:
            for frame in container.decode(stream):
                # Shrunk inside FFmpeg's scaler, so full-size frames never become arrays.
                block.append(
                    reformatter.reformat(
                        frame,
                        width=view_count * size,
                        height=size,
                        format="rgb24",
                        interpolation="AREA",
                    ).to_ndarray()
                )
                if len(block) == DECODE_BLOCK:
                    reader.consume(block)
                    block = []
            reader.consume(block)
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

    def by_view(values: np.ndarray) -> np.ndarray:
        # (time, size, views*size, 3) -> (views, time, 3, size, size), in one copy
        split = values.reshape(len(values), size, view_count, size, 3)
        return np.ascontiguousarray(split.transpose(2, 0, 4, 1, 3))

    return ClipSamples(
        frames=by_view(frames),
        first=_split_views(first, views=view_count),
        last=_split_views(previous, views=view_count),
        step_mean=np.ascontiguousarray(step_mean.T),
        step_max=np.ascontiguousarray(step_max.T),
        flicker=np.ascontiguousarray(flicker.T),
        range_low=by_view(extremes[0]),
        range_high=by_view(extremes[1]),
        envelope_low=by_view(extremes[2]),
        envelope_high=by_view(extremes[3]),
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
