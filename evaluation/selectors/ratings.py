"""Reads of the evaluation app: a campaign's ratings as plain data for the scoring core.

Every read here runs a fixed number of queries whatever the size of the campaign
(``values_list`` over joins, never one query per row), so the leaderboard of a
campaign with 100 teams costs what the one of a campaign with 3 teams does.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery

from annotate.marks import marks_text
from annotate.models import (
    AdjudicationAction,
    Campaign,
    Clip,
    Episode,
    RaterExclusion,
    Rating,
    Submission,
    Task,
    Team,
)
from annotate.selectors import current_submissions
from evaluation.scoring import natural_sorted
from evaluation.scoring.adjudication import apply_decisions

RATING_EXPORT_COLUMNS = (
    "task",
    "team",
    "episode",
    "rater",
    "score",
    "final_state",
    "clean",
    "motion",
    "comment",
    # Break points on the generated clip, "t:label" items joined by ";", t in seconds
    # with three decimals, e.g. "1.250:deformation;3.000:" (annotate/marks.py, marks_text).
    "marks",
    "revision",
    "created_at",
    "updated_at",
    "submission_version",
    # How the rating was given: seconds on the rating page as the page reported them and
    # as the server measured them (empty for ratings stored before it did), and the
    # share of each clip played.
    "time_on_page_s",
    "server_time_s",
    "watched_reference",
    "watched_generated",
    # Adjudication (evaluation.scoring.adjudication): the rater's own score, and whether
    # an organizer's decided score replaced it in ``score``.
    "rater_score",
    "adjudicated",
)
PSEUDONYM_HEX_DIGITS = 10


def rater_pseudonym(*, user_id: int, campaign_slug: str) -> str:
    """A rater's id in exports: stable within a campaign, unlinkable across campaigns.

    An HMAC keyed by the site secret and the campaign, so nobody without the secret
    can map a pseudonym back to a user by hashing user ids.
    """
    key = f"{settings.SECRET_KEY}:{campaign_slug}".encode()
    digest = hmac.new(key, str(user_id).encode(), hashlib.sha256).hexdigest()
    return "R" + digest[:PSEUDONYM_HEX_DIGITS]


def _pseudonyms(*, user_ids: Iterable[int], campaign_slug: str) -> dict[int, str]:
    return {
        user_id: rater_pseudonym(user_id=user_id, campaign_slug=campaign_slug)
        for user_id in set(user_ids)
    }


def current_submission_ids(*, campaign: Campaign) -> QuerySet[Submission]:
    """Ids of the newest submission of each team, as a subquery (no query of its own)."""
    return current_submissions(campaign=campaign).values("pk")


def excluded_rating(*, campaign: Campaign) -> Exists:
    """True on a rating that an active exclusion of its rater leaves out (RaterExclusion)."""
    return Exists(
        RaterExclusion.objects.filter(
            campaign=campaign, annotator=OuterRef("annotator"), lifted_at__isnull=True
        ).filter(Q(since__isnull=True) | Q(since__lte=OuterRef("updated_at")))
    )


def scored_ratings(
    *, campaign: Campaign, with_excluded: bool = False, with_gold: bool = False
) -> QuerySet[Rating]:
    """Ratings that count: on the current clip of a team, of an episode in the rated set.

    Ratings of excluded raters are left out unless ``with_excluded``, and gold checks
    unless ``with_gold`` (both only for reports that show what they change).
    """
    ratings = Rating.objects.filter(
        clip__submission__in=current_submission_ids(campaign=campaign),
        clip__episode__in_rated_set=True,
    )
    if not with_gold:
        # A gold check (annotate/services/quality.py) measures its rater, never the team.
        ratings = ratings.filter(assignment__gold=False)
    return ratings if with_excluded else ratings.filter(~excluded_rating(campaign=campaign))


DECISION_COLUMNS = ("task", "team", "episode", "score")


def _decided_score(clip: str) -> Subquery:
    """A clip's decided score when its newest decision or withdrawal is a decision, else NULL.

    ``clip`` names the clip in the outer query (``"pk"`` on clips, ``"clip"`` on ratings).
    A withdrawal has no score, so the newest ruling's score is exactly that.
    """
    latest = AdjudicationAction.objects.filter(
        clip=OuterRef(clip),
        kind__in=[AdjudicationAction.Kind.DECISION, AdjudicationAction.Kind.WITHDRAWAL],
    ).order_by("-at", "-pk")
    return Subquery(latest.values("score")[:1])


SCORING_COLUMNS = ("task", "team", "episode", "rater", "score")
_FIELDS = {
    "task": "clip__episode__task__key",
    "team": "clip__submission__team__name",
    "episode": "clip__episode__key",
    "rater": "annotator_id",
    "score": "score",
    "final_state": "final_state",
    "clean": "clean",
    "motion": "motion",
    "comment": "comment",
    "marks": "marks",
    "revision": "revision",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "submission_version": "clip__submission__version",
    "time_on_page_s": "time_on_page_s",
    "server_time_s": "server_time_s",
    "watched_reference": "watched_reference",
    "watched_generated": "watched_generated",
}


def ratings_frame(
    *,
    campaign: Campaign,
    detailed: bool = True,
    with_excluded: bool = False,
    adjudicated: bool = True,
    with_gold: bool = False,
) -> pd.DataFrame:
    """All scored ratings, one row each, in one query.

    Columns are :data:`RATING_EXPORT_COLUMNS`, or only :data:`SCORING_COLUMNS` when
    ``detailed`` is false (what the leaderboard needs, and much cheaper to read), plus
    ``rater_score`` and ``adjudicated`` in both cases. The rater is a pseudonym
    (:func:`rater_pseudonym`), never a username. Rows come in a fixed order (task, team,
    episode, then rating id) that the exports keep, so a re-ranking of the exported
    file sees the very same rows in the same order.

    Excluded raters are left out unless ``with_excluded``; decided scores replace the
    raters' (:func:`evaluation.scoring.adjudication.apply_decisions`) unless
    ``adjudicated`` is false, for the reports on the raters themselves; ``with_gold``
    adds the gold checks (never scored). Every rating is read with its exclusion and its
    clip's decision, so that a decided clip whose raters are all excluded still counts.
    """
    columns = [c for c in (RATING_EXPORT_COLUMNS if detailed else SCORING_COLUMNS) if c in _FIELDS]
    rows = list(
        scored_ratings(campaign=campaign, with_excluded=True, with_gold=with_gold)
        .annotate(excluded=excluded_rating(campaign=campaign), decided_score=_decided_score("clip"))
        .order_by(
            "clip__episode__task__number",
            "clip__submission__team__name",
            "clip__episode__number",
            "pk",
        )
        .values_list(*(_FIELDS[column] for column in columns), "excluded", "decided_score")
    )
    read = pd.DataFrame(rows, columns=[*columns, "excluded", "decided_score"])
    if adjudicated:
        decided = read.loc[read["decided_score"].notna(), ["task", "team", "episode"]]
        decided["score"] = read.loc[decided.index, "decided_score"].astype("int64")
        decisions = decided.drop_duplicates(["task", "team", "episode"])
    else:
        decisions = pd.DataFrame(columns=list(DECISION_COLUMNS))
    kept = read if with_excluded else read[~read["excluded"].astype(bool)]
    frame = kept.loc[:, list(columns)].reset_index(drop=True)
    frame["score"] = frame["score"].astype("int64")
    if "marks" in frame.columns:
        frame["marks"] = frame["marks"].map(lambda marks: marks_text(marks or []))
    if not read.empty:
        pseudonyms = _pseudonyms(user_ids=read["rater"], campaign_slug=campaign.slug)
        frame["rater"] = frame["rater"].map(pseudonyms)
        decisions = decisions.reset_index(drop=True)
    return apply_decisions(ratings=frame, decisions=decisions)


def campaign_tasks(*, campaign: Campaign) -> list[str]:
    """Every task of the campaign (a task nobody submitted to still counts, as 0)."""
    keys = Task.objects.filter(campaign=campaign).values_list("key", flat=True)
    return natural_sorted(keys)


def rated_set(*, campaign: Campaign) -> dict[str, list[str]]:
    """``E(task)`` for every task that has one: episode keys in episode order."""
    episodes: dict[str, list[str]] = {}
    rows = (
        Episode.objects.filter(task__campaign=campaign, in_rated_set=True)
        .order_by("task__number", "number", "pk")
        .values_list("task__key", "key")
    )
    for task, episode in rows:
        episodes.setdefault(task, []).append(episode)
    return {task: episodes[task] for task in natural_sorted(episodes)}


def entrant_teams(*, campaign: Campaign) -> list[str]:
    """Teams with at least one submission: those the leaderboard ranks."""
    names = (
        Team.objects.filter(campaign=campaign, submissions__isnull=False)
        .distinct()
        .values_list("name", flat=True)
    )
    return natural_sorted(names)


@dataclass(frozen=True)
class Coverage:
    n_ratings: int
    n_expected: int  # clips of the team in E(task) x raters per cell

    @property
    def fraction(self) -> float:
        return self.n_ratings / self.n_expected if self.n_expected else 0.0


def coverage(*, campaign: Campaign) -> dict[tuple[str, str], Coverage]:
    """Ratings in against ratings expected, per (team, task); two queries."""
    clips = (
        Clip.objects.filter(
            submission__in=current_submission_ids(campaign=campaign),
            episode__in_rated_set=True,
        )
        .values_list("submission__team__name", "episode__task__key")
        .annotate(n=Count("pk"))
        .order_by()
    )
    ratings = (
        scored_ratings(campaign=campaign)
        .values_list("clip__submission__team__name", "clip__episode__task__key")
        .annotate(n=Count("pk"))
        .order_by()
    )
    n_ratings = {(team, task): n for team, task, n in ratings}
    return {
        (team, task): Coverage(
            n_ratings=n_ratings.get((team, task), 0),
            n_expected=n_clips * campaign.raters_per_cell,
        )
        for team, task, n_clips in clips
    }


@dataclass(frozen=True)
class RatingDetail:
    rater: str
    score: int
    final_state: bool
    clean: bool | None
    motion: bool | None
    comment: str
    revision: int
    n_revisions_kept: int
    updated_at: object
    counted: bool = True  # False: left out by an exclusion of its rater
    marks: tuple = ()  # break points, [{"t": seconds, "label": name}] (annotate/marks.py)


@dataclass(frozen=True)
class ClipDetail:
    episode: str
    reference_token: str
    clip_token: str | None  # None: the team did not submit this episode (it counts 0)
    clip_score: float | None
    ratings: list[RatingDetail]
    decided_score: int | None = None  # an organizer's adjudication, which is what counts


def drilldown(*, campaign: Campaign, team: Team, task: Task) -> list[ClipDetail]:
    """Each episode of ``E(task)`` with the team's current clip and its ratings; three queries."""
    episodes = list(
        Episode.objects.filter(task=task, in_rated_set=True)
        .order_by("number", "pk")
        .values_list("pk", "key", "reference__token")
    )
    clips = {}
    decided = {}
    for clip_id, episode_id, token, decided_score in (
        Clip.objects.filter(
            submission__in=current_submission_ids(campaign=campaign),
            submission__team=team,
            episode__task=task,
        )
        .annotate(decided_score=_decided_score("pk"))
        .values_list("pk", "episode_id", "asset__token", "decided_score")
    ):
        clips[episode_id] = (clip_id, token)
        if decided_score is not None:
            decided[clip_id] = decided_score
    ratings_by_clip: dict[int, list[RatingDetail]] = {}
    rating_rows = (
        Rating.objects.filter(
            clip_id__in=[clip_id for clip_id, _ in clips.values()], assignment__gold=False
        )
        .annotate(n_revisions_kept=Count("revisions"), excluded=excluded_rating(campaign=campaign))
        .order_by("clip_id", "pk")
        .values_list(
            "clip_id",
            "annotator_id",
            "score",
            "final_state",
            "clean",
            "motion",
            "comment",
            "revision",
            "n_revisions_kept",
            "updated_at",
            "excluded",
            "marks",
        )
    )
    for clip_id, user_id, *rest, excluded, marks in rating_rows:
        ratings_by_clip.setdefault(clip_id, []).append(
            RatingDetail(
                rater_pseudonym(user_id=user_id, campaign_slug=campaign.slug),
                *rest,
                counted=not excluded,
                marks=tuple(marks or ()),
            )
        )

    details = []
    for episode_id, key, reference_token in episodes:
        clip_id, clip_token = clips.get(episode_id, (None, None))
        ratings = ratings_by_clip.get(clip_id, []) if clip_id is not None else []
        counted = [rating.score for rating in ratings if rating.counted]
        # As the leaderboard counts it: a decided score, else the counted ratings' mean.
        clip_score = (
            float(decided[clip_id])
            if clip_id in decided
            else (sum(counted) / len(counted) if counted else None)
        )
        details.append(
            ClipDetail(
                episode=key,
                reference_token=str(reference_token),
                clip_token=str(clip_token) if clip_token is not None else None,
                clip_score=clip_score,
                ratings=ratings,
                decided_score=decided.get(clip_id),
            )
        )
    return details
