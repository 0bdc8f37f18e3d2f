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

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

FLICKER_GRID = 4
# How early or late an instant of one clip may be matched in the other: a tenth of the
# episode. The tolerance envelope holds what the frames show within it (`ClipSamples`).
TIME_TOLERANCE = 0.1


class ClipDecodeError(Exception):
    """A clip cannot be opened or decoded."""


@dataclass(frozen=True)
class ClipSamples:
    """A decoded clip, reduced. Arrays are float32, pixel values in [0, 1]."""

    frames: np.ndarray  # (views, time_bins, size, size, 3): mean frame per normalized-time bin
    first: np.ndarray  # (views, size, size, 3): the very first frame
    last: np.ndarray  # (views, size, size, 3): the very last frame
    step_mean: np.ndarray  # (views, time_bins): mean frame-to-frame change within the bin
    step_max: np.ndarray  # (views, time_bins): largest frame-to-frame change within the bin
    flicker: np.ndarray  # (views, time_bins): mean local-brightness second difference
    # (views, time_bins, size, size, 3), 8-bit: per pixel, the smallest and largest value
    # of any frame within TIME_TOLERANCE of each instant.
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
        self.frame_sum = np.zeros((capacity, *frame_shape), dtype=np.float32)
        self.frame_low = np.full((capacity, *frame_shape), 255, dtype=np.uint8)
        self.frame_high = np.zeros((capacity, *frame_shape), dtype=np.uint8)
        self.step_sum = np.zeros((capacity, views), dtype=np.float32)
        self.step_count = np.zeros(capacity, dtype=np.int64)
        self.step_max = np.zeros((capacity, views), dtype=np.float32)
        self.flicker_sum = np.zeros((capacity, views), dtype=np.float32)
        self.flicker_count = np.zeros(capacity, dtype=np.int64)
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
        """Fold a run of frames that fills whole bins, or part of one bin, into the bins."""
        count = run.stop - run.start
        width = self.bin_width
        per_bin = width if count >= width and count % width == 0 else count
        bins = count // per_bin
        first = self.frames_seen // width
        into = slice(first, first + bins)
        shaped = frames[run].reshape(bins, per_bin, *frames.shape[1:])
        if per_bin == 1:
            self.frame_sum[into] += frames[run]
            low = high = frames[run]
        else:
            self.frame_sum[into] += shaped.sum(axis=1, dtype=np.float32)
            low, high = shaped.min(axis=1), shaped.max(axis=1)
        np.minimum(self.frame_low[into], low, out=self.frame_low[into])
        np.maximum(self.frame_high[into], high, out=self.frame_high[into])
        views = steps.shape[1]
        step, flick = steps[run].reshape(bins, per_bin, views), flicker[run].reshape(bins, per_bin, views)
        self.step_sum[into] += step.sum(axis=1)
        self.step_count[into] += valid[run, 0].reshape(bins, per_bin).sum(axis=1)
        # Signals are >= 0 and 0 where not valid, so they never raise a maximum.
        np.maximum(self.step_max[into], step.max(axis=1), out=self.step_max[into])
        self.flicker_sum[into] += flick.sum(axis=1)
        self.flicker_count[into] += valid[run, 1].reshape(bins, per_bin).sum(axis=1)
        self.frames_seen += count

    def _merge_pairs(self) -> None:
        half = self.capacity // 2
        for array, combine, empty in (
            (self.frame_sum, np.add, 0),
            (self.frame_low, np.minimum, 255),
            (self.frame_high, np.maximum, 0),
            (self.step_sum, np.add, 0),
            (self.step_count, np.add, 0),
            (self.step_max, np.maximum, 0),
            (self.flicker_sum, np.add, 0),
            (self.flicker_count, np.add, 0),
        ):
            # (numpy copies the inputs where they overlap the output)
            combine(array[0::2], array[1::2], out=array[:half])
            array[half:] = empty
        self.bin_width *= 2

    def _counts(self) -> np.ndarray:
        starts = np.arange(self.used) * self.bin_width
        return np.minimum(self.bin_width, self.frames_seen - starts).astype(np.float64)

    def resample(
        self, *, time_bins: int, frame_scale: float = 1.0, tolerance: float = 0.1
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Bins onto `time_bins` evenly spaced normalized instants.

        Mean frames (multiplied by `frame_scale`) and the per-frame signals are linearly
        interpolated between the bins around each instant. The envelope of an instant is
        each pixel's smallest and largest 8-bit value over the frames within `tolerance`
        of normalized time of it (and over the frames its mean frame is made of).
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
        # The bins whose frames lie within the tolerance: [first, last) per instant.
        ends = (starts + counts) / total
        first = np.searchsorted(ends, targets - tolerance, side="right")
        last = np.searchsorted(starts / total, targets + tolerance, side="left")
        first = np.minimum(first, left)
        last = np.maximum(last, right + 1)
        low = np.empty((time_bins, *self.frame_low.shape[1:]), dtype=np.uint8)
        high = np.empty_like(low)
        for target in range(time_bins):
            window = slice(first[target], last[target])
            np.minimum.reduce(self.frame_low[window], axis=0, out=low[target])
            np.maximum.reduce(self.frame_high[window], axis=0, out=high[target])
        step_mean = interpolate(self.step_sum[:used] / np.maximum(self.step_count[:used], 1)[:, None])
        step_max = interpolate(self.step_max[:used])
        flicker = interpolate(
            self.flicker_sum[:used] / np.maximum(self.flicker_count[:used], 1)[:, None]
        )
        return (
            frames,
            step_mean.astype(np.float32),
            step_max.astype(np.float32),
            flicker.astype(np.float32),
            low,
            high,
        )


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
            change.reshape(count, size, views, size * 3).sum(axis=(1, 3), dtype=np.uint32)
            * pixels
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


def _split_views(frames: np.ndarray, *, views: int) -> np.ndarray:
    """(..., size, views*size, 3) in 8-bit units -> (..., views, size, size, 3) in [0, 1]."""
    size = frames.shape[-3]
    lead = frames.shape[:-3]
    split = frames.reshape(*lead, size, views, size, 3)
    axes = list(range(len(lead)))
    moved = split.transpose(*axes, len(lead) + 1, len(lead), len(lead) + 2, len(lead) + 3)
    result = np.ascontiguousarray(moved, dtype=np.float32)
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
    frames, step_mean, step_max, flicker, low, high = accumulator.resample(
        time_bins=time_bins, frame_scale=1.0 / 255.0, tolerance=TIME_TOLERANCE
    )

    def by_view(values: np.ndarray) -> np.ndarray:
        # (time, size, views*size, 3) -> (views, time, size, size, 3)
        split = values.reshape(time_bins, size, view_count, size, 3)
        return np.ascontiguousarray(split.transpose(2, 0, 1, 3, 4))

    return ClipSamples(
        frames=by_view(frames),
        first=_split_views(first, views=view_count),
        last=_split_views(previous, views=view_count),
        step_mean=np.ascontiguousarray(step_mean.T),
        step_max=np.ascontiguousarray(step_max.T),
        flicker=np.ascontiguousarray(flicker.T),
        envelope_low=by_view(low),
        envelope_high=by_view(high),
        frame_count=accumulator.frames_seen,
        width=width,
        height=height,
        views=view_count,
    )


def count_frames(path: Path | str) -> int:
    """Decode a clip and count its frames, doing nothing else (the cost floor of judging)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        return sum(1 for _ in container.decode(stream))
