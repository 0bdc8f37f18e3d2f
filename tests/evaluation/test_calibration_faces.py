"""Calibrating a judge by the page, the API and the command: one default, one result.

The penalty strength is chosen by cross-validation over teams unless a caller fixes
it; all three faces leave it to the service, so on the same ratings they store the
same judge version with the same held-out figures. A fixed penalty is taken in the
service's one range by all three, and gives the same model.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from evaluation.judges.calibration import PENALTY_GRID, fit_calibration, usable_feature_names
from evaluation.models import JudgeRun, JudgeVersion
from evaluation.selectors import judge as judge_selectors
from evaluation.services import JudgingError
from evaluation.services.judge_calibration import L2_MAX, L2_MIN, check_l2
from tests.evaluation.test_judge_runs import rate_like_humans
from tests.factories import UserFactory

FIGURES = ("exact", "within_one", "quadratic_kappa")


@pytest.fixture
def organizer(transactional_db):
    # Not the shared `organizer` fixture: the demo campaign creates a user of that name.
    return UserFactory(username="calibrating-staff", is_staff=True)


def _stored_calibrations(campaign) -> list[JudgeVersion]:
    return list(JudgeVersion.objects.filter(name="baseline", calibrated_on=campaign))


def test_page_api_and_command_store_the_same_cross_validated_calibration(
    demo_campaign, staff_client, staff_api
):
    slug = demo_campaign.slug
    rate_like_humans(campaign=demo_campaign, seed=5)
    url = reverse("api-judge-calibrate", args=[slug])
    refused = staff_api.post(url, {"judge": "baseline"}, format="json")
    assert refused.status_code == 400 and "no completed run" in refused.json()["detail"]
    call_command("judge_run", slug, "--judge", "baseline", "--chunk-size", "6", "--wait")
    run = JudgeRun.objects.get(campaign=demo_campaign, status=JudgeRun.Status.DONE)

    # API
    response = staff_api.post(url, {"judge": "baseline"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["run_id"] == run.pk and body["groups"] == 3 and body["folds"] == 3
    (stored,) = _stored_calibrations(demo_campaign)
    assert stored.version == body["version"] and stored.metrics["l2"] == body["l2"]
    kappas = body["calibrated"]["quadratic_kappa"], body["uncalibrated"]["quadratic_kappa"]
    assert body["improves"] == (kappas[0] > kappas[1])

    # The penalty was chosen by cross-validation: the model is the one the calibration
    # library fits on the run's features when it chooses the penalty itself.
    data = judge_selectors.calibration_dataset(run=run)
    features = data.drop(columns=["clip_id", "team", "verdict_score", "human"]).astype("float64")
    expected = fit_calibration(
        features=features,
        scores=data["human"].to_numpy(),
        groups=data["team"].to_numpy(),
        seed=0,
        feature_names=usable_feature_names(features),
    )
    assert body["l2"] == expected.l2 and body["l2"] in PENALTY_GRID
    assert stored.options["calibration"] == expected.to_dict()

    # Page: the same version, and the same figures (shown to 2 decimals).
    page = staff_client.post(
        reverse("judge-calibrate", args=[slug]), {"judge": "baseline", "seed": 0}, follow=True
    )
    text = page.content.decode()
    assert f"Calibrated baseline@{body['version']} on {body['pairs']} clips" in text
    held_out, before = body["calibrated"], body["uncalibrated"]
    assert (
        f"exact {held_out['exact']:.2f} (uncalibrated {before['exact']:.2f}), "
        f"within 1 {held_out['within_one']:.2f} ({before['within_one']:.2f}), quadratic kappa "
        f"{held_out['quadratic_kappa']:.2f} ({before['quadratic_kappa']:.2f})"
    ) in text
    assert [v.version for v in _stored_calibrations(demo_campaign)] == [body["version"]]

    # Command: the same version, penalty and figures (printed to 3 decimals).
    out = io.StringIO()
    call_command("judge_calibrate", slug, "--judge", "baseline", stdout=out)
    printed = out.getvalue()
    assert f"calibrated baseline@{body['version']} on {body['pairs']} clips" in printed
    assert f"penalty {body['l2']:g})" in printed
    rows = {
        match[1]: [float(value) for value in match[2].split()]
        for match in re.finditer(
            r"^(calibrated|uncalibrated|majority) +([-\d. nan]+)$", printed, re.M
        )
    }
    for label in ("calibrated", "uncalibrated", "majority"):
        np.testing.assert_allclose(rows[label], [body[label][f] for f in FIGURES], atol=5e-4)
    (after,) = _stored_calibrations(demo_campaign)
    assert after.version == body["version"] and after.metrics == stored.metrics


def test_a_fixed_penalty_is_still_accepted_and_stored(demo_campaign, staff_api):
    """The one way to leave the default: name the penalty. It is the one the fit uses."""
    rate_like_humans(campaign=demo_campaign, seed=5)
    call_command("judge_run", demo_campaign.slug, "--judge", "baseline", "--wait")
    url = reverse("api-judge-calibrate", args=[demo_campaign.slug])
    refused = staff_api.post(url, {"judge": "baseline", "l2": -1}, format="json")
    assert refused.status_code == 400 and "l2" in refused.json()
    for seed in (-1, 2**32):
        refused = staff_api.post(url, {"judge": "baseline", "seed": seed}, format="json")
        assert refused.status_code == 400, seed
        assert refused.json()["detail"].endswith(
            f"seed must be an integer in 0..{2**32 - 1}, got {seed}"
        )
        with pytest.raises(CommandError, match="seed must be an integer"):
            call_command("judge_calibrate", demo_campaign.slug, "--seed", str(seed))
    fixed = staff_api.post(url, {"judge": "baseline", "l2": 100.0}, format="json")
    assert fixed.status_code == 201, fixed.json()
    assert fixed.json()["l2"] == 100.0
    (stored,) = _stored_calibrations(demo_campaign)
    assert stored.options["calibration"]["l2"] == 100.0


def test_page_api_and_command_take_the_same_l2_range_and_store_the_same_model(
    demo_campaign, staff_client, staff_api
):
    """An explicit penalty: one range (the service's, up to the strongest value the
    cross-validation tries), one model, whichever face names it."""
    assert max(PENALTY_GRID) == L2_MAX and L2_MIN == 0.0
    slug = demo_campaign.slug
    rate_like_humans(campaign=demo_campaign, seed=5)
    call_command("judge_run", slug, "--judge", "baseline", "--chunk-size", "6", "--wait")
    run = JudgeRun.objects.get(campaign=demo_campaign, status=JudgeRun.Status.DONE)
    data = judge_selectors.calibration_dataset(run=run)
    features = data.drop(columns=["clip_id", "team", "verdict_score", "human"]).astype("float64")
    l2 = 300.0  # beyond the API's former cap of 100
    expected = fit_calibration(
        features=features,
        scores=data["human"].to_numpy(),
        groups=data["team"].to_numpy(),
        seed=0,
        l2=l2,
        feature_names=usable_feature_names(features),
    )

    # The page offers the field, with its range.
    page = staff_client.get(reverse("judge-runs", args=[slug])).content.decode()
    assert 'name="l2"' in page and "Penalty strength (l2)" in page
    assert f'max="{L2_MAX}"' in page and f'min="{L2_MIN}"' in page
    assert f"A number from {L2_MIN:g} to {L2_MAX:g} fixes it" in page

    # API
    url = reverse("api-judge-calibrate", args=[slug])
    response = staff_api.post(url, {"judge": "baseline", "l2": l2}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["l2"] == l2
    (stored,) = _stored_calibrations(demo_campaign)
    assert stored.version == body["version"]
    assert stored.options["calibration"] == expected.to_dict()

    # Page: the same version, nothing new stored.
    shown = staff_client.post(
        reverse("judge-calibrate", args=[slug]),
        {"judge": "baseline", "seed": 0, "l2": "300"},
        follow=True,
    ).content.decode()
    assert f"Calibrated baseline@{body['version']} on {body['pairs']} clips" in shown
    (after_page,) = _stored_calibrations(demo_campaign)
    assert after_page.options == stored.options and after_page.metrics == stored.metrics

    # Command: the same.
    out = io.StringIO()
    call_command("judge_calibrate", slug, "--judge", "baseline", "--l2", "300", stdout=out)
    assert f"calibrated baseline@{body['version']} on {body['pairs']} clips" in out.getvalue()
    assert "penalty 300)" in out.getvalue()
    (after_command,) = _stored_calibrations(demo_campaign)
    assert after_command.options == stored.options and after_command.metrics == stored.metrics

    # Past the range: refused by each face, before any fit.
    beyond = L2_MAX * 2
    refused = staff_api.post(url, {"judge": "baseline", "l2": beyond}, format="json")
    assert refused.status_code == 400 and "l2" in refused.json()
    page = staff_client.post(
        reverse("judge-calibrate", args=[slug]), {"judge": "baseline", "seed": 0, "l2": beyond}
    )
    assert page.status_code == 400 and "less than or equal to" in page.content.decode()
    with pytest.raises(CommandError, match=f"l2 must lie in 0..{L2_MAX:g}, got {beyond:g}"):
        call_command("judge_calibrate", slug, "--l2", str(beyond))
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(JudgingError, match="l2 must"):
            check_l2(bad)
    assert check_l2(L2_MAX) == L2_MAX and check_l2(None) is None
    assert len(_stored_calibrations(demo_campaign)) == 1
