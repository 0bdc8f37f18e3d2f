"""Video helpers on PyAV and Pillow: probing, transcoding, compositing, posters.

No ORM here: functions of paths and plain values. Why a file is refused is a notice
(``annotate.notice``), said in the reader's language where it is shown.
"""

from __future__ import annotations

import hashlib
import itertools
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.bitstream
import numpy as np
from PIL import Image

from annotate.notice import Notice, NoticeError, code

VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi"}
# The containers of those suffixes, as FFmpeg names them. A file is judged by what FFmpeg
# reads, not by its name: a PNG named .mp4 opens as "png_pipe", a one-frame "video".
VIDEO_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi"}
# H.264 in these containers is stored as in MP4 (avcC), so it can be copied without decoding.
STREAM_COPY_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm"}
BROWSER_CODECS = {"h264"}
BROWSER_PIX_FMTS = {"yuv420p", "yuvj420p"}
# H.264 codes pictures in 16x16 macroblocks and yuv420p halves the chroma, so the served
# copy needs even sides; below one macroblock a frame shows nothing an annotator could
# judge (and 1x1 cannot be encoded at all). Checked on the coded and the decoded size.
MIN_FRAME_SIDE = 16
# One frame is a still image, not a clip: the protocol compares motion.
MIN_FRAMES = 2
# The rate of a composite of cameras with different rates: the fastest camera's, at most this.
MAX_COMPOSITE_FPS = 60.0
# Only the coded pictures travel from an upload to the copy served: slices (1-5), SPS (7)
# and PPS (8). SEI (6) carries free text (encoder settings, any user data) and the other
# unit types carry nothing a player needs.
H264_PICTURE_UNITS = "1-5|7-8"
# Frame size is refused from the stream header, before a frame is allocated: a forged
# header can declare a frame of gigabytes. 8K is far above any camera in the challenge.
MAX_FRAME_SIDE = 8192
MAX_FRAME_PIXELS = 8192 * 4320

# Why a file is refused (parameters after each code; `detail` is FFmpeg's or the
# system's own words, `what` one of the sizes below).
EMPTY_FILE = code("media.empty")
FILE_TOO_BIG = code("media.too_big")  # size, limit
TRUNCATED_IN_HEADER = code("media.truncated_in_header")  # offset
TRUNCATED_IN_LARGE_HEADER = code("media.truncated_in_large_header")  # box
CORRUPT_BOX = code("media.corrupt_box")  # box, offset, size
TRUNCATED_BOX = code("media.truncated_box")  # box, size, short
NO_FRAMES = code("media.no_frames")
UNRECOGNISED_FORMAT = code("media.unrecognised")  # detail
DOES_NOT_DECODE = code("media.does_not_decode")  # detail
NOT_A_CONTAINER = code("media.not_container")  # format, what: AN_IMAGE or NOT_A_VIDEO_FILE
AN_IMAGE = code("media.format_image")
NOT_A_VIDEO_FILE = code("media.format_other")
NO_VIDEO_STREAM = code("media.no_video_stream")
TOO_LONG = code("media.too_long")  # duration, limit (seconds)
DECODING_FAILS = code("media.decoding_fails")  # frame, detail
SINGLE_FRAME = code("media.single_frame")
ROTATION = code("media.rotation")  # degrees
SIZE_UNUSABLE = code("media.size_unusable")  # what, width, height
SIZE_TOO_SMALL = code("media.size_too_small")  # what, width, height, min
SIZE_TOO_LARGE = code("media.size_too_large")  # what, width, height, max_side, max_pixels
# Which size a size notice is about.
DECLARED_SIZE = code("media.declared")
DECODED_SIZE = code("media.decoded_frame")
COMPOSITE_SIZE = code("media.composite")
# Why the copy served to annotators could not be made.
TOO_SMALL_TO_ENCODE = code("media.too_small_to_encode")  # width, height
NOT_PLAYABLE = code("media.not_playable")  # detail
NOT_COMPOSITED = code("media.not_composited")  # detail


class MediaError(NoticeError):
    """A file that cannot be accepted; `notice` is the reason shown in reports."""


