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

    def __init__(self, *, capacity: int, views: int, size: int) -> None:
        self.capacity = capacity
        self.bin_width = 1
        shape = (capacity, views, size, size, 3)
        self.frame_sum = np.zeros(shape, dtype=np.float32)
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
        """Add consecutive frames (n, views, size, size, 3) with their per-frame signals (n, views).

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

    def resample(self, *, time_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Bins onto `time_bins` evenly spaced normalized instants (linear interpolation)."""
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

        frame_mean = self.frame_sum[:used]
        frame_mean /= counts.reshape(-1, 1, 1, 1, 1).astype(np.float32)
        frames = interpolate(frame_mean)
        step_mean = interpolate(
            self.step_sum[:used] / np.maximum(self.step_count[:used], 1)[:, None]
        )
        step_max = interpolate(self.step_max[:used])
        flicker = interpolate(
            self.flicker_sum[:used] / np.maximum(self.flicker_count[:used], 1)[:, None]
        )
        return (
            frames.astype(np.float32),
            step_mean.astype(np.float32),
            step_max.astype(np.float32),
            flicker.astype(np.float32),
        )


def _local_brightness(frames: np.ndarray) -> np.ndarray:
    """Mean brightness on a coarse grid per view: (n, views, size, size, 3) -> (n, views, grid, grid)."""
    count, views, size = frames.shape[0], frames.shape[1], frames.shape[2]
    grid = FLICKER_GRID
    cell = size // grid
    gray = frames[:, :, : cell * grid, : cell * grid].mean(axis=-1)
    return gray.reshape(count, views, grid, cell, grid, cell).mean(axis=(3, 5))


# Frames are shrunk one by one as they decode, then measured in blocks of this many:
# one numpy call per block instead of per frame, with memory still bounded.
DECODE_BLOCK = 16


class _ClipReader:
    """Turns blocks of shrunk frames into accumulated bins, carrying state across blocks."""

    def __init__(self, *, views: int, size: int, time_bins: int) -> None:
        self.views, self.size = views, size
        self.accumulator = _BinAccumulator(capacity=2 * time_bins, views=views, size=size)
        self.first: np.ndarray | None = None
        self.last: np.ndarray | None = None
        self.brightness_tail: np.ndarray | None = None  # the last two frames' local brightness

    def consume(self, block: list[np.ndarray]) -> None:
        if not block:
            return
        count, size, views = len(block), self.size, self.views
        # (n, size, views*size, 3) -> (n, views, size, size, 3)
        frames = (
            np.stack(block)
            .reshape(count, size, views, size, 3)
            .transpose(0, 2, 1, 3, 4)
            .astype(np.float32)
        )
        frames *= np.float32(1.0 / 255.0)
        seen = self.accumulator.frames_seen
        with_previous = frames if self.last is None else np.concatenate([self.last[None], frames])
        steps = np.zeros((count, views), dtype=np.float32)
        steps[count - (len(with_previous) - 1) :] = np.abs(np.diff(with_previous, axis=0)).mean(
            axis=(2, 3, 4)
        )
        brightness = _local_brightness(frames)
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
    frames, step_mean, step_max, flicker = accumulator.resample(time_bins=time_bins)
    return ClipSamples(
        frames=np.ascontiguousarray(frames.transpose(1, 0, 2, 3, 4)),
        first=first,
        last=previous,
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
