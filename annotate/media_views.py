"""Media under opaque URLs, with HTTP Range support, only for users allowed to see it."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe

from annotate.models import MediaAsset
from annotate.selectors import user_may_see_asset

RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str, size: int) -> tuple[int, int] | None | str:
    """(first, last) inclusive; None to send the whole file; "unsatisfiable" for a 416."""
    match = RANGE_RE.match(header.strip())
    if not match or (not match.group(1) and not match.group(2)):
        return None  # malformed or multi-range: serving the whole file is allowed
    first, last = match.groups()
    if not first:
        length = int(last)
        if length == 0:
            return "unsatisfiable"
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        return "unsatisfiable"
    return start, end


def _chunks(path: Path, start: int, length: int, block: int = 1 << 16):
    with open(path, "rb") as fh:
        fh.seek(start)
        while length > 0:
            data = fh.read(min(block, length))
            if not data:
                break
            length -= len(data)
            yield data


@require_safe
def media_file(request: HttpRequest, token, kind: str) -> HttpResponse:
    asset = get_object_or_404(MediaAsset, token=token)
    if not user_may_see_asset(user=request.user, asset=asset):
        raise Http404  # do not confirm that the media exists
    relpath = asset.poster if kind == "poster" else (asset.playable or asset.original)
    if not relpath:
        raise Http404
    path = Path(settings.MEDIA_ROOT) / relpath
    content_type = "image/jpeg" if kind == "poster" else "video/mp4"
    if settings.MEDIA_ACCEL_REDIRECT_PREFIX:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = (
            settings.MEDIA_ACCEL_REDIRECT_PREFIX.rstrip("/") + "/" + relpath
        )
        return response
    size = path.stat().st_size
    wanted = (
        parse_range(request.headers.get("Range", ""), size) if "Range" in request.headers else None
    )
    if wanted == "unsatisfiable":
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    elif wanted is None:
        # FileResponse closes the file when the response is done.
        response = FileResponse(open(path, "rb"), content_type=content_type)  # noqa: SIM115
        response["Content-Length"] = str(size)
    else:
        first, last = wanted
        response = StreamingHttpResponse(
            _chunks(path, first, last - first + 1), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
        response["Content-Length"] = str(last - first + 1)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    # Never leak the stored file name through a download prompt.
    response["Content-Disposition"] = "inline"
    return response
