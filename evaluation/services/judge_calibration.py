"""Calibration of a judge on a campaign's human ratings, stored as a new judge version."""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass

import numpy as np
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from annotate.models import Campaign
from evaluation.models import JudgeRun, JudgeVersion
from evaluation.selectors import judge as judge_selectors
from evaluation.services.judges import JudgingError, judge_build_configured, judge_settings_entry


@dataclass(frozen=True)
class CalibrationOutcome:
    judge_version: JudgeVersion  # the new, calibrated version
    run: JudgeRun  # whose verdict features were fitted
    pairs: int
    groups: int
    folds: int
    calibrated: dict[str, float]  # held-out exact, within_one, quadratic_kappa
    uncalibrated: dict[str, float]
    majority: dict[str, float]

    @property
    def improves(self) -> bool:
        """Whether the calibration beats the uncalibrated judge held out (by quadratic kappa)."""
        return self.calibrated["quadratic_kappa"] > self.uncalibrated["quadratic_kappa"]


def _takes_calibration(backend: str) -> bool:
    try:
        backend_class = import_string(backend)
    except ImportError:
        return False
    return "calibration" in inspect.signature(backend_class).parameters


FEATURE_EXCLUDED_COLUMNS = ("clip_id", "team", "verdict_score", "human")

# The penalty strengths a caller may fix: from none at all to the strongest one the
# cross-validation tries (the last of evaluation.judges.calibration.PENALTY_GRID, which
# gives back the uncalibrated judge); the page, the API and the command take this range.
L2_MIN = 0.0
L2_MAX = 1e4


def check_l2(l2: float | None) -> float | None:
    """``l2`` as given when it is None (chosen by cross-validation) or in the range."""
    if l2 is None:
        return None
    if isinstance(l2, bool) or not isinstance(l2, int | float) or not math.isfinite(l2):
        raise JudgingError(_("l2 must be a number, not %(l2)r") % {"l2": l2})
    if not L2_MIN <= l2 <= L2_MAX:
        raise JudgingError(
            _("l2 must lie in %(low)s..%(high)s, got %(l2)s")
            % {"low": f"{L2_MIN:g}", "high": f"{L2_MAX:g}", "l2": f"{l2:g}"}
        )
    return float(l2)


def judge_calibrate(
    *, campaign: Campaign, judge_name: str, seed: int = 0, l2: float | None = None
) -> CalibrationOutcome:
    """Fit the judge's features to human consensus scores and store the result as a new version.

    Uses the latest completed run of ``judge_name`` on ``campaign`` and the clips that
    humans rated (consensus: the median of a clip's ratings, halves rounded up).
    Held-out figures come from cross-validation that leaves each team out of the fit
    that scores it. ``l2`` None, the one default of the page, the API and the command,
    chooses the penalty by an inner cross-validation over teams (a fixed 0.05 lost to
    the uncalibrated judge, see docs/judges.md); a number in ``L2_MIN..L2_MAX`` fixes it.
    """
    l2 = check_l2(l2)
    from evaluation.judges.calibration import (
        CalibrationError,
        cross_validate,
        fit_calibration,
        usable_feature_names,
    )

    config = judge_settings_entry(judge_name)
    if not _takes_calibration(config["BACKEND"]):
        raise JudgingError(f"judge {judge_name!r} ({config['BACKEND']}) takes no calibration")
    run = judge_selectors.latest_completed_run(campaign=campaign, judge_name=judge_name)
    if run is None:
        raise JudgingError(
            _("judge %(judge)r has no completed run on campaign %(campaign)r: run it first")
            % {"judge": judge_name, "campaign": campaign.slug}
        )
    data = judge_selectors.calibration_dataset(run=run)
    if data.empty:
        raise JudgingError(
            _("no clip of judge run %(run)s is both judged and rated by humans") % {"run": run.pk}
        )
    features = data.drop(columns=list(FEATURE_EXCLUDED_COLUMNS)).apply(
        lambda column: column.astype("float64")
    )
    uncalibrated = (
        features["tree_score"] if "tree_score" in features.columns else data["verdict_score"]
    ).to_numpy(dtype=np.float64)
    try:
        figures = cross_validate(
            features=features,
            scores=data["human"].to_numpy(),
            groups=data["team"].to_numpy(),
            seed=seed,
            l2=l2,
            uncalibrated_scores=uncalibrated,
        )
        model = fit_calibration(
            features=features,
            scores=data["human"].to_numpy(),
            groups=data["team"].to_numpy(),
            seed=seed,
            l2=l2,
            feature_names=usable_feature_names(features),
        )
    except CalibrationError as exc:
        raise JudgingError(f"cannot calibrate judge {judge_name!r} on run {run.pk}: {exc}") from exc
    base_options = {key: value for key, value in run.judge.options.items() if key != "calibration"}
    options = {**base_options, "calibration": model.to_dict()}
    version = judge_build_configured(name=judge_name, options=options).version
    metrics = {**figures, "run": run.pk, "seed": seed, "l2": model.l2}
    calibrated, _created = JudgeVersion.objects.update_or_create(
        name=judge_name,
        version=version,
        defaults={"options": options, "calibrated_on": campaign, "metrics": metrics},
    )
    return CalibrationOutcome(
        judge_version=calibrated,
        run=run,
        pairs=figures["pairs"],
        groups=figures["groups"],
        folds=figures["folds"],
        calibrated=figures["calibrated"],
        uncalibrated=figures["uncalibrated"],
        majority=figures["majority"],
    )
