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
from django.db.models import Count, QuerySet

from annotate.models import Campaign, Clip, Episode, Rating, Submission, Task, Team
from annotate.selectors import current_submissions
from evaluation.scoring import natural_sorted

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


def scored_ratings(*, campaign: Campaign) -> QuerySet[Rating]:
    """Ratings that count: on the current clip of a team, of an episode in the rated set."""
    return Rating.objects.filter(
        clip__submission__in=current_submission_ids(campaign=campaign),
        clip__episode__in_rated_set=True,
    )


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
    "revision": "revision",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "submission_version": "clip__submission__version",
    "time_on_page_s": "time_on_page_s",
    "server_time_s": "server_time_s",
    "watched_reference": "watched_reference",
    "watched_generated": "watched_generated",
}


def ratings_frame(*, campaign: Campaign, detailed: bool = True) -> pd.DataFrame:
    """All scored ratings, one row each, in one query.

    Columns are :data:`RATING_EXPORT_COLUMNS`, or only :data:`SCORING_COLUMNS` when
    ``detailed`` is false (what the leaderboard needs, and much cheaper to read).
    The rater is a pseudonym (:func:`rater_pseudonym`), never a username. Rows come
    in a fixed order (task, team, episode, then rating id) that the exports keep, so
    a re-ranking of the exported file sees the very same rows in the same order.
    """
    columns = RATING_EXPORT_COLUMNS if detailed else SCORING_COLUMNS
    rows = list(
        scored_ratings(campaign=campaign)
        .order_by(
            "clip__episode__task__number",
            "clip__submission__team__name",
            "clip__episode__number",
            "pk",
        )
        .values_list(*(_FIELDS[column] for column in columns))
    )
    frame = pd.DataFrame(rows, columns=list(columns))
    frame["score"] = frame["score"].astype("int64")
    if not frame.empty:
        pseudonyms = _pseudonyms(user_ids=frame["rater"], campaign_slug=campaign.slug)
        frame["rater"] = frame["rater"].map(pseudonyms)
    return frame


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


@dataclass(frozen=True)
class ClipDetail:
    episode: str
    reference_token: str
    clip_token: str | None  # None: the team did not submit this episode (it counts 0)
    clip_score: float | None
    ratings: list[RatingDetail]


def drilldown(*, campaign: Campaign, team: Team, task: Task) -> list[ClipDetail]:
    """Each episode of ``E(task)`` with the team's current clip and its ratings; three queries."""
    episodes = list(
        Episode.objects.filter(task=task, in_rated_set=True)
        .order_by("number", "pk")
        .values_list("pk", "key", "reference__token")
    )
    clips = {
        episode_id: (clip_id, token)
        for clip_id, episode_id, token in Clip.objects.filter(
            submission__in=current_submission_ids(campaign=campaign),
            submission__team=team,
            episode__task=task,
        ).values_list("pk", "episode_id", "asset__token")
    }
    ratings_by_clip: dict[int, list[RatingDetail]] = {}
    rating_rows = (
        Rating.objects.filter(clip_id__in=[clip_id for clip_id, _ in clips.values()])
        .annotate(n_revisions_kept=Count("revisions"))
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
        )
    )
    for clip_id, user_id, *rest in rating_rows:
        ratings_by_clip.setdefault(clip_id, []).append(
            RatingDetail(rater_pseudonym(user_id=user_id, campaign_slug=campaign.slug), *rest)
        )
    details = []
    for episode_id, key, reference_token in episodes:
        clip_id, clip_token = clips.get(episode_id, (None, None))
        ratings = ratings_by_clip.get(clip_id, []) if clip_id is not None else []
        details.append(
            ClipDetail(
                episode=key,
                reference_token=str(reference_token),
                clip_token=str(clip_token) if clip_token is not None else None,
                clip_score=(
                    sum(rating.score for rating in ratings) / len(ratings) if ratings else None
                ),
                ratings=ratings,
            )
        )
    return details
