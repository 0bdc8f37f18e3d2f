"""Small real video files for tests, written with PyAV."""

from __future__ import annotations

import re
from pathlib import Path

import av
import av.bitstream
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


# Every tag a team's tools could leave in an MP4, for the blinding checks.
CONTAINER_TAGS = ("title", "comment", "artist", "album", "description", "copyright", "genre")
SEI_UUID = "dc45e9bd-e6d9-48b7-962c-d820d923eeef"


def _remux(path: Path, *, tags: str | None = None, rotation: int | None = None) -> Path:
    """Rewrite a video in place, stream copied, with tags or a display rotation added."""
    rewritten = path.with_name(path.stem + ".rewritten.mp4")
    with (
        av.open(str(path)) as source,
        av.open(str(rewritten), "w", format="mp4", options={"movflags": "+faststart"}) as out,
    ):
        stream = source.streams.video[0]
        copy = out.add_stream_from_template(stream)
        if tags is not None:
            out.metadata.update({key: f"{tags} {key}" for key in CONTAINER_TAGS})
            copy.metadata.update({"handler_name": f"{tags} handler", "title": f"{tags} title"})
        if rotation is not None:
            copy.set_display_rotation(rotation)
        sei = None
        if tags is not None and stream.codec_context.name == "h264":
            sei = av.bitstream.BitStreamFilterContext(
                f"h264_metadata=sei_user_data={SEI_UUID}+{tags}", stream, copy
            )
        for packet in source.demux(stream):
            for written in sei.filter(packet if packet.size else None) if sei else [packet]:
                if written.dts is None:
                    continue
                written.stream = copy
                out.mux(written)
    data = rewritten.read_bytes()
    if tags is not None:
        # The muxer names itself as the encoder; other tools name whatever they like.
        encoder = re.search(rb"Lavf\d+\.\d+\.\d+", data)
        assert encoder, "no encoder string to replace"
        size = len(encoder.group())
        data = data.replace(encoder.group(), tags.encode().ljust(size, b"_")[:size])
    path.write_bytes(data)
    rewritten.unlink()
    return path


def tag_video(path: Path, text: str) -> Path:
    """`text` in every tag: container tags, the encoder string, the stream's handler name
    and title, and (H.264) an SEI user-data unit inside the bitstream."""
    return _remux(path, tags=text)


def rotate_video(path: Path, degrees: int) -> Path:
    """A display rotation (counterclockwise degrees) in the MP4, the pictures untouched."""
    return _remux(path, rotation=degrees)


def write_raw_avi(path: Path, *, width: int, height: int, frames: int = 4) -> Path:
    """Uncompressed RGB in AVI: any size, odd or tiny, decodes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="avi") as container:
        stream = container.add_stream("rawvideo", rate=12)
        stream.width, stream.height, stream.pix_fmt = width, height, "rgb24"
        for index in range(frames):
            image = np.full((height, width, 3), index * 30, np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    return path
