"""A judge that is an external program: a team's own model, run on its own GPUs.

The program is started once per batch with `argv`, where the item "{manifest}"
is replaced by the path of a JSON manifest and "{output}" by the path where it
must write its JSON verdicts (when absent, the two paths are appended in that
order). See docs/judges.md for both formats.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evaluation.judges.base import (
    SCORES,
    Judge,
    JudgeError,
    JudgeVerdict,
    Pair,
    ProgressCallback,
    rubric_tree,
)

MANIFEST_PLACEHOLDER = "{manifest}"
OUTPUT_PLACEHOLDER = "{output}"
STDERR_TAIL = 2000
PROBABILITY_FIELDS = ("final_state", "clean", "motion", "confidence")


class CommandJudge(Judge):
    code_version = "1"

    def __init__(
        self,
        *,
        name: str = "command",
        argv: Sequence[str],
        timeout: float = 3600.0,
        batch_size: int = 0,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        version_tag: str = "",
    ) -> None:
        if isinstance(argv, str) or not argv or not all(isinstance(item, str) for item in argv):
            raise JudgeError(f"judge {name!r}: argv must be a non-empty list of strings")
        if timeout <= 0:
            raise JudgeError(f"judge {name!r}: timeout must be positive, got {timeout}")
        if batch_size < 0:
            raise JudgeError(
                f"judge {name!r}: batch_size must be >= 0 (0: one batch), got {batch_size}"
            )
        # version_tag lets a team mark a new model behind the same command line.
        super().__init__(name=name, options={"argv": list(argv), "version_tag": version_tag})
        self.argv = list(argv)
        self.timeout = float(timeout)
        self.batch_size = batch_size
        self.env = dict(env or {})
        self.cwd = cwd

    def judge(
        self, pairs: Sequence[Pair], *, progress: ProgressCallback | None = None
    ) -> list[JudgeVerdict]:
        size = self.batch_size or max(len(pairs), 1)
        verdicts: list[JudgeVerdict] = []
        for start in range(0, len(pairs), size):
            batch = list(pairs[start : start + size])
            verdicts.extend(self._run_batch(batch))
            if progress is not None:
                progress(len(batch))
        return verdicts

    def _command_line(self, manifest: Path, output: Path) -> list[str]:
        has_placeholder = any(
            MANIFEST_PLACEHOLDER in item or OUTPUT_PLACEHOLDER in item for item in self.argv
        )
        if not has_placeholder:
            return [*self.argv, str(manifest), str(output)]
        return [
            item.replace(MANIFEST_PLACEHOLDER, str(manifest)).replace(
                OUTPUT_PLACEHOLDER, str(output)
            )
            for item in self.argv
        ]

    def _run_batch(self, batch: list[Pair]) -> list[JudgeVerdict]:
        ids = [pair.pair_id for pair in batch]
        if len(set(ids)) != len(ids):
            raise JudgeError(f"judge {self.name!r}: duplicate pair ids in one batch")
        with tempfile.TemporaryDirectory(prefix="judge-") as folder:
            manifest = Path(folder) / "manifest.json"
            output = Path(folder) / "verdicts.json"
            manifest.write_text(json.dumps(manifest_for(batch), indent=1))
            command = self._command_line(manifest, output)
            try:
                finished = subprocess.run(
                    command,
                    capture_output=True,
                    text=True,
                    timeout=self.timeout,
                    env={**os.environ, **self.env},
                    cwd=self.cwd,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise JudgeError(
                    f"judge {self.name!r}: {command[0]} ran past its {self.timeout:g} s timeout"
                ) from exc
            except OSError as exc:
                raise JudgeError(f"judge {self.name!r}: cannot start {command[0]}: {exc}") from exc
            if finished.returncode != 0:
                raise JudgeError(
                    f"judge {self.name!r}: {command[0]} exited with status {finished.returncode}; "
                    f"stderr ends with: {finished.stderr[-STDERR_TAIL:].strip() or '(empty)'}"
                )
            if not output.is_file():
                raise JudgeError(f"judge {self.name!r}: {command[0]} wrote no verdict file")
            try:
                document = json.loads(output.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise JudgeError(
                    f"judge {self.name!r}: verdict file is not valid JSON: {exc}"
                ) from exc
        return parse_verdicts(document=document, pair_ids=ids, source=f"judge {self.name!r}")


def manifest_for(pairs: Sequence[Pair]) -> dict[str, Any]:
    return {
        "pairs": [
            {
                "pair_id": pair.pair_id,
                "reference": str(Path(pair.reference).resolve()),
                "generated": str(Path(pair.generated).resolve()),
            }
            for pair in pairs
        ]
    }


def _number(item: Mapping[str, Any], key: str, *, low: float, high: float, where: str) -> float:
    value = item[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise JudgeError(f"{where}: {key} must be a number, got {value!r}")
    if not low <= value <= high:
        raise JudgeError(f"{where}: {key} must lie in [{low:g}, {high:g}], got {value!r}")
    return float(value)


def parse_verdict(item: Any, *, source: str) -> JudgeVerdict:
    """One verdict object from an external judge, strictly validated."""
    if not isinstance(item, Mapping) or not isinstance(item.get("pair_id"), str):
        raise JudgeError(f"{source}: each verdict must be an object with a string pair_id")
    pair_id = item["pair_id"]
    where = f"{source}, pair {pair_id!r}"
    if item.get("error") is not None:
        return JudgeVerdict.failed(pair_id=pair_id, error=str(item["error"]))
    score = item.get("score")
    if isinstance(score, bool) or not isinstance(score, int) or score not in SCORES:
        raise JudgeError(f"{where}: score must be an integer 0..3, got {score!r}")
    probabilities = {
        key: _number(item, key, low=0.0, high=1.0, where=where)
        for key in PROBABILITY_FIELDS
        if item.get(key) is not None
    }
    # Sub-scores a program does not give are read off its score through the rubric's tree.
    implied = {
        "final_state": 1.0 if score >= 2 else 0.0,
        "clean": 1.0 if score == 3 else 0.0,
        "motion": 1.0 if score == 1 else 0.0,
    }
    sub = {key: probabilities.get(key, implied[key]) for key in implied}
    if item.get("expected_score") is not None:
        expected = _number(item, "expected_score", low=0.0, high=3.0, where=where)
    elif set(implied) <= set(probabilities):
        expected = rubric_tree(**sub).expected_score
    else:
        expected = float(score)
    features_in = item.get("features") or {}
    if not isinstance(features_in, Mapping):
        raise JudgeError(f"{where}: features must be an object of numbers")
    features = {
        str(key): _number(features_in, key, low=-math.inf, high=math.inf, where=where)
        for key in features_in
    }
    return JudgeVerdict(
        pair_id=pair_id,
        score=score,
        expected_score=expected,
        final_state=sub["final_state"],
        clean=sub["clean"],
        motion=sub["motion"],
        confidence=probabilities.get("confidence", 1.0),
        features=features,
    )


def parse_verdicts(*, document: Any, pair_ids: Sequence[str], source: str) -> list[JudgeVerdict]:
    """Verdicts for exactly `pair_ids`, in that order; anything else is a JudgeError."""
    if not isinstance(document, Mapping) or not isinstance(document.get("verdicts"), list):
        raise JudgeError(f'{source}: output must be a JSON object {{"verdicts": [...]}}')
    by_id: dict[str, JudgeVerdict] = {}
    for item in document["verdicts"]:
        verdict = parse_verdict(item, source=source)
        if verdict.pair_id in by_id:
            raise JudgeError(f"{source}: pair {verdict.pair_id!r} has more than one verdict")
        by_id[verdict.pair_id] = verdict
    expected = set(pair_ids)
    missing = [pair_id for pair_id in pair_ids if pair_id not in by_id]
    unknown = sorted(set(by_id) - expected)
    if missing:
        shown = ", ".join(repr(pair_id) for pair_id in missing[:10])
        raise JudgeError(f"{source}: no verdict for {len(missing)} pair(s): {shown}")
    if unknown:
        shown = ", ".join(repr(pair_id) for pair_id in unknown[:10])
        raise JudgeError(f"{source}: verdicts for pairs that were not asked for: {shown}")
    return [by_id[pair_id] for pair_id in pair_ids]


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
