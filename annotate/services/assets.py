"""The copies of stored media that annotators are served: made once, clean, recorded.

An annotator is only ever served an asset's derivative, never its original: an H.264
MP4 that carries nothing of the upload but its pictures (no tag, no other track, no SEI
text; see `annotate.media.remux_clean`), and a JPEG poster drawn from it. The asset's
width, height, rate and frame count are the served file's, read back from it.

Why a copy could not be made is kept on the asset (`MediaAsset.error`) as a notice
(``annotate.notice``): code and parameters, said in the reader's language where shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from annotate import media
from annotate.models import MediaAsset
from annotate.notice import Notice, code

# Our own derivative is probed to read what it really is, not to police an upload.
_SERVED_LIMITS = media.Limits(max_bytes=1 << 62, max_duration_s=float("inf"))

COPY_CAME_OUT_WRONG = code("media.copy_came_out")  # codec, pix_fmt, rotation
COPY_DOES_NOT_PROBE = code("media.copy_does_not_probe")  # reason (a notice)
FILE_ERROR = code("media.file_error")  # detail: the system's words


@dataclass(frozen=True)
class ServedFiles:
    playable: str  # paths under MEDIA_ROOT
    poster: str
    probe: media.Probe  # of the playable copy
    created: tuple[Path, ...]  # files that did not exist before

    def fields(self) -> dict:
        """The MediaAsset fields that describe what is served."""
        probe = self.probe
        return {
            "playable": self.playable,
            "poster": self.poster,
            "width": probe.width,
            "height": probe.height,
            "fps": probe.fps,
            "frame_count": probe.frame_count,
            "duration_s": probe.duration_s,
            "views": media.views_in(probe.width, probe.height),
            "status": MediaAsset.Status.READY,
            "error": "",
        }


def served_files_make(*, source: Path, probe: media.Probe, folder: Path) -> ServedFiles:
    """Write `playable.mp4` and `poster.jpg` for `source` into `folder` (under MEDIA_ROOT).

    Each file is written beside its final name and renamed into place, so a reader never
    sees half a file. Raises MediaPrepareError with the reason, leaving nothing behind.
    """
    folder.mkdir(parents=True, exist_ok=True)
    video_part, poster_part = folder / "playable.part.mp4", folder / "poster.part.jpg"
    try:
        media.make_playable(source, video_part, probe=probe)
        served = media.probe(video_part, limits=_SERVED_LIMITS)
        if not (
            media.plays_in_browsers(video_part, codec=served.codec, pix_fmt=served.pix_fmt)
            and served.rotation == 0
        ):
            raise media.MediaPrepareError(
                COPY_CAME_OUT_WRONG,
                codec=served.codec,
                pix_fmt=served.pix_fmt,
                rotation=served.rotation,
            )
        media.make_poster(video_part, poster_part)
    except media.MediaError as exc:
        video_part.unlink(missing_ok=True)
        poster_part.unlink(missing_ok=True)
        if isinstance(exc, media.MediaPrepareError):
            raise
        raise media.MediaPrepareError(COPY_DOES_NOT_PROBE, reason=exc.notice) from exc
    except BaseException:
        video_part.unlink(missing_ok=True)
        poster_part.unlink(missing_ok=True)
        raise
    created = []
    for part, name in ((video_part, "playable.mp4"), (poster_part, "poster.jpg")):
        final = folder / name
        if not final.exists():
            created.append(final)
        part.replace(final)
    root = Path(settings.MEDIA_ROOT)
    return ServedFiles(
        playable=str((folder / "playable.mp4").relative_to(root)),
        poster=str((folder / "poster.jpg").relative_to(root)),
        probe=served,
        created=tuple(created),
    )


def media_asset_prepare(*, asset_id: int) -> MediaAsset:
    """(Re)make an asset's served copy and poster from its original.

    The asset ends ready, with the served file's properties, or failed with the reason;
    a failed asset is never served. Imports make these copies themselves: this is for
    assets stored before, or whose copy was lost.
    """
    asset = MediaAsset.objects.get(pk=asset_id)
    original = Path(settings.MEDIA_ROOT) / asset.original
    try:
        probe = media.probe(original, limits=_SERVED_LIMITS)
        served = served_files_make(source=original, probe=probe, folder=original.parent)
    except (media.MediaError, OSError) as exc:
        reason = (
            exc.notice
            if isinstance(exc, media.MediaError)
            else Notice(FILE_ERROR, {"detail": str(exc)})
        )
        asset.status, asset.error, asset.playable, asset.poster = (
            MediaAsset.Status.FAILED,
            reason.as_json(),
            "",
            "",
        )
        asset.save(update_fields=["status", "error", "playable", "poster"])
        return asset
    fields = served.fields()
    for name, value in fields.items():
        setattr(asset, name, value)
    asset.save(update_fields=list(fields))
    return asset


@dataclass(frozen=True)
class MediaPrepareResult:
    ready: int
    failed: tuple[tuple[str, object], ...]  # (sha256, reason: the asset's stored error)


def media_assets_prepare(
    *, everything: bool = False, progress: Callable[[int, int], None] | None = None
) -> MediaPrepareResult:
    """Make the served copies of every asset not ready (all of them with `everything`).

    One asset at a time, each saved on its own: an interrupted run keeps what it made.
    """
    assets = MediaAsset.objects.order_by("pk")
    if not everything:
        assets = assets.exclude(status=MediaAsset.Status.READY)
    ids = list(assets.values_list("pk", flat=True))
    ready, failed = 0, []
    for done, asset_id in enumerate(ids, start=1):
        asset = media_asset_prepare(asset_id=asset_id)
        if asset.status == MediaAsset.Status.READY:
            ready += 1
        else:
            failed.append((asset.sha256, asset.error))
        if progress:
            progress(done, len(ids))
    return MediaPrepareResult(ready=ready, failed=tuple(failed))
