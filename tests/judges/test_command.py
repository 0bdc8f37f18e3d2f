from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from evaluation.judges.base import JudgeError, Pair
from evaluation.judges.command import CommandJudge

PROGRAM = textwrap.dedent(
    """
    import json, sys
    manifest_path, output_path = sys.argv[1], sys.argv[2]
    mode = sys.argv[3] if len(sys.argv) > 3 else "good"
    pairs = json.load(open(manifest_path))["pairs"]
    if mode == "crash":
        print("CUDA out of memory on device 0", file=sys.stderr)
        sys.exit(3)
    if mode == "sleep":
        import time; time.sleep(30)
    verdicts = []
    for pair in pairs:
        # A stand-in model: the score is the number of letters in the generated name, mod 4.
        name = pair["generated"].rsplit("/", 1)[-1]
        verdicts.append({"pair_id": pair["pair_id"], "score": len(name) % 4, "clean": 0.25})
    if mode == "drop":
        verdicts = verdicts[1:]
    if mode == "bad_score":
        verdicts[0]["score"] = 7
    if mode == "stranger":
        verdicts.append({"pair_id": "who", "score": 1})
    json.dump({"verdicts": verdicts}, open(output_path, "w"))
    """
)


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "judge_program.py"
    path.write_text(PROGRAM)
    return path


def _pairs(tmp_path: Path) -> list[Pair]:
    return [
        Pair(pair_id="a", reference=tmp_path / "r.mp4", generated=tmp_path / "ab.mp4"),
        Pair(pair_id="b", reference=tmp_path / "r.mp4", generated=tmp_path / "abcdef.mp4"),
        Pair(pair_id="c", reference=tmp_path / "r.mp4", generated=tmp_path / "abcd.mp4"),
    ]


def test_an_external_program_judges_through_the_manifest(program: Path, tmp_path: Path) -> None:
    judge = CommandJudge(
        argv=[sys.executable, str(program), "{manifest}", "{output}"], batch_size=2
    )
    done: list[int] = []
    verdicts = judge.judge(_pairs(tmp_path), progress=done.append)
    assert [(v.pair_id, v.score) for v in verdicts] == [("a", 2), ("b", 2), ("c", 0)]
    assert done == [2, 1]
    # Sub-scores not given are implied by the score through the rubric.
    assert verdicts[0].clean == 0.25 and verdicts[0].final_state == 1.0
    assert verdicts[0].expected_score == 2.0


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("crash", "exited with status 3; stderr ends with: CUDA out of memory"),
        ("drop", "no verdict for 1 pair"),
        ("bad_score", "score must be an integer 0..3, got 7"),
        ("stranger", "not asked for: 'who'"),
    ],
)
def test_bad_program_output_is_a_clear_error(
    program: Path, tmp_path: Path, mode: str, message: str
) -> None:
    judge = CommandJudge(argv=[sys.executable, str(program), "{manifest}", "{output}", mode])
    with pytest.raises(JudgeError, match=message):
        judge.judge(_pairs(tmp_path))


def test_a_hung_program_is_stopped(program: Path, tmp_path: Path) -> None:
    judge = CommandJudge(
        argv=[sys.executable, str(program), "{manifest}", "{output}", "sleep"], timeout=1
    )
    with pytest.raises(JudgeError, match="timeout"):
        judge.judge(_pairs(tmp_path))


def test_paths_are_appended_without_placeholders(program: Path, tmp_path: Path) -> None:
    verdicts = CommandJudge(argv=[sys.executable, str(program)]).judge(_pairs(tmp_path))
    assert len(verdicts) == 3


def test_configuration_is_checked() -> None:
    with pytest.raises(JudgeError, match="argv"):
        CommandJudge(argv="python judge.py")  # type: ignore[arg-type]
    with pytest.raises(JudgeError, match="timeout"):
        CommandJudge(argv=["x"], timeout=0)