class MediaPrepareError(MediaError):
    """The copy served to annotators could not be made from a file that probed well."""


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
    # Degrees counterclockwise a player turns the picture (the display matrix): 0, 90,
    # 180 or 270. The served copy has it applied, so browsers and the page agree.
    rotation: int = 0

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) as a player shows the picture, rotation applied."""
        if self.rotation in (90, 270):
            return self.height, self.width
        return self.width, self.height


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


def truncation(path: Path) -> Notice | None:
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
                return Notice(TRUNCATED_IN_HEADER, {"offset": offset})
            box_size, kind = struct.unpack(">I4s", header[:8])
            name = kind.decode("latin-1")
            if box_size == 1:
                if len(header) < 16:
                    return Notice(TRUNCATED_IN_LARGE_HEADER, {"box": name})
                box_size = struct.unpack(">Q", header[8:16])[0]
            elif box_size == 0:  # the last box, running to the end of the file
                return None
            if box_size < 8:
                return Notice(CORRUPT_BOX, {"box": name, "offset": offset, "size": box_size})
            if offset + box_size > size:
                short = offset + box_size - size
                return Notice(TRUNCATED_BOX, {"box": name, "size": box_size, "short": short})
            offset += box_size
    return None


def _check_frame_size(width: int, height: int, limits: Limits, *, what: str) -> None:
    """`what`: the code of the size checked (DECLARED_SIZE, DECODED_SIZE, COMPOSITE_SIZE)."""
    size = {"what": Notice(what), "width": width, "height": height}
    if width <= 0 or height <= 0:
        # FFmpeg zeroes a size it cannot allocate (over about 268 megapixels).
        raise MediaError(SIZE_UNUSABLE, **size)
    if min(width, height) < MIN_FRAME_SIDE:
        raise MediaError(SIZE_TOO_SMALL, **size, min=MIN_FRAME_SIDE)
    if max(width, height) > limits.max_side or width * height > limits.max_pixels:
        raise MediaError(
            SIZE_TOO_LARGE, **size, max_side=limits.max_side, max_pixels=limits.max_pixels
        )


def probe(path: Path, *, limits: Limits) -> Probe:
    """Open, check and fully decode a video; raise MediaError with the reason it is refused."""
    size = path.stat().st_size
    if size == 0:
        raise MediaError(EMPTY_FILE)
    if size > limits.max_bytes:
        raise MediaError(FILE_TOO_BIG, size=size, limit=limits.max_bytes)
    if reason := truncation(path):
        raise MediaError(reason.code, **reason.params)
    try:
        container = av.open(str(path))
    except av.error.EOFError as exc:
        raise MediaError(NO_FRAMES) from exc
    except av.error.InvalidDataError as exc:
        raise MediaError(UNRECOGNISED_FORMAT, detail=_ffmpeg_words(exc)) from exc
    except av.error.FFmpegError as exc:
        raise MediaError(DOES_NOT_DECODE, detail=_ffmpeg_words(exc)) from exc
    with container:
        if container.format.name not in VIDEO_CONTAINERS:
            what = AN_IMAGE if _is_image_format(container.format.name) else NOT_A_VIDEO_FILE
            raise MediaError(NOT_A_CONTAINER, format=container.format.name, what=Notice(what))
        if not container.streams.video:
            raise MediaError(NO_VIDEO_STREAM)
        stream = container.streams.video[0]
        _check_frame_size(
            stream.codec_context.width, stream.codec_context.height, limits, what=DECLARED_SIZE
        )
        declared = _declared_duration(container, stream)
        if declared is not None and declared > limits.max_duration_s:
            raise MediaError(TOO_LONG, duration=declared, limit=limits.max_duration_s)
        stream.thread_type = "AUTO"
        frames = 0
        last_time = 0.0
        size_seen = (0, 0)
        rotation = 0
        try:
            for frame in container.decode(stream):
                if frames == 0 or (frame.width, frame.height) != size_seen:
                    # A stream can change its size mid-way; each new size is checked once.
                    size_seen = (frame.width, frame.height)
                    _check_frame_size(*size_seen, limits, what=DECODED_SIZE)
                if frames == 0:
                    rotation = _rotation(frame)
                frames += 1
                if frame.time is not None:
                    last_time = frame.time
        except av.error.EOFError:
            pass  # an empty stream ends before its first frame
        except av.error.FFmpegError as exc:
            if frames == 0:
                raise MediaError(DOES_NOT_DECODE, detail=_ffmpeg_words(exc)) from exc
            raise MediaError(DECODING_FAILS, frame=frames, detail=_ffmpeg_words(exc)) from exc
        if frames == 0:
            raise MediaError(NO_FRAMES)
        if frames < MIN_FRAMES:
            raise MediaError(SINGLE_FRAME)
        rate = stream.average_rate or stream.guessed_rate or Fraction(frames, max(last_time, 1e-9))
        fps = float(rate)
        duration = declared if declared is not None else frames / fps
        if duration > limits.max_duration_s:
            raise MediaError(TOO_LONG, duration=duration, limit=limits.max_duration_s)
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
            rotation=rotation,
        )


def _ffmpeg_words(exc: Exception) -> str:
    """What FFmpeg (or the system) says went wrong, in its own words."""
    return str(getattr(exc, "strerror", None) or exc)


def _is_image_format(name: str) -> bool:
    return name.endswith("_pipe") or name in {"image2", "gif", "apng", "webp", "ico", "tiff"}


def _rotation(frame: av.VideoFrame) -> int:
    """The frame's display rotation, 0/90/180/270; MediaError for any other angle."""
    degrees = round(frame.rotation or 0) % 360
    if degrees % 90:
        raise MediaError(ROTATION, degrees=degrees)
    return degrees


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
    """Encodes RGB frames to a browser-playable MP4 (H.264, yuv420p, faststart).

    Odd sides lose their last row or column (yuv420p needs even sides); the file's real
    size is what a probe of it reads.
    """

    def __init__(self, path: Path, *, width: int, height: int, fps: float, crf: int = 20):
        self.width, self.height = width - width % 2, height - height % 2
        if min(self.width, self.height) < 2:
            raise MediaPrepareError(TOO_SMALL_TO_ENCODE, width=width, height=height)
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


