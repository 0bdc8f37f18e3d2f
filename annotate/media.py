"""Video helpers on PyAV and Pillow: probing, transcoding, compositing, posters.

No ORM here: functions of paths and plain values.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi"}
BROWSER_CODECS = {"h264"}
BROWSER_PIX_FMTS = {"yuv420p", "yuvj420p"}
# Frame size is refused from the stream header, before a frame is allocated: a forged
# header can declare a frame of gigabytes. 8K is far above any camera in the challenge.
MAX_FRAME_SIDE = 8192
MAX_FRAME_PIXELS = 8192 * 4320


class MediaError(Exception):
    """A file that cannot be accepted; the message is the reason shown in reports."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_duration_s: float
    max_side: int = MAX_FRAME_SIDE
    max_pixels: int = MAX_FRAME_PIXELS


@dataclass(frozen=True)
class Probe:
    codec: str
    pix_fmt: str
    width: int
    height: int
    fps: float
    frame_count: int
    duration_s: float
    size_bytes: int
    container: str
    faststart: bool


def plays_in_browsers(path: Path, *, codec: str, pix_fmt: str) -> bool:
    """H.264 in yuv420p with the index first: plays at once in every browser, no transcoding needed."""
    return codec in BROWSER_CODECS and pix_fmt in BROWSER_PIX_FMTS and moov_before_mdat(path)


