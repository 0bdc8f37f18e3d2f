"""Tiny real video files for the judge tests, written with numpy and PyAV."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

FrameAt = Callable[[float], np.ndarray]  # normalized time in [0, 1] -> (H, W, 3) uint8


def write_clip(
    path: Path, *, frame_at: FrameAt, frames: int, fps: int = 24, preset: str = "ultrafast"
) -> Path:
    """Encode `frames` frames of `frame_at(t)` as H.264 (yuv420p) with x264's `preset`."""
    first = frame_at(0.0)
    height, width = first.shape[:2]
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": preset, "crf": "18"}
        for index in range(frames):
            t = index / max(frames - 1, 1)
            image = first if index == 0 else frame_at(t)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def moving_square_scene(
    *, width: int = 96, height: int = 32, seed: int = 0, reverse: bool = False
) -> FrameAt:
    """A textured background with a bright square crossing each view."""
    rng = np.random.default_rng(seed)
    background = (rng.random((height, width, 3)) * 60 + 60).astype(np.uint8)
    side = max(4, height // 4)

    def frame_at(t: float) -> np.ndarray:
        image = background.copy()
        position = 1.0 - t if reverse else t
        for view_left in range(0, width, height):
            x = view_left + int(position * (height - side))
            y = height // 2 - side // 2
            image[y : y + side, x : x + side] = (230, 200, 40)
        return image

    return frame_at
