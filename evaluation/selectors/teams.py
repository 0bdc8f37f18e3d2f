"""What a published campaign shows its teams and, if the organizers chose so, the public.

Built on the organizers' leaderboard (``campaign_leaderboard`` and the rows of its page,
``standing_rows``) and drill-down (``drilldown``), never a second scoring. Nothing is
shown before the campaign is published; raters are never named, not even by pseudonym,
and the judge's verdicts are not part of it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field

from annotate.marks import marks_display, marks_text
from annotate.models import Campaign, Team
from evaluation.selectors.leaderboard import (
    ORGANIZER_ONLY_FIELDS,
    ORGANIZER_ONLY_TASK_FIELDS,
    StandingRow,
    campaign_leaderboard,
    standing_rows,
)
from evaluation.selectors.ratings import drilldown


class ResultsUnavailable(Exception):
    """The results asked for are not released (or not to this reader)."""


@dataclass(frozen=True)
class ClipResult:
    task: str
    episode: str
    submitted: bool  # False: the team's rated version has no clip of it; it counts 0
    clip_score: float | None  # mean of its ratings; None while unrated
    scores: list[int]
    comments: list[str]
    # Where the raters saw the generated clip break from its reference: every rater's
    # marks together, by time, unsigned ({"t": seconds on the clip, "label": name}).
    break_points: list[dict[str, object]] = field(default_factory=list)

    @property
    def break_points_shown(self) -> list[str]:
        """The marks as the page reads them: "1.25 s deformation"."""
        return marks_display(self.break_points)


@dataclass(frozen=True)
class TeamResults:
    campaign: str
    team: str
    n_teams: int
    standing: StandingRow | None  # None: the team has no rated submission
    confidence: float
    clips: list[ClipResult]


def results_released(*, campaign: Campaign) -> bool:
    return campaign.state == Campaign.State.PUBLISHED


def published_standings(*, campaign: Campaign) -> tuple[list[StandingRow], float]:
    """The final standings of a published campaign and their interval's confidence."""
    if not results_released(campaign=campaign):
        raise ResultsUnavailable("The results of this campaign are not published.")
    result = campaign_leaderboard(campaign=campaign)
    rows = standing_rows(result)
    return rows, result.parameters.confidence


def team_results(*, campaign: Campaign, team: Team) -> TeamResults:
    """One team's own results: its standing, per-task scores and N-counts, and each rated
    episode's clip score with the raters' comments and break-point marks (unsigned)."""
    rows, confidence = published_standings(campaign=campaign)
    clips = []
    for task in campaign.tasks.order_by("number"):
        for detail in drilldown(campaign=campaign, team=team, task=task):
            clips.append(
                ClipResult(
                    task=task.key,
                    episode=detail.episode,
                    submitted=detail.clip_token is not None,
                    clip_score=detail.clip_score,
                    scores=sorted(rating.score for rating in detail.ratings),
                    comments=sorted(r.comment.strip() for r in detail.ratings if r.comment.strip()),
                    break_points=sorted(
                        (
                            {"t": mark["t"], "label": mark.get("label") or ""}
                            for rating in detail.ratings
                            for mark in rating.marks
                        ),
                        key=lambda mark: (mark["t"], mark["label"]),
                    ),
                )
            )
    return TeamResults(
        campaign=campaign.slug,
        team=team.name,
        n_teams=len(rows),
        standing=next((row for row in rows if row.team == team.name), None),
        confidence=confidence,
        clips=clips,
    )


def team_results_dict(*, results: TeamResults) -> dict:
    data = asdict(results)
    standing = data["standing"]
    if standing is not None:
        # What the organizers' page alone shows: drawing aids, ids, the full distribution.
        for key in ORGANIZER_ONLY_FIELDS:
            standing.pop(key)
        for cell in standing["tasks"]:
            for key in ORGANIZER_ONLY_TASK_FIELDS:
                cell.pop(key)
    return data


CLIP_COLUMNS = (
    "task",
    "episode",
    "submitted",
    "clip_score",
    "n_ratings",
    "scores",
    "comments",
    "break_points",
)


def team_results_csv(*, results: TeamResults) -> bytes:
    """One row per rated episode: the team's download of its own results."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CLIP_COLUMNS)
    for clip in results.clips:
        writer.writerow(
            [
                clip.task,
                clip.episode,
                int(clip.submitted),
                "" if clip.clip_score is None else f"{clip.clip_score:.4f}",
                len(clip.scores),
                ";".join(str(score) for score in clip.scores),
                " | ".join(clip.comments),
                marks_text(clip.break_points),
            ]
        )
    return out.getvalue().encode()
