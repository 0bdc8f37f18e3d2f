"""The adjudication queue of a campaign, and the record of what organizers did with it.

A scored clip (a team's rated version, of an episode in the rated set) comes to the
queue when its counted ratings span at least the campaign's ``adjudication_range``
(highest minus lowest), or when one of its ratings is excluded. Once there, it stays
listed with its history. Its status:

- ``decided``: its newest decision (not withdrawn) counts;
- ``waiting``: one more rater was asked and has not rated yet;
- ``rated_again``: every extra rater asked has rated; the clip's mean, now over one
  more rating, counts (the organizer may still decide);
- ``open``: nothing done yet.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import pandas as pd
from django.utils import timezone

from annotate.models import AdjudicationAction, Campaign
from evaluation.scoring import ScoringInputError, natural_key
from evaluation.scoring.adjudication import ADJUDICATION_RULE
from evaluation.scoring.reliability import clip_spreads
from evaluation.scoring.tables import csv_text
from evaluation.selectors.ratings import excluded_rating, rater_pseudonym, scored_ratings

OPEN, WAITING, RATED_AGAIN, DECIDED = "open", "waiting", "rated_again", "decided"
STATUSES = (OPEN, WAITING, RATED_AGAIN, DECIDED)
DISAGREE, EXCLUDED_RATER = "disagree", "excluded_rater"
ACTION_COLUMNS = (
    "at",
    "kind",
    "task",
    "team",
    "episode",
    "score",
    "reason",
    "by",
    "extra_rater",
    "extra_rater_score",
)
ACTION_FORMATS = ("json", "csv")


@dataclass(frozen=True)
class QueueRating:
    rater: str  # pseudonym
    username: str  # organizers' pages only
    score: int
    counted: bool
    extra: bool  # given by an extra rater asked for by adjudication


@dataclass(frozen=True)
class QueueAction:
    kind: str
    score: int | None
    reason: str
    by: str
    at: dt.datetime
    extra_rater: str  # pseudonym of the rater asked, for kind extra_rater
    extra_rater_username: str
    extra_rater_score: int | None  # None until they rate


@dataclass(frozen=True)
class QueueItem:
    clip_id: int
    task: str
    team: str
    episode: str
    ratings: list[QueueRating]
    low: int | None
    high: int | None
    mean: float | None
    reasons: tuple[str, ...]
    status: str
    decided_score: int | None
    actions: list[QueueAction] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "clip": self.clip_id,
            "task": self.task,
            "team": self.team,
            "episode": self.episode,
            "status": self.status,
            "reasons": list(self.reasons),
            "low": self.low,
            "high": self.high,
            "mean": self.mean,
            "decided_score": self.decided_score,
            "ratings": [
                {"rater": r.rater, "score": r.score, "counted": r.counted, "extra": r.extra}
                for r in self.ratings
            ],
            "actions": [_action_json(action) for action in self.actions],
        }


def _action_json(action: QueueAction) -> dict[str, object]:
    return {
        "kind": action.kind,
        "score": action.score,
        "reason": action.reason,
        "by": action.by,
        "at": action.at.isoformat(),
        "extra_rater": action.extra_rater or None,
        "extra_rater_score": action.extra_rater_score,
    }


def _ratings_by_clip(campaign: Campaign) -> dict[int, tuple[str, str, str, list[QueueRating]]]:
    rows = (
        scored_ratings(campaign=campaign, with_excluded=True)
        .annotate(excluded=excluded_rating(campaign=campaign))
        .order_by("pk")
        .values_list(
            "clip_id",
            "clip__episode__task__key",
            "clip__submission__team__name",
            "clip__episode__key",
            "annotator_id",
            "annotator__username",
            "score",
            "excluded",
            "assignment__extra_rater",
        )
    )
    clips: dict[int, tuple[str, str, str, list[QueueRating]]] = {}
    for clip_id, task, team, episode, user_id, username, score, excluded, extra in rows:
        entry = clips.setdefault(clip_id, (task, team, episode, []))
        entry[3].append(
            QueueRating(
                rater=rater_pseudonym(user_id=user_id, campaign_slug=campaign.slug),
                username=username,
                score=score,
                counted=not excluded,
                extra=extra,
            )
        )
    return clips


def _actions_by_clip(campaign: Campaign) -> dict[int, list[QueueAction]]:
    actions: dict[int, list[QueueAction]] = {}
    rows = (
        AdjudicationAction.objects.filter(campaign=campaign)
        .select_related("by", "assignment__annotator", "assignment__rating")
        .order_by("at", "pk")
    )
    for row in rows:
        assignment = row.assignment
        rating = getattr(assignment, "rating", None) if assignment is not None else None
        actions.setdefault(row.clip_id, []).append(
            QueueAction(
                kind=row.kind,
                score=row.score,
                reason=row.reason,
                by=row.by.username if row.by else "",
                at=row.at,
                extra_rater=(
                    rater_pseudonym(user_id=assignment.annotator_id, campaign_slug=campaign.slug)
                    if assignment is not None
                    else ""
                ),
                extra_rater_username=assignment.annotator.username if assignment else "",
                extra_rater_score=rating.score if rating is not None else None,
            )
        )
    return actions


def _status(actions: list[QueueAction]) -> tuple[str, int | None]:
    rulings = [a for a in actions if a.kind != AdjudicationAction.Kind.EXTRA_RATER]
    if rulings and rulings[-1].kind == AdjudicationAction.Kind.DECISION:
        return DECIDED, rulings[-1].score
    extra = [a for a in actions if a.kind == AdjudicationAction.Kind.EXTRA_RATER]
    if any(a.extra_rater_score is None for a in extra):
        return WAITING, None
    return (RATED_AGAIN, None) if extra else (OPEN, None)


def adjudication_queue(*, campaign: Campaign) -> list[QueueItem]:
    """Clips in review (see the module docstring), open ones first; three queries.

    Only the teams' rated versions are listed: a clip replaced by a newer version left
    the scores, and its actions stay in :func:`adjudication_actions_frame`.
    """
    clips = _ratings_by_clip(campaign)
    actions = _actions_by_clip(campaign)
    frame = pd.DataFrame(
        [
            {
                "task": task,
                "team": team,
                "episode": episode,
                "rater": rating.rater,
                "score": rating.score,
                "counted": rating.counted,
                "clip_id": clip_id,
            }
            for clip_id, (task, team, episode, ratings) in clips.items()
            for rating in ratings
        ],
        columns=["task", "team", "episode", "rater", "score", "counted", "clip_id"],
    )
    frame["counted"] = frame["counted"].astype(bool)
    spreads = (
        {
            (s.task, s.team, s.episode): s
            for s in clip_spreads(ratings=frame, min_range=campaign.adjudication_range)
        }
        if not frame.empty
        else {}
    )
    items = []
    for clip_id, (task, team, episode, ratings) in clips.items():
        spread = spreads[(task, team, episode)]
        reasons = tuple(
            reason
            for reason, hit in ((DISAGREE, spread.disagrees), (EXCLUDED_RATER, spread.has_excluded))
            if hit
        )
        history = actions.get(clip_id, [])
        if not reasons and not history:
            continue
        status, decided = _status(history)
        items.append(
            QueueItem(
                clip_id=clip_id,
                task=task,
                team=team,
                episode=episode,
                ratings=ratings,
                low=spread.low,
                high=spread.high,
                mean=spread.mean,
                reasons=reasons,
                status=status,
                decided_score=decided,
                actions=history,
            )
        )
    order = {status: index for index, status in enumerate(STATUSES)}
    return sorted(
        items,
        key=lambda item: (
            order[item.status],
            natural_key(item.task),
            item.team,
            natural_key(item.episode),
        ),
    )


def adjudication_actions_frame(*, campaign: Campaign) -> pd.DataFrame:
    """Every adjudication action of the campaign, oldest first, in :data:`ACTION_COLUMNS`.

    The extra rater is named by pseudonym, the organizer by username (the record of who
    decided is the point of it).
    """
    rows = (
        AdjudicationAction.objects.filter(campaign=campaign)
        .select_related(
            "by",
            "assignment__rating",
            "clip__episode__task",
            "clip__submission__team",
        )
        .order_by("at", "pk")
    )
    records = []
    for row in rows:
        assignment = row.assignment
        rating = getattr(assignment, "rating", None) if assignment is not None else None
        records.append(
            {
                "at": row.at.isoformat(),
                "kind": row.kind,
                "task": row.clip.episode.task.key,
                "team": row.clip.submission.team.name,
                "episode": row.clip.episode.key,
                "score": row.score,
                "reason": row.reason,
                "by": row.by.username if row.by else "",
                "extra_rater": (
                    rater_pseudonym(user_id=assignment.annotator_id, campaign_slug=campaign.slug)
                    if assignment is not None
                    else ""
                ),
                "extra_rater_score": rating.score if rating is not None else None,
            }
        )
    frame = pd.DataFrame(records, columns=list(ACTION_COLUMNS))
    for column in ("score", "extra_rater_score"):
        frame[column] = pd.array(frame[column], dtype="Int64")
    return frame


def adjudication_actions_export(
    *, campaign: Campaign, fmt: str, now: dt.datetime | None = None
) -> bytes:
    """The record of adjudication as JSON (with the counting rule) or CSV."""
    if fmt not in ACTION_FORMATS:
        raise ScoringInputError(f"format {fmt!r} is unknown; choose one of {ACTION_FORMATS}")
    frame = adjudication_actions_frame(campaign=campaign)
    if fmt == "csv":
        return csv_text(frame).encode("utf-8")
    rows = [
        {key: (None if pd.isna(value) else value) for key, value in record.items()}
        for record in frame.astype(object).to_dict(orient="records")
    ]
    document = {
        "campaign": campaign.slug,
        "generated_at": (now or timezone.now()).isoformat(),
        "what": "adjudications",
        "adjudication_rule": ADJUDICATION_RULE,
        "rows": rows,
    }
    return (json.dumps(document, indent=2, allow_nan=False, default=int) + "\n").encode("utf-8")
