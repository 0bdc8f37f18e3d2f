"""Rater reliability of a campaign: ORM rows -> the pure core -> the report people read.

The statistics and the flags are :mod:`evaluation.scoring.reliability`'s; this module
reads what they need in a fixed number of queries (the ratings with their timings, the
exclusions, the gold answers) and writes the report as JSON or CSV, as the raters page,
the API and ``manage.py rater_report`` give it.

Time per clip is the server's measure: ``Rating.server_time_s``, the seconds from the
rating page being opened (``Assignment.started_at``) to the rating being stored; for a
rating stored before the server measured it, ``started_at`` to ``Rating.created_at``.
It is set against the pair's duration, the longer of the reference and the generated
clip (the rating page plays both to the end). The page's own report
(``time_on_page_s``) is shown beside it, never instead.

Raters are named by the pseudonym of the ratings export (:func:`rater_pseudonym`);
usernames appear on the organizers' page only, never in a file.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.contrib.auth import get_user_model
from django.utils import timezone

from annotate.models import Assignment, Campaign, QualityExample, RaterExclusion
from annotate.selectors.quality import gold_accuracy
from evaluation.scoring import ScoringInputError, point_scores
from evaluation.scoring.adjudication import ADJUDICATION_RULE
from evaluation.scoring.reliability import (
    CONSENSUS_RULE,
    FLAGS,
    GoldScore,
    RaterReliability,
    ReliabilityThresholds,
    rater_reliability,
    reliability_frame,
)
from evaluation.scoring.tables import csv_text
from evaluation.selectors.ratings import (
    campaign_tasks,
    entrant_teams,
    excluded_rating,
    rated_set,
    rater_pseudonym,
    ratings_frame,
    scored_ratings,
)

REPORT_FORMATS = ("json", "csv")
RATER_REPORT_COLUMNS = (
    "rater",
    "excluded",
    "excluded_since",
    *(name for name in RaterReliability.__dataclass_fields__ if name != "rater"),
)


def thresholds_of(campaign: Campaign) -> ReliabilityThresholds:
    """The campaign's flag thresholds as the pure core takes them."""
    return ReliabilityThresholds(
        min_clips=campaign.reliability_min_clips,
        fast_ratio=campaign.flag_fast_ratio,
        min_kappa=campaign.flag_min_kappa,
        straight_line_share=campaign.flag_straight_line_share,
        min_gold_accuracy=campaign.flag_min_gold_accuracy,
        gold_min_clips=campaign.flag_gold_min_clips,
    )


def reliability_ratings(*, campaign: Campaign) -> pd.DataFrame:
    """Every scored rating, excluded or not, with its timings; one query.

    Columns: task, team, episode, rater (pseudonym), score, counted, seconds,
    page_seconds, duration_s, user_id.
    """
    rows = list(
        scored_ratings(campaign=campaign, with_excluded=True)
        .annotate(excluded=excluded_rating(campaign=campaign))
        .order_by("clip__episode__task__number", "clip__submission__team__name", "pk")
        .values_list(
            "clip__episode__task__key",
            "clip__submission__team__name",
            "clip__episode__key",
            "annotator_id",
            "score",
            "excluded",
            "server_time_s",
            "assignment__started_at",
            "created_at",
            "time_on_page_s",
            "clip__asset__duration_s",
            "clip__episode__reference__duration_s",
        )
    )
    records = []
    for (
        task,
        team,
        episode,
        user_id,
        score,
        excluded,
        server_s,
        started_at,
        created_at,
        page_s,
        clip_s,
        reference_s,
    ) in rows:
        if server_s is None and started_at is not None:
            server_s = max(0.0, (created_at - started_at).total_seconds())
        records.append(
            {
                "task": task,
                "team": team,
                "episode": episode,
                "rater": rater_pseudonym(user_id=user_id, campaign_slug=campaign.slug),
                "score": score,
                "counted": not excluded,
                "seconds": np.nan if server_s is None else float(server_s),
                "page_seconds": float(page_s) if page_s else np.nan,
                "duration_s": max(clip_s or 0.0, reference_s or 0.0) or np.nan,
                "user_id": user_id,
            }
        )
    columns = [
        "task",
        "team",
        "episode",
        "rater",
        "score",
        "counted",
        "seconds",
        "page_seconds",
        "duration_s",
        "user_id",
    ]
    frame = pd.DataFrame(records, columns=columns)
    # Typed even with no row: a campaign nobody has rated yet has an empty report.
    return frame.astype({"score": "int64", "counted": bool, "user_id": "int64"})


def gold_scores(*, campaign: Campaign) -> dict[int, GoldScore]:
    """Each rater's blind gold checks, by user id (``annotate.selectors.quality``)."""
    return {
        int(user_id): GoldScore(
            n=answers.n, exact=answers.exact_share, within_one=answers.within_one_share
        )
        for user_id, answers in gold_accuracy(campaign=campaign).items()
    }