def sha256_file(path: Path, *, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def moov_before_mdat(path: Path) -> bool:
    """True when the MP4 index comes before the media data, so playback starts at once."""
    with open(path, "rb") as fh:
        while header := fh.read(8):
            if len(header) < 8:
                return False
            size, kind = struct.unpack(">I4s", header)
            if kind == b"moov":
                return True
            if kind == b"mdat":
                return False
            if size == 1:
                size = struct.unpack(">Q", fh.read(8))[0] - 8
            elif size == 0:
                return False
            fh.seek(size - 8, 1)
    return False


def truncation(path: Path) -> str | None:
    """Why an MP4/MOV file is cut short, or None: a top-level box that runs past the end.

    A truncated MP4 with its index first still decodes, just with fewer frames, so
    decoding alone does not notice; the box sizes do.
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        if fh.read(8)[4:8] not in (b"ftyp", b"moov", b"mdat", b"free", b"wide"):
            return None  # not ISO base media: left to the decoder
        offset = 0
        while offset < size:
            fh.seek(offset)
            header = fh.read(16)
            if len(header) < 8:
                return f"truncated: the file ends inside a box header at byte {offset}"
            box_size, kind = struct.unpack(">I4s", header[:8])
            name = kind.decode("latin-1")
            if box_size == 1:
                if len(header) < 16:
                    return f"truncated: the file ends inside the {name!r} box header"
                box_size = struct.unpack(">Q", header[8:16])[0]
            elif box_size == 0:  # the last box, running to the end of the file
                return None
            if box_size < 8:
                return f"corrupt MP4: box {name!r} at byte {offset} declares {box_size} bytes"
            if offset + box_size > size:
                return (
                    f"truncated: the {name!r} box declares {box_size} bytes but the file "
                    f"ends {offset + box_size - size} bytes short"
                )
            offset += box_size
    return None


def _check_frame_size(width: int, height: int, limits: Limits, *, what: str) -> None:
    if width <= 0 or height <= 0:
        # FFmpeg zeroes a size it cannot allocate (over about 268 megapixels).
        raise MediaError(
            f"{what} resolution is unusable (FFmpeg reads {width}x{height}): "
            "missing, or too large to decode"
        )
    if max(width, height) > limits.max_side or width * height > limits.max_pixels:
        raise MediaError(
            f"{what} resolution {width}x{height} is over the limit of "
            f"{limits.max_side} pixels a side and {limits.max_pixels} pixels a frame"
        )


def probe(path: Path, *, limits: Limits) -> Probe:
    """Open, check and fully decode a video; raise MediaError with the reason it is refused."""
    size = path.stat().st_size
    if size == 0:
        raise MediaError("empty file")
    if size > limits.max_bytes:
        raise MediaError(f"file is {size} bytes, over the limit of {limits.max_bytes}")
    if reason := truncation(path):
        raise MediaError(reason)
    try:
        container = av.open(str(path))
    except av.error.EOFError as exc:
        raise MediaError("no frames") from exc
    except av.error.InvalidDataError as exc:
        raise MediaError(
            f"does not decode: not a video format FFmpeg recognises ({exc.strerror or exc})"
        ) from exc
    except av.error.FFmpegError as exc:
        raise MediaError(f"does not decode: {exc.strerror or exc}") from exc
    with container:
        if not container.streams.video:
            raise MediaError("no video stream")
        stream = container.streams.video[0]
        _check_frame_size(
            stream.codec_context.width, stream.codec_context.height, limits, what="declared"
        )
        declared = _declared_duration(container, stream)
        if declared is not None and declared > limits.max_duration_s:
            raise MediaError(
                f"clip lasts {declared:.1f} s, over the limit of {limits.max_duration_s:.0f} s"
            )
        stream.thread_type = "AUTO"
        frames = 0
        last_time = 0.0
        size_seen = (0, 0)
        try:
            for frame in container.decode(stream):
                if frames == 0 or (frame.width, frame.height) != size_seen:
                    # A stream can change its size mid-way; each new size is checked once.
                    size_seen = (frame.width, frame.height)
                    _check_frame_size(*size_seen, limits, what="decoded frame")
                frames += 1
                if frame.time is not None:
                    last_time = frame.time
        except av.error.EOFError:
            pass  # an empty stream ends before its first frame
        except av.error.FFmpegError as exc:
            if frames == 0:
                raise MediaError(f"does not decode: {exc.strerror or exc}") from exc
            raise MediaError(f"decoding fails after frame {frames}: {exc.strerror or exc}") from exc
        if frames == 0:
            raise MediaError("no frames")
        rate = stream.average_rate or stream.guessed_rate or Fraction(frames, max(last_time, 1e-9))
        fps = float(rate)
        duration = declared if declared is not None else frames / fps
        if duration > limits.max_duration_s:
            raise MediaError(
                f"clip lasts {duration:.1f} s, over the limit of {limits.max_duration_s:.0f} s"
            )
        return Probe(
            codec=stream.codec_context.name,
            pix_fmt=stream.codec_context.pix_fmt or "",
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            fps=round(fps, 6),
            frame_count=frames,
            duration_s=round(duration, 6),
            size_bytes=size,
            container=container.format.name,
            faststart=moov_before_mdat(path),
        )


def _declared_duration(
    container: av.container.InputContainer, stream: av.VideoStream
) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def views_in(width: int, height: int) -> int:
    """Camera views laid side by side (672x224 -> 3); 1 when the frame is not a row of squares."""
    ratio = width / height
    views = round(ratio)
    return views if views >= 2 and abs(ratio - views) < 0.05 else 1


class H264Writer:
    """Encodes RGB frames to a browser-playable MP4 (H.264, yuv420p, faststart)."""

    def __init__(self, path: Path, *, width: int, height: int, fps: float, crf: int = 20):
        self.width, self.height = width - width % 2, height - height % 2
        self.container = av.open(str(path), mode="w", options={"movflags": "+faststart"})
        rate = Fraction(fps).limit_denominator(1001)
        self.stream = self.container.add_stream("libx264", rate=rate)
        self.stream.width, self.stream.height = self.width, self.height
        self.stream.pix_fmt = "yuv420p"
        self.stream.options = {"crf": str(crf), "preset": "veryfast"}

    def write(self, rgb: np.ndarray) -> None:
        frame = av.VideoFrame.from_ndarray(
            np.ascontiguousarray(rgb[: self.height, : self.width]), format="rgb24"
        )
        self.container.mux(self.stream.encode(frame))

    def close(self) -> None:
        self.container.mux(self.stream.encode())
        self.container.close()

    def __enter__(self) -> H264Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def transcode_to_playable(src: Path, dst: Path) -> None:
    with av.open(str(src)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        fps = float(stream.average_rate or stream.guessed_rate or 24)
        cc = stream.codec_context
        with H264Writer(dst, width=cc.width, height=cc.height, fps=fps) as writer:
            for frame in container.decode(stream):
                writer.write(frame.to_ndarray(format="rgb24"))


def _frames_rgb(path: Path, *, height: int | None = None):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            if height is not None and frame.height != height:
                width = round(frame.width * height / frame.height)
                frame = frame.reformat(width=width, height=height)
            yield frame.to_ndarray(format="rgb24")


def composite_side_by_side(sources: Sequence[Path], dst: Path, *, fps: float, height: int) -> None:
    """Lay camera views side by side in the given order, as the teams' clips are laid out.

    Views are scaled to one height; a view that ends early holds its last frame.
    """
    iterators = [_frames_rgb(path, height=height) for path in sources]
    last: list[np.ndarray | None] = [None] * len(iterators)
    writer: H264Writer | None = None
    try:
        while True:
            advanced = False
            for index, iterator in enumerate(iterators):
                frame = next(iterator, None)
                if frame is not None:
                    last[index], advanced = frame, True
            if not advanced:
                break
            row = np.concatenate(last, axis=1)  # type: ignore[arg-type]
            if writer is None:
                writer = H264Writer(dst, width=row.shape[1], height=row.shape[0], fps=fps)
            writer.write(row)
    finally:
        if writer is not None:
            writer.close()


def make_poster(src: Path, dst: Path, *, max_width: int = 960) -> None:
    with av.open(str(src)) as container:
        frame = next(container.decode(video=0))
        image: Image.Image = frame.to_image()
    if image.width > max_width:
        image = image.resize(
            (max_width, round(image.height * max_width / image.width)), Image.Resampling.BILINEAR
        )
    image.save(dst, format="JPEG", quality=85)
