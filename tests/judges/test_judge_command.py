from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from tests.judges.clips import moving_square_scene, write_clip

JUDGES = {
    "baseline": {
        "BACKEND": "evaluation.judges.baseline.BaselineJudge",
        "OPTIONS": {"size": 32, "time_bins": 8},
    }
}


@override_settings(JUDGES=JUDGES)
def test_the_command_judges_a_manifest_of_files(tmp_path: Path) -> None:
    clips = tmp_path / "clips"
    clips.mkdir()
    write_clip(clips / "ref.mp4", frame_at=moving_square_scene(), frames=16)
    write_clip(clips / "back.mp4", frame_at=moving_square_scene(reverse=True), frames=20)
    (clips / "junk.mp4").write_bytes(b"junk")
    manifest = tmp_path / "pairs.csv"
    manifest.write_text(
        "pair_id,reference,generated\n"
        "same,clips/ref.mp4,clips/ref.mp4\n"
        f"reversed,clips/ref.mp4,{clips / 'back.mp4'}\n"
        "junk,clips/ref.mp4,clips/junk.mp4\n"
    )
    output = tmp_path / "verdicts.csv"
    out = io.StringIO()
    call_command(
        "judge", manifest=str(manifest), output=str(output), device="cpu", stdout=out, verbosity=0
    )
    verdicts = pd.read_csv(output, keep_default_na=False).set_index("pair_id")
    assert list(verdicts.columns[:6]) == [
        "score",
        "expected_score",
        "final_state",
        "clean",
        "motion",
        "confidence",
    ]
    assert verdicts.loc["same", "score"] == "3"
    assert verdicts.loc["reversed", "score"] in ("0", "1")
    assert "junk.mp4" in verdicts.loc["junk", "error"]
    assert "3 pairs judged" in out.getvalue() and "1 could not be judged" in out.getvalue()


@override_settings(JUDGES=JUDGES)
def test_the_command_reports_bad_input(tmp_path: Path) -> None:
    manifest = tmp_path / "pairs.csv"
    manifest.write_text("pair_id,reference\na,r.mp4\n")
    with pytest.raises(CommandError, match="lacks column"):
        call_command("judge", manifest=str(manifest), output=str(tmp_path / "o.csv"), verbosity=0)
    with pytest.raises(CommandError, match="unknown judge"):
        call_command(
            "judge",
            manifest=str(manifest),
            output=str(tmp_path / "o.csv"),
            judge="nope",
            verbosity=0,
        )
