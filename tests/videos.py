"""Small real video files for tests, written with PyAV."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np


def write_video(
    path: Path,
    *,
    frames: int = 12,
    width: int = 64,
    height: int = 48,
    fps: int = 12,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    faststart: bool = True,
    seed: int = 0,
) -> Path:
    """A moving gradient; distinct seeds give distinct bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, size=3)
    ys, xs = np.mgrid[0:height, 0:width]
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), mode="w", options=options) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        if codec == "libx264":
            stream.options = {"preset": "ultrafast", "threads": "1"}
        for index in range(frames):
            image = np.empty((height, width, 3), np.uint8)
            for channel in range(3):
                image[..., channel] = (base[channel] + xs * 3 + ys + index * 9) % 256
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    return path


def write_audio_only(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("aac", rate=16000)
        samples = np.zeros((1, 1024), np.float32)
        for _ in range(4):
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate = 16000
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def write_zero_frames(path: Path) -> Path:
    """A video stream with no frame (Matroska keeps the track of an empty stream; MP4 drops it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w", format="matroska") as container:
        stream = container.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        container.start_encoding()  # a header and no packet
    return path


def write_reference_tree(
    root: Path, layout: str, *, tasks=(1,), episodes=(0, 1), frames: int = 12
) -> Path:
    """Reference episodes in one of the three accepted layouts."""
    cameras = ("cam_high", "cam_left_wrist", "cam_right_wrist")
    seed = 0
    for task in tasks:
        for episode in episodes:
            seed += 1
            if layout == "single":
                write_video(
                    root / f"task{task}/episode_{episode}.mp4",
                    width=144,
                    height=48,
                    seed=seed,
                    frames=frames,
                )
            elif layout == "per_episode":
                for camera in cameras:
                    seed += 1
                    write_video(
                        root / f"task{task}/episode_{episode}/{camera}.mp4",
                        width=48,
                        seed=seed,
                        frames=frames,
                    )
            elif layout == "training":
                for camera in cameras:
                    seed += 1
                    write_video(
                        root / f"task{task}/videos/{camera}/episode_{episode}.mp4",
                        width=48,
                        seed=seed,
                        frames=frames,
                    )
            else:
                raise ValueError(layout)
    return root


def write_submission_tree(
    root: Path, *, tasks=(1,), episodes=(0, 1), split: str | None = "test", seed: int = 100
) -> Path:
    base = root / split if split else root
    for task in tasks:
        for episode in episodes:
            seed += 1
            write_video(base / f"task{task}/episode_{episode}.mp4", width=144, height=48, seed=seed)
    return root
