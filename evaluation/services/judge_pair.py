"""One pair judged on demand, synchronously, in this process."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from uuid import UUID

from evaluation.judges import JudgeError, JudgeVerdict, Pair
from evaluation.models import JudgeVersion
from evaluation.selectors import judge as judge_selectors
from evaluation.services.judges import JudgingError, judge_build


def judge_pair(
    *, judge_version: JudgeVersion, reference: Path, generated: Path, pair_id: str = "pair"
) -> JudgeVerdict:
    """Judge one (reference, generated) pair of files now, in this process."""
    judge = judge_build(judge_version=judge_version)
    for role, path in (("reference", reference), ("generated", generated)):
        if not Path(path).is_file():
            raise JudgingError(f"the {role} file {path} does not exist")
    try:
        (verdict,) = judge.judge([Pair(pair_id=pair_id, reference=reference, generated=generated)])
    except JudgeError as exc:
        raise JudgingError(f"judge {judge_version}: {exc}") from exc
    return verdict


def judge_stored_pair(
    *, judge_version: JudgeVersion, generated_token: UUID, reference_token: UUID | None = None
) -> JudgeVerdict:
    """Judge stored media named by their tokens (a clip's or a media asset's).

    Without ``reference_token``, a clip's token is judged against its episode's reference.
    """
    generated = judge_selectors.media_by_token(token=generated_token)
    if generated is None:
        raise JudgingError(f"no clip or media asset has token {generated_token}")
    generated_asset, clip = generated
    if reference_token is not None:
        reference = judge_selectors.media_by_token(token=reference_token)
        if reference is None:
            raise JudgingError(f"no clip or media asset has token {reference_token}")
        reference_asset = reference[0]
    elif clip is not None:
        reference_asset = clip.episode.reference
    else:
        raise JudgingError("a reference_token is needed unless generated_token is a clip's token")
    return judge_pair(
        judge_version=judge_version,
        reference=judge_selectors.asset_path(asset=reference_asset),
        generated=judge_selectors.asset_path(asset=generated_asset),
    )


def judge_uploaded_pair(
    *, judge_version: JudgeVersion, reference: Any, generated: Any
) -> JudgeVerdict:
    """Judge two uploaded files (Django ``UploadedFile``s), removed again afterwards."""
    with tempfile.TemporaryDirectory(prefix="judge-pair-") as folder:
        paths = []
        for role, upload in (("reference", reference), ("generated", generated)):
            suffix = Path(getattr(upload, "name", "") or "clip.mp4").suffix.lower() or ".mp4"
            path = Path(folder) / f"{role}{suffix}"
            with path.open("wb") as out:
                for piece in upload.chunks():
                    out.write(piece)
            paths.append(path)
        return judge_pair(judge_version=judge_version, reference=paths[0], generated=paths[1])
