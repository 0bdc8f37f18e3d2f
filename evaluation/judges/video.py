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
    """Per-bin sums that merge pairwise when full, keeping memory bounded."""

    def __init__(self, *, capacity: int, views: int, frame_shape: tuple[int, ...]) -> None:
        self.capacity = capacity
        self.bin_width = 1
        self.frame_sum = np.zeros((capacity, *frame_shape), dtype=np.float32)
        self.step_sum = np.zeros((capacity, views), dtype=np.float32)
        self.step_count = np.zeros(capacity, dtype=np.int64)
        self.step_max = np.zeros((capacity, views), dtype=np.float32)
        self.flicker_sum = np.zeros((capacity, views), dtype=np.float32)
        self.flicker_count = np.zeros(capacity, dtype=np.int64)
        self.count = np.zeros(capacity, dtype=np.int64)
        self.start = np.zeros(capacity, dtype=np.int64)
        self.used = 0  # bins holding at least one frame
        self.frames_seen = 0

    def add_block(
        self, frames: np.ndarray, steps: np.ndarray, flicker: np.ndarray, valid: np.ndarray
    ) -> None:
        """Add consecutive frames (n, *frame_shape) with their per-frame signals (n, views).

        `valid` (n, 2) says which frames have a step (all but the clip's first) and a
        flicker value (all but the first two). Frames falling into one bin are summed at once.
        """
        start, total = 0, len(frames)
        while start < total:
            index = self.frames_seen // self.bin_width
            if index >= self.capacity:
                self._merge_pairs()
                index = self.frames_seen // self.bin_width
            if index >= self.used:
                self.used = index + 1
                self.start[index] = self.frames_seen
            stop = min(total, start + self.bin_width - self.frames_seen % self.bin_width)
            segment = slice(start, stop)
            if stop - start == 1:
                self.frame_sum[index] += frames[start]
            else:
                self.frame_sum[index] += frames[segment].sum(axis=0)
            self.count[index] += stop - start
            has_step, has_flicker = valid[segment, 0], valid[segment, 1]
            if has_step.any():
                chosen = steps[segment][has_step]
                self.step_sum[index] += chosen.sum(axis=0)
                self.step_count[index] += len(chosen)
                np.maximum(self.step_max[index], chosen.max(axis=0), out=self.step_max[index])
            if has_flicker.any():
                chosen = flicker[segment][has_flicker]
                self.flicker_sum[index] += chosen.sum(axis=0)
                self.flicker_count[index] += len(chosen)
            self.frames_seen += stop - start
            start = stop

    def _merge_pairs(self) -> None:
        half = self.capacity // 2
        for target in range(half):
            a, b = 2 * target, 2 * target + 1
            self.frame_sum[target] = self.frame_sum[a] + self.frame_sum[b]
            self.step_sum[target] = self.step_sum[a] + self.step_sum[b]
            self.step_count[target] = self.step_count[a] + self.step_count[b]
            self.step_max[target] = np.maximum(self.step_max[a], self.step_max[b])
            self.flicker_sum[target] = self.flicker_sum[a] + self.flicker_sum[b]
            self.flicker_count[target] = self.flicker_count[a] + self.flicker_count[b]
            self.count[target] = self.count[a] + self.count[b]
            self.start[target] = self.start[a]
        for array in (
            self.frame_sum,
            self.step_sum,
            self.step_count,
            self.step_max,
            self.flicker_sum,
            self.flicker_count,
            self.count,
        ):
            array[half:] = 0
        self.used = half
        self.bin_width *= 2

    def resample(
        self, *, time_bins: int, frame_scale: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Bins onto `time_bins` evenly spaced normalized instants (linear interpolation).

        Mean frames come out multiplied by `frame_scale`.
        """
        used = self.used
        total = self.frames_seen
        counts = self.count[:used].astype(np.float64)
        # Frame i covers [i/N, (i+1)/N]; a bin's centre is the mean of its frames' centres.
        centres = (self.start[:used] + (counts - 1.0) / 2.0 + 0.5) / total
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
            extra = (1,) * (values.ndim - 1)
            w = weight.reshape(-1, *extra).astype(np.float32)
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
        )


def _local_brightness(frames: np.ndarray, *, views: int) -> np.ndarray:
    """Brightness summed on a coarse grid per view: (n, size, views*size, 3) -> (n, views, grid, grid).

    Sums over each cell's pixels and channels (the caller scales them to means).
    """
    count, size = frames.shape[0], frames.shape[1]
    grid = FLICKER_GRID
    cell = size // grid
    if cell * grid != size:
        frames = frames.reshape(count, size, views, size, 3)[
            :, : cell * grid, :, : cell * grid
        ].reshape(count, cell * grid, views * cell * grid, 3)
    sums = frames.reshape(count, grid, cell, views, grid, cell * 3).sum(axis=(2, 5))
    return sums.transpose(0, 2, 1, 3)


# Frames are shrunk one by one as they decode, then measured in blocks of this many:
# one numpy call per block instead of per frame, with memory still bounded.
DECODE_BLOCK = 16


class _ClipReader:
    """Turns blocks of shrunk frames into accumulated bins, carrying state across blocks.

    Frames stay in their decoded layout (n, size, views*size, 3) and in 8-bit units
    while they are summed; views are split and values scaled to [0, 1] only on the
    small results, which saves several passes over every frame.
    """

    def __init__(self, *, views: int, size: int, time_bins: int) -> None:
        self.views, self.size = views, size
        self.accumulator = _BinAccumulator(
            capacity=2 * time_bins, views=views, frame_shape=(size, views * size, 3)
        )
        self.first: np.ndarray | None = None
        self.last: np.ndarray | None = None  # (size, views*size, 3), 8-bit units
        self.brightness_tail: np.ndarray | None = None  # the last two frames' local brightness

    def consume(self, block: list[np.ndarray]) -> None:
        if not block:
            return
        count, size, views = len(block), self.size, self.views
        frames = np.stack(block).astype(np.float32)  # (n, size, views*size, 3), 0..255
        seen = self.accumulator.frames_seen
        steps = np.zeros((count, views), dtype=np.float32)
        pixels = np.float32(1.0 / (255.0 * size * size * 3))
        if count > 1:
            diffs = frames[1:] - frames[:-1]
            np.abs(diffs, out=diffs)
            steps[1:] = diffs.reshape(count - 1, size, views, size * 3).sum(axis=(1, 3)) * pixels
        if self.last is not None:
            first_step = np.abs(frames[0] - self.last)
            steps[0] = first_step.reshape(size, views, size * 3).sum(axis=(0, 2)) * pixels
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
        self.accumulator.add_block(frames, steps, flicker, valid)
        if self.first is None:
            self.first = frames[0].copy()
        self.last = frames[-1].copy()
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
    frames, step_mean, step_max, flicker = accumulator.resample(
        time_bins=time_bins, frame_scale=1.0 / 255.0
    )
    return ClipSamples(
        # (time, size, views*size, 3) -> (views, time, size, size, 3)
        frames=np.ascontiguousarray(
            frames.reshape(time_bins, size, view_count, size, 3).transpose(2, 0, 1, 3, 4)
        ),
        first=_split_views(first, views=view_count),
        last=_split_views(previous, views=view_count),
        step_mean=np.ascontiguousarray(step_mean.T),
        step_max=np.ascontiguousarray(step_max.T),
        flicker=np.ascontiguousarray(flicker.T),
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
