from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _


def save_upload(uploaded) -> Path:
    """Keep an uploaded archive under an opaque name until its import has run."""
    folder = Path(settings.VAR_DIR) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{uuid.uuid4().hex}.zip"
    with open(target, "wb") as out:
        for chunk in uploaded.chunks():
            out.write(chunk)
    return target


FORM_OVERHEAD_BYTES = 64 * 1024  # multipart boundaries and the small form fields


def upload_refusal(request) -> str:
    """Why a request's body is too large for an archive upload, read from its
    Content-Length before the body is parsed (so nothing is spooled to disk); else ""."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return ""
    limit = settings.INGEST_MAX_ARCHIVE_BYTES
    if length > limit + FORM_OVERHEAD_BYTES:
        return _(
            "The upload has %(length)s bytes; archives of at most %(limit)s bytes are accepted, "
            "the largest the import checks and unpacks."
        ) % {"length": length, "limit": limit}
    return ""
