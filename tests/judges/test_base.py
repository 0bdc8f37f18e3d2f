from __future__ import annotations

import math
from pathlib import Path

import pytest
from django.test import override_settings

from evaluation.judges import build_judge, judge_config, judges_available
from evaluation.judges.base import JudgeError, JudgeVerdict, rubric_tree
from evaluation.judges.baseline import BaselineJudge
from tests.judges.clips import moving_square_scene, write_clip


@pytest.mark.parametrize(
    ("final_state", "clean", "motion", "score"),
    [(0.9, 0.9, 0.1, 3), (0.9, 0.1, 0.9, 2), (0.1, 0.9, 0.9, 1), (0.1, 0.9, 0.1, 0)],
)
def test_the_tree_follows_the_rubric(
    final_state: float, clean: float, motion: float, score: int
) -> None:
    outcome = rubric_tree(final_state=final_state, clean=clean, motion=motion)
    assert outcome.score == score
    assert math.isclose(sum(outcome.probabilities), 1.0)
    assert outcome.expected_score == pytest.approx(
        sum(k * p for k, p in enumerate(outcome.probabilities))
    )


def test_confidence_is_zero_on_the_fence_and_one_when_certain() -> None:
    assert rubric_tree(final_state=0.5, clean=1.0, motion=0.0).confidence == 0.0
    assert rubric_tree(final_state=1.0, clean=1.0, motion=0.0).confidence == 1.0


def test_verdicts_refuse_impossible_values() -> None:
    with pytest.raises(JudgeError, match="score"):
        JudgeVerdict(
            pair_id="p", score=4, expected_score=3.0, final_state=1, clean=1, motion=1, confidence=1
        )
    with pytest.raises(JudgeError, match="clean"):
        JudgeVerdict(
            pair_id="p",
            score=3,
            expected_score=3.0,
            final_state=1,
            clean=1.5,
            motion=1,
            confidence=1,
        )


JUDGES = {
    "baseline": {"BACKEND": "evaluation.judges.baseline.BaselineJudge", "OPTIONS": {}},
    "small": {"BACKEND": "evaluation.judges.baseline.BaselineJudge", "OPTIONS": {"size": 32}},
    "broken": {"BACKEND": "evaluation.judges.nowhere.Judge", "OPTIONS": {}},
}


def _configured(name: str):
    config = judge_config(name)
    return build_judge(name=name, backend=config["BACKEND"], options=config["OPTIONS"])


@override_settings(JUDGES=JUDGES)
def test_judges_are_built_from_the_settings_as_they_are_now() -> None:
    assert judges_available() == ["baseline", "broken", "small"]
    small = _configured("small")
    assert isinstance(small, BaselineJudge) and small.size == 32 and small.name == "small"
    assert small.version != _configured("baseline").version
    with override_settings(JUDGES={**JUDGES, "small": {**JUDGES["small"], "OPTIONS": {}}}):
        assert _configured("small").size == 64  # no judge built earlier is kept
    with pytest.raises(JudgeError, match="unknown judge 'nope'"):
        _configured("nope")
    with pytest.raises(JudgeError, match="cannot import"):
        _configured("broken")


@override_settings(JUDGES=JUDGES)
def test_a_calibrated_judge_is_a_new_version() -> None:
    config = judge_config("baseline")
    plain = build_judge(name="baseline", backend=config["BACKEND"], options=config["OPTIONS"])
    calibrated = build_judge(
        name="baseline",
        backend=config["BACKEND"],
        options={**config["OPTIONS"], "calibration": {"model": "proportional_odds"}},
    )
    assert plain.version != calibrated.version
    with pytest.raises(JudgeError, match="bad options"):
        build_judge(name="x", backend=config["BACKEND"], options={"colour": "blue"})


def test_the_shrink_on_the_device_is_a_version_of_its_own() -> None:
    # Its answers differ a little from FFmpeg's shrink; the device and threads change none.
    scaler = BaselineJudge()
    assert BaselineJudge(shrink="scaler").version == scaler.version
    assert BaselineJudge(device="cpu", decode_workers=1).version == scaler.version
    assert BaselineJudge(shrink="planes").version != scaler.version
    with pytest.raises(JudgeError, match="shrink must be 'scaler' or 'planes'"):
        BaselineJudge(shrink="nearest")


def test_an_undecodable_clip_fails_its_pair_only(tmp_path: Path) -> None:
    from evaluation.judges.base import Pair

    good = write_clip(tmp_path / "good.mp4", frame_at=moving_square_scene(), frames=16)
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 1000)
    verdicts = BaselineJudge(size=32, time_bins=8).judge(
        [
            Pair(pair_id="ok", reference=good, generated=good),
            Pair(pair_id="broken", reference=good, generated=bad),
        ]
    )
    assert [v.pair_id for v in verdicts] == ["ok", "broken"]
    assert verdicts[0].ok and verdicts[0].score == 3
    assert not verdicts[1].ok and "generated" in (verdicts[1].error or "")
