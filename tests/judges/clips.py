"""Tiny real video files for the judge tests, written with numpy and PyAV."""

from __future__ import annotations

import subprocess
import sys
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


def decoding_working_set_mib(
    path: Path, *, size: int = 32, time_bins: int = 16, shrink: str = "scaler"
) -> float:
    """How much a fresh process's peak resident memory grows while `decode_clip` reads `path`.

    Resident memory counts torch's tensors as well as numpy's and FFmpeg's buffers. The
    peak is Linux's own (`VmHWM`), restarted after a first, small decode has loaded
    everything; a child's `ru_maxrss` would start from its parent's.
    """
    code = (
        "import sys\n"
        "from evaluation.judges.video import decode_clip\n"
        "def status(key):\n"
        "    lines = open('/proc/self/status').read().splitlines()\n"
        "    return next(int(line.split()[1]) for line in lines if line.startswith(key))\n"
        "decode_clip(sys.argv[1], size=8, time_bins=4, shrink=sys.argv[4])\n"
        "open('/proc/self/clear_refs', 'w').write('5')\n"
        "before = status('VmRSS:')\n"
        "size, time_bins, shrink = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]\n"
        "decode_clip(sys.argv[1], size=size, time_bins=time_bins, shrink=shrink)\n"
        "print((status('VmHWM:') - before) / 1024)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path), str(size), str(time_bins), shrink],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    return float(done.stdout)