def _rgb(frame: av.VideoFrame, *, rotation: int, height: int | None = None) -> np.ndarray:
    """The frame as a player shows it (rotation applied), scaled to `height` if given."""
    turned = rotation in (90, 270)
    shown_w, shown_h = (frame.height, frame.width) if turned else (frame.width, frame.height)
    if height is not None and shown_h != height:
        width = max(1, round(shown_w * height / shown_h))
        frame = frame.reformat(
            width=height if turned else width, height=width if turned else height
        )
    rgb = frame.to_ndarray(format="rgb24")
    # The display matrix turns the picture counterclockwise, as np.rot90 does.
    return np.rot90(rgb, k=rotation // 90) if rotation else rgb


def transcode_to_playable(src: Path, dst: Path, *, rotation: int = 0) -> None:
    """Decode every frame and encode it afresh: nothing but the pictures is carried over."""
    with av.open(str(src)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        fps = float(stream.average_rate or stream.guessed_rate or 24)
        writer: H264Writer | None = None
        first_size = (0, 0)
        try:
            for frame in container.decode(stream):
                if writer is None:
                    first_size = (frame.width, frame.height)
                elif (frame.width, frame.height) != first_size:
                    # A stream that changes size mid-way is scaled to its first size.
                    frame = frame.reformat(width=first_size[0], height=first_size[1])
                rgb = _rgb(frame, rotation=rotation)
                if writer is None:
                    writer = H264Writer(dst, width=rgb.shape[1], height=rgb.shape[0], fps=fps)
                writer.write(rgb)
        finally:
            if writer is not None:
                writer.close()


def remux_clean(src: Path, dst: Path) -> None:
    """Copy the coded pictures into a new MP4, without decoding: fast, and no bit of metadata.

    A new container carries none of the upload's tags (title, comment, artist, encoder,
    handler names), only its video stream is copied (no other track), and the bitstream
    filter drops every H.264 unit but the pictures and their parameter sets (SEI carries
    free text: the encoder's settings, any user data).
    """
    with (
        av.open(str(src)) as source,
        av.open(str(dst), "w", format="mp4", options={"movflags": "+faststart"}) as out,
    ):
        stream = source.streams.video[0]
        copy = out.add_stream_from_template(stream)
        copy.metadata.clear()
        units = av.bitstream.BitStreamFilterContext(
            f"filter_units=pass_types={H264_PICTURE_UNITS}", stream, copy
        )
        for packet in source.demux(stream):
            # The demuxer ends with an empty packet: the filter's signal to flush.
            for kept in units.filter(packet if packet.size else None):
                kept.stream = copy
                out.mux(kept)


def make_playable(src: Path, dst: Path, *, probe: Probe) -> None:
    """Write the copy served to annotators: H.264, yuv420p, faststart, nothing of the upload
    but its pictures (see remux_clean), rotation applied.

    H.264 in yuv420p is copied (`remux_clean`); anything else, or a rotated picture, is
    decoded and encoded afresh. Raises MediaPrepareError with the reason.
    """
    try:
        if (
            probe.codec in BROWSER_CODECS
            and probe.pix_fmt in BROWSER_PIX_FMTS
            and probe.container in STREAM_COPY_CONTAINERS
            and probe.rotation == 0
        ):
            try:
                remux_clean(src, dst)
                return
            except av.error.FFmpegError:
                dst.unlink(missing_ok=True)  # an odd bitstream: encoding afresh still works
        transcode_to_playable(src, dst, rotation=probe.rotation)
    except av.error.FFmpegError as exc:
        dst.unlink(missing_ok=True)
        raise MediaPrepareError(NOT_PLAYABLE, detail=_ffmpeg_words(exc)) from exc


class _TimedView:
    """One camera's frames on its own clock (from 0 at its first frame), shown as of a time."""

    def __init__(self, path: Path, *, height: int) -> None:
        self.end = 0.0  # when the last frame decoded so far stops showing
        self.shown: np.ndarray | None = None
        self.frames = self._decoded(path, height=height)
        self.following = next(self.frames, None)

    def _decoded(self, path: Path, *, height: int) -> Iterator[tuple[float, np.ndarray]]:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            step = 1 / float(stream.average_rate or stream.guessed_rate or 24)
            start: float | None = None
            rotation = 0
            for index, frame in enumerate(container.decode(stream)):
                if index == 0:
                    rotation = _rotation(frame)
                if frame.time is None:
                    at = index * step
                else:
                    start = frame.time if start is None else start
                    at = frame.time - start
                self.end = at + step
                yield at, _rgb(frame, rotation=rotation, height=height)

    def at(self, time: float) -> np.ndarray | None:
        # A frame shows from its time until the next one; a view that ended holds its last.
        while self.following is not None and self.following[0] <= time + 1e-6:
            self.shown = self.following[1]
            self.following = next(self.frames, None)
        return self.shown

    @property
    def finished(self) -> bool:
        return self.following is None


def composite_layout(probes: Sequence[Probe], *, limits: Limits) -> tuple[float, int]:
    """(fps, height) of the composite of these cameras, refused at once if it would be too big.

    The height is the first camera's as shown; the rate is the fastest camera's (capped),
    so that no camera loses a frame.
    """
    height = probes[0].display_size[1]
    width = sum(round(p.display_size[0] * height / p.display_size[1]) for p in probes)
    _check_frame_size(width, height, limits, what=COMPOSITE_SIZE)
    return min(max(p.fps for p in probes), MAX_COMPOSITE_FPS), height


def composite_side_by_side(sources: Sequence[Path], dst: Path, *, fps: float, height: int) -> None:
    """Lay camera views side by side in the given order, as the teams' clips are laid out.

    Frames are matched on their timestamps, not counted: cameras with different rates stay
    in step, and the composite lasts as long as the longest camera, at `fps`. Views are
    scaled to one height (rotation applied); a view that ends early holds its last frame.
    """
    views = [_TimedView(path, height=height) for path in sources]
    writer: H264Writer | None = None
    try:
        for index in itertools.count():
            time = index / fps
            if all(view.finished for view in views) and time >= max(v.end for v in views) - 1e-6:
                break
            shown = [view.at(time) for view in views]
            if any(frame is None for frame in shown):
                continue  # before a camera's first frame: only possible at a negative time
            row = np.concatenate(shown, axis=1)  # type: ignore[arg-type]
            if writer is None:
                writer = H264Writer(dst, width=row.shape[1], height=row.shape[0], fps=fps)
            writer.write(row)
    except av.error.FFmpegError as exc:
        raise MediaPrepareError(NOT_COMPOSITED, detail=_ffmpeg_words(exc)) from exc
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