@dataclass(frozen=True)
class ExclusionNote:
    """One exclusion as pages, exports and the API show it (the rater by pseudonym)."""

    id: int
    rater: str
    username: str  # organizers' pages only
    since: dt.datetime | None
    reason: str
    excluded_by: str
    excluded_at: dt.datetime
    lifted_at: dt.datetime | None
    lifted_by: str
    lift_reason: str

    @property
    def active(self) -> bool:
        return self.lifted_at is None

    def as_json(self, *, with_username: bool = False) -> dict[str, object]:
        """JSON-ready; no username unless asked for (files never name people)."""
        data: dict[str, object] = {
            "id": self.id,
            "rater": self.rater,
            "since": self.since.isoformat() if self.since else None,
            "reason": self.reason,
            "excluded_by": self.excluded_by,
            "excluded_at": self.excluded_at.isoformat(),
            "lifted_at": self.lifted_at.isoformat() if self.lifted_at else None,
            "lifted_by": self.lifted_by,
            "lift_reason": self.lift_reason,
        }
        if with_username:
            data["username"] = self.username
        return data


def exclusion_notes(*, campaign: Campaign, active_only: bool = False) -> list[ExclusionNote]:
    """The campaign's exclusions, newest first; one query."""
    rows = RaterExclusion.objects.filter(campaign=campaign).select_related(
        "annotator", "created_by", "lifted_by"
    )
    if active_only:
        rows = rows.filter(lifted_at__isnull=True)
    return [
        ExclusionNote(
            id=row.pk,
            rater=rater_pseudonym(user_id=row.annotator_id, campaign_slug=campaign.slug),
            username=row.annotator.username,
            since=row.since,
            reason=row.reason,
            excluded_by=row.created_by.username if row.created_by else "",
            excluded_at=row.created_at,
            lifted_at=row.lifted_at,
            lifted_by=row.lifted_by.username if row.lifted_by else "",
            lift_reason=row.lift_reason,
        )
        for row in rows.order_by("-created_at", "-pk")
    ]


def exclusion_meta(*, campaign: Campaign) -> dict[str, object]:
    """What every export and the pages say about exclusions and adjudication."""
    active = exclusion_notes(campaign=campaign, active_only=True)
    return {
        "excluded_raters": [note.as_json() for note in active],
        "adjudication_rule": ADJUDICATION_RULE,
    }


@dataclass(frozen=True)
class RaterRow:
    reliability: RaterReliability
    username: str  # organizers' pages only
    excluded: bool  # an active exclusion
    excluded_since: dt.datetime | None

    def as_json(self) -> dict[str, object]:
        return {
            "rater": self.reliability.rater,
            "excluded": self.excluded,
            "excluded_since": self.excluded_since.isoformat() if self.excluded_since else None,
            **{k: v for k, v in self.reliability.as_json().items() if k != "rater"},
        }


@dataclass(frozen=True)
class RaterReport:
    campaign_slug: str
    generated_at: dt.datetime
    thresholds: ReliabilityThresholds
    gold_available: bool
    rows: list[RaterRow]
    exclusions: list[ExclusionNote]  # active ones

    @property
    def flagged(self) -> list[RaterRow]:
        return [row for row in self.rows if row.reliability.flags]

    def meta(self) -> dict[str, object]:
        return {
            "campaign": self.campaign_slug,
            "generated_at": self.generated_at.isoformat(),
            "what": "raters",
            "consensus": CONSENSUS_RULE,
            "flags": list(FLAGS),
            "thresholds": self.thresholds.as_json(),
            "gold_available": self.gold_available,
            "time_per_clip": "server-measured seconds from the rating page being opened to the "
            "rating being stored, against the longer of the pair's two clips",
            "excluded_raters": [note.as_json() for note in self.exclusions],
        }


def rater_report(*, campaign: Campaign, now: dt.datetime | None = None) -> RaterReport:
    """Every rater of the campaign with their reliability figures and flags.

    Excluded raters are listed (marked) and compared with the consensus of the raters
    that count; they never shape anyone's consensus.
    """
    ratings = reliability_ratings(campaign=campaign)
    gold_by_user = gold_scores(campaign=campaign)
    user_ids = set(ratings["user_id"].astype(int)) | set(gold_by_user)
    pseudonym = {
        user_id: rater_pseudonym(user_id=user_id, campaign_slug=campaign.slug)
        for user_id in user_ids
    }
    gold = {pseudonym[user_id]: answers for user_id, answers in gold_by_user.items()}
    rows = rater_reliability(
        ratings=ratings.drop(columns=["user_id"]), gold=gold, thresholds=thresholds_of(campaign)
    )
    usernames = dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username"))
    by_pseudonym = {pseudonym[user_id]: user_id for user_id in user_ids}
    active = exclusion_notes(campaign=campaign, active_only=True)
    active_by_rater = {note.rater: note for note in active}
    return RaterReport(
        campaign_slug=campaign.slug,
        generated_at=now or timezone.now(),
        thresholds=thresholds_of(campaign),
        gold_available=QualityExample.objects.filter(
            campaign=campaign, kind=QualityExample.Kind.GOLD
        ).exists(),
        rows=[
            RaterRow(
                reliability=row,
                username=usernames.get(by_pseudonym.get(row.rater), ""),
                excluded=row.rater in active_by_rater,
                excluded_since=(
                    active_by_rater[row.rater].since if row.rater in active_by_rater else None
                ),
            )
            for row in rows
        ],
        exclusions=active,
    )


