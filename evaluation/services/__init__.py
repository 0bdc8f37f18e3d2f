"""Writes of the evaluation app, one module per area; reads are in :mod:`evaluation.selectors`.

- :mod:`.judges`: judge versions (the stored row of a configured judge) and rebuilding one;
- :mod:`.judge_runs`: launch, judge in chunks, fail, cancel and resume a run;
- :mod:`.judge_calibration`: calibrate a judge on human ratings (a new version);
- :mod:`.judge_pair`: judge one pair on demand.

Views, API views, commands and tasks call these; others add their modules below.
"""

from evaluation.services.judge_calibration import CalibrationOutcome, judge_calibrate
from evaluation.services.judge_pair import judge_pair, judge_stored_pair, judge_uploaded_pair
from evaluation.services.judge_runs import (
    ChunkOutcome,
    judge_run_cancel,
    judge_run_create,
    judge_run_resume,
)
from evaluation.services.judges import JudgingError, judge_build, judge_version_for

__all__ = [
    "CalibrationOutcome",
    "ChunkOutcome",
    "JudgingError",
    "judge_build",
    "judge_calibrate",
    "judge_pair",
    "judge_run_cancel",
    "judge_run_create",
    "judge_run_resume",
    "judge_stored_pair",
    "judge_uploaded_pair",
    "judge_version_for",
]
