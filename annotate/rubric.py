"""The 0-3 rubric as one table: each score with its answers to the three questions.

The protocol's decision tree (DESIGN.md, "The protocol, made exact"): the final-state
question is always asked; when the state matches, the clean question decides 3 or 2;
when it differs, the arm-motion question decides 1 or 0. A question off the branch is
not asked, so its answer is None.

Everything that knows the tree reads it from here: the rating service, the database
constraint on ratings, the judges' probabilities and calibration, and the rating page
(through `rubric_json`). Plain Python, no Django: the judges and the scoring core may
import it.
"""

from __future__ import annotations

from dataclasses import dataclass

QUESTIONS = ("final_state", "clean", "motion")


@dataclass(frozen=True)
class RubricAnswers:
    """One score and the answers on its branch of the tree (None: not asked)."""

    score: int
    final_state: bool
    clean: bool | None
    motion: bool | None

    @property
    def follow_up(self) -> str:
        """The second question on this score's branch: "clean" or "motion"."""
        return follow_up_question(self.final_state)

    def asked(self) -> dict[str, bool]:
        """The questions this branch asks, with their answers (final state first)."""
        return {
            "final_state": self.final_state,
            self.follow_up: bool(getattr(self, self.follow_up)),
        }


# Highest score first, as the page lists them.
ANSWERS_BY_SCORE: dict[int, RubricAnswers] = {
    3: RubricAnswers(score=3, final_state=True, clean=True, motion=None),
    2: RubricAnswers(score=2, final_state=True, clean=False, motion=None),
    1: RubricAnswers(score=1, final_state=False, clean=None, motion=True),
    0: RubricAnswers(score=0, final_state=False, clean=None, motion=False),
}
SCORES = tuple(sorted(ANSWERS_BY_SCORE))  # (0, 1, 2, 3): the order of probability vectors


def follow_up_question(final_state: bool) -> str:
    """The question asked after the final-state answer."""
    return "clean" if final_state else "motion"


def rubric_score(
    *, final_state: bool, clean: bool | None = None, motion: bool | None = None
) -> int:
    """The score that the answers lead to; the answer off the branch is ignored.

    Raises ValueError when the branch's follow-up question is unanswered.
    """
    question = follow_up_question(final_state)
    answer = clean if final_state else motion
    if answer is None:
        raise ValueError(f"the {question} question is unanswered")
    for answers in ANSWERS_BY_SCORE.values():
        if answers.final_state == final_state and getattr(answers, question) == answer:
            return answers.score
    raise AssertionError("the rubric table covers every branch")  # pragma: no cover


def scores_asking(question: str) -> tuple[int, ...]:
    """The scores whose branch asks `question` (every score asks the final state)."""
    return tuple(s for s in SCORES if getattr(ANSWERS_BY_SCORE[s], question) is not None)


def scores_answering_yes(question: str) -> tuple[int, ...]:
    """The scores whose branch answers `question` with yes."""
    return tuple(s for s in SCORES if getattr(ANSWERS_BY_SCORE[s], question) is True)


def rubric_json() -> dict[str, dict[str, bool | None]]:
    """The table for the rating page's script: {"3": {"final_state": true, ...}, ...}."""
    return {
        str(score): {question: getattr(answers, question) for question in QUESTIONS}
        for score, answers in ANSWERS_BY_SCORE.items()
    }
