"""``manage.py agreement`` on real CSV files, without the database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.scoring.test_agreement_report import REQUIRED_JUDGE_KEYS, REQUIRED_RATER_KEYS, campaign


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    ratings, verdicts = campaign(seed=8)
    paths = {
        "ratings": tmp_path / "ratings.csv",
        "verdicts": tmp_path / "verdicts.csv",
        "episodes": tmp_path / "episodes.csv",
    }
    ratings.to_csv(paths["ratings"], index=False)
    verdicts.to_csv(paths["verdicts"], index=False)
    episodes = ratings[["task", "episode"]].drop_duplicates()
    episodes.to_csv(paths["episodes"], index=False)
    return paths


def test_writes_the_full_report_with_a_judge(files: dict[str, Path], tmp_path: Path) -> None:
    output = tmp_path / "out" / "report.json"
    call_command(
        "agreement",
        "--ratings", str(files["ratings"]),
        "--judge", str(files["verdicts"]),
        "--episodes", str(files["episodes"]),
        "--output", str(output),
        "--bootstrap", "100",
        "--seed", "3",
    )  # fmt: skip
    report = json.loads(output.read_text(encoding="utf-8"))
    for key in REQUIRED_RATER_KEYS + REQUIRED_JUDGE_KEYS + ["video.confusion"]:
        assert key in report
    assert report["meta"]["n_boot"] == 100
    assert report["meta"]["seed"] == 3


def test_without_judge_writes_rater_keys_only(files: dict[str, Path], tmp_path: Path) -> None:
    output = tmp_path / "report.json"
    call_command(
        "agreement", "--ratings", str(files["ratings"]), "--output", str(output), "--bootstrap", "0"
    )
    report = json.loads(output.read_text(encoding="utf-8"))
    assert "raters.fleiss_kappa" in report
    assert report["raters.fleiss_kappa"]["ci_low"] is None  # no resamples, no interval
    assert not any(key.startswith(("video.", "team.")) for key in report)


def test_bad_score_names_line_and_column(files: dict[str, Path], tmp_path: Path) -> None:
    lines = files["ratings"].read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].rsplit(",", 1)[0] + ",7"
    files["ratings"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"ratings.csv, line 4, column 'score'"):
        call_command(
            "agreement", "--ratings", str(files["ratings"]), "--output", str(tmp_path / "r.json")
        )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--output", "report.txt"], "must end in .json"),
        (["--output", "report.json", "--judge", "missing.csv"], "no such file"),
        (["--output", "report.json", "--bootstrap", "-1"], "0 or more"),
    ],
)
def test_bad_arguments_are_command_errors(
    files: dict[str, Path], tmp_path: Path, arguments: list[str], message: str
) -> None:
    resolved = [
        str(tmp_path / value) if value.endswith((".json", ".txt", ".csv")) else value
        for value in arguments
    ]
    with pytest.raises(CommandError, match=message):
        call_command("agreement", "--ratings", str(files["ratings"]), *resolved)