def rater_report_json(report: RaterReport) -> bytes:
    """The report as ``manage.py rater_report --output raters.json`` writes it."""
    document = {**report.meta(), "rows": [row.as_json() for row in report.rows]}
    return (json.dumps(document, indent=2, allow_nan=False) + "\n").encode("utf-8")


def rater_report_frame(report: RaterReport) -> pd.DataFrame:
    """One row per rater in :data:`RATER_REPORT_COLUMNS`; flags joined with ``;``."""
    table = reliability_frame([row.reliability for row in report.rows])
    table.insert(1, "excluded", [row.excluded for row in report.rows])
    table.insert(
        2,
        "excluded_since",
        [row.excluded_since.isoformat() if row.excluded_since else "" for row in report.rows],
    )
    return table.loc[:, list(RATER_REPORT_COLUMNS)]


def rater_report_csv(report: RaterReport) -> bytes:
    """The report as ``manage.py rater_report --output raters.csv`` writes it (no metadata:
    the thresholds are in the JSON, and on the page)."""
    return csv_text(rater_report_frame(report)).encode("utf-8")


def rater_user(*, campaign: Campaign, name: str):
    """The user a rater is named by on the command line or in the API: username or pseudonym.

    None when nobody with work in the campaign answers to ``name``.
    """
    users = get_user_model().objects.filter(
        pk__in=Assignment.objects.filter(campaign=campaign).values("annotator_id")
    )
    for user in users:
        if name in (user.username, rater_pseudonym(user_id=user.pk, campaign_slug=campaign.slug)):
            return user
    return None


@dataclass(frozen=True)
class EffectRow:
    team: str
    rank: int  # without the excluded raters: the leaderboard's
    final_score: float
    rank_with: int  # with them, as if nobody were excluded
    final_score_with: float

    @property
    def difference(self) -> float:
        """What the exclusions changed: final score without them minus with them."""
        return self.final_score - self.final_score_with

    @property
    def changed(self) -> bool:
        return self.rank != self.rank_with or abs(self.difference) > 1e-12


@dataclass(frozen=True)
class ExclusionEffect:
    """The leaderboard's point scores without and with the excluded raters, side by side."""

    rows: list[EffectRow]  # in the leaderboard's order
    n_ratings: int
    n_ratings_with: int
    exclusions: list[ExclusionNote]

    @property
    def n_excluded_ratings(self) -> int:
        return self.n_ratings_with - self.n_ratings


def exclusion_effect(*, campaign: Campaign) -> ExclusionEffect | None:
    """Point scores and ranks with and without the excluded raters; None without exclusions.

    Both sides apply the adjudication decisions, as the leaderboard does. Point scores
    only (no bootstrap): the effect is read off the scores, cheaply, on every page view.
    """
    exclusions = exclusion_notes(campaign=campaign, active_only=True)
    if not exclusions:
        return None
    structure = {
        "rated_set": rated_set(campaign=campaign),
        "tasks": campaign_tasks(campaign=campaign),
        "teams": entrant_teams(campaign=campaign),
    }
    if not structure["tasks"] or not structure["teams"]:
        return None
    without = ratings_frame(campaign=campaign, detailed=False)
    with_all = ratings_frame(campaign=campaign, detailed=False, with_excluded=True)
    try:
        counted = point_scores(ratings=without, **structure)
        everyone = point_scores(ratings=with_all, **structure)
    except ScoringInputError:
        return None
    index_with = {team: i for i, team in enumerate(everyone.teams)}
    order = sorted(range(len(counted.teams)), key=lambda i: (counted.ranks[i], counted.teams[i]))
    rows = []
    for i in order:
        team = counted.teams[i]
        j = index_with[team]
        rows.append(
            EffectRow(
                team=team,
                rank=int(counted.ranks[i]),
                final_score=float(counted.final_scores[i]),
                rank_with=int(everyone.ranks[j]),
                final_score_with=float(everyone.final_scores[j]),
            )
        )
    return ExclusionEffect(
        rows=rows, n_ratings=len(without), n_ratings_with=len(with_all), exclusions=exclusions
    )
