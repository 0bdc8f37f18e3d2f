from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings


def save_upload(uploaded) -> Path:
    """Keep an uploaded archive under an opaque name until its import has run."""
    folder = Path(settings.VAR_DIR) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{uuid.uuid4().hex}.zip"
    with open(target, "wb") as out:
        for chunk in uploaded.chunks():
            out.write(chunk)
    return target
