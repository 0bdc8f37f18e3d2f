from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.judges.base import JudgeError, Pair
from evaluation.judges.imported import ImportedJudge


def _pairs(*ids: str) -> list[Pair]:
    return [Pair(pair_id=i, reference=Path("r.mp4"), generated=Path("g.mp4")) for i in ids]


def test_verdicts_are_read_from_csv(tmp_path: Path) -> None:
    path = tmp_path / "verdicts.csv"
    path.write_text(
        "pair_id,score,expected_score,final_state,error\np1,3,2.7,0.9,\np2,1,,,\np3,,,,no video\n"
    )
    verdicts = ImportedJudge(path=str(path)).judge(_pairs("p2", "p1", "p3", "p4"))
    assert [(v.pair_id, v.score, v.ok) for v in verdicts] == [
        ("p2", 1, True),
        ("p1", 3, True),
        ("p3", 0, False),
        ("p4", 0, False),
    ]
    assert verdicts[1].expected_score == 2.7 and verdicts[1].final_state == 0.9
    assert verdicts[0].expected_score == 1.0
    assert verdicts[2].error == "no video"
    assert "no verdict" in (verdicts[3].error or "")


def test_team_task_episode_columns_make_the_pair_id(tmp_path: Path) -> None:
    path = tmp_path / "v.csv"
    path.write_text("task,team,episode,score\ntask3,aurora,episode_17,2\n")
    (verdict,) = ImportedJudge(path=str(path)).judge(_pairs("aurora/task3/episode_17"))
    assert verdict.ok and verdict.score == 2


def test_a_new_file_is_a_new_version(tmp_path: Path) -> None:
    path = tmp_path / "v.csv"
    path.write_text("pair_id,score\na,1\n")
    judge = ImportedJudge(path=str(path))
    before = judge.version
    path.write_text("pair_id,score\na,2\n")
    assert judge.version != before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("pair_id,score\na,4\n", "score must be an integer 0..3"),
        ("pair_id,score\na,1.5\n", "whole number"),
        ("pair_id,score\na,1\na,2\n", "appears twice"),
        ("id,score\na,1\n", "pair_id column"),
        ("pair_id,score,clean\na,1,high\n", "clean is not a number"),
    ],
)
def test_bad_files_are_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "v.csv"
    path.write_text(content)
    with pytest.raises(JudgeError, match=message):
        ImportedJudge(path=str(path)).judge(_pairs("a"))
