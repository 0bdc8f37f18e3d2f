"""Media under opaque URLs, with HTTP Range support, only for users allowed to see it.

Only a ready asset's served copy (or its poster) is ever sent: never an original, never
an asset still being prepared. Scripts authenticate as on the API, with a token
(`Authorization: Token <key>`) or a session, under the same rules.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from annotate.models import MediaAsset
from annotate.selectors import user_may_see_asset

RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
# A byte position longer than this names no byte of any file (2**63 has 19 digits); it is
# not even converted, as int() refuses strings of over 4,300 digits.
MAX_POSITION_DIGITS = 19


def parse_range(header: str, size: int) -> tuple[int, int] | None | str:
    """(first, last) inclusive; None to send the whole file; "unsatisfiable" for a 416."""
    match = RANGE_RE.match(header.strip())
    if not match or (not match.group(1) and not match.group(2)):
        return None  # malformed or multi-range: serving the whole file is allowed
    first, last = match.groups()
    if max(len(first), len(last)) > MAX_POSITION_DIGITS:
        return "unsatisfiable"
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


class _AnyAccept(BaseContentNegotiation):
    """Bytes go out whatever the client accepts (`Accept: video/mp4` included); JSON errors."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class MediaFileApi(APIView):
    """A clip's video (`video`) or poster (`poster`), for an annotator it is assigned to
    (the clip or its episode's reference) and for organizers. Honours `Range`."""

    # Everyone gets past the gate: an unknown, unready or forbidden asset is a 404 alike,
    # so that its existence is not confirmed.
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _AnyAccept

    @extend_schema(
        operation_id="media_retrieve",
        tags=["media"],
        parameters=[
            OpenApiParameter(
                "kind", OpenApiTypes.STR, OpenApiParameter.PATH, enum=["video", "poster"]
            ),
            OpenApiParameter(
                "Range",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="One byte range, e.g. bytes=0-1023.",
            ),
        ],
        responses={
            (200, "video/mp4"): OpenApiTypes.BINARY,
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            (206, "video/mp4"): OpenApiTypes.BINARY,
            (206, "image/jpeg"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="No such media, not ready, or not yours."),
            416: OpenApiResponse(description="The range lies outside the file."),
        },
    )
    def get(self, request, token, kind: str) -> HttpResponse:
        return _serve(request, token=token, kind=kind)


def _serve(request, *, token, kind: str) -> HttpResponse:
    asset = get_object_or_404(MediaAsset, token=token)
    if not user_may_see_asset(user=request.user, asset=asset):
        raise Http404  # do not confirm that the media exists
    if asset.status != MediaAsset.Status.READY or kind not in ("video", "poster"):
        raise Http404
    relpath = asset.poster if kind == "poster" else asset.playable
    if not relpath or relpath == asset.original:
        raise Http404  # the upload itself, tags and all, is never sent
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


media_file = MediaFileApi.as_view()
