"""The synthetic demo's true labels, read from the truth.json written beside its footage.

The production schema holds what an organizer imports and what people rate; which rubric
category a synthetic clip was rendered in, and whether its reference episode succeeds, is
the demo's own knowledge. It stays in the footage folder (`render_demo` writes it there),
which the demo refuses to place where files are served (see demo.campaign), and media
URLs only ever send an asset's prepared copy, so no URL reaches it. Tests, benches and the simulated
raters read it through `load`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from annotate.models import Campaign, Clip, Episode, ImportJob

TRUTH_FILE = "truth.json"


class DemoTruthMissing(Exception):
    """No truth file for this folder or campaign, or one that belongs to other footage."""


@dataclass(frozen=True)
class DemoTruth:
    """Per clip its category, per reference episode its success; keys are "task<K>/episode_<N>"."""

    folder: Path
    seed: int
    categories: dict[tuple[str, str], int]  # (team, episode key) -> rubric category 0-3
    reference_success: dict[str, bool]  # episode key -> the reference episode succeeds
    raw: dict = field(repr=False, compare=False)

    @property
    def teams(self) -> tuple[str, ...]:
        return tuple(self.raw["teams"])

    def rows(self) -> list[dict]:
        """One row per rendered, readable clip: {task, team, episode, category}."""
        return [
            {"task": key.split("/")[0], "team": team, "episode": key.split("/")[1], "category": c}
            for (team, key), c in sorted(self.categories.items())
        ]

    def category_of(self, *, team: str, task: str, episode: str) -> int | None:
        """The rendered category, or None for a clip the demo did not render as readable."""
        return self.categories.get((team, f"{task}/{episode}"))

    def category(self, clip: Clip) -> int | None:
        """The category of a clip imported from this footage (select_related its episode's
        task and its submission's team to read many)."""
        return self.category_of(
            team=clip.submission.team.name, task=clip.episode.task.key, episode=clip.episode.key
        )

    def success(self, episode: Episode) -> bool | None:
        """Whether an imported reference episode shows a success (None: not from this footage)."""
        return self.reference_success.get(f"{episode.task.key}/{episode.key}")


def _from_folder(folder: Path) -> DemoTruth:
    folder = Path(folder)
    if folder.name == TRUTH_FILE:
        folder = folder.parent
    path = folder / TRUTH_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DemoTruthMissing(
            f"no {TRUTH_FILE} in {folder}: render the demo there first"
        ) from None
    except json.JSONDecodeError as exc:
        raise DemoTruthMissing(f"{path} is not JSON: {exc}") from None
    return DemoTruth(
        folder=folder,
        seed=int(raw["seed"]),
        categories={
            (team, key): int(clip["category"])
            for team, entry in raw["teams"].items()
            for key, clip in entry["clips"].items()
        },
        reference_success={key: bool(ref["success"]) for key, ref in raw["reference"].items()},
        raw=raw,
    )


def footage_folder(campaign: Campaign) -> Path:
    """Where a demo campaign's footage was imported from: its newest demo reference import."""
    job = (
        ImportJob.objects.filter(
            campaign=campaign,
            kind=ImportJob.Kind.REFERENCE,
            status=ImportJob.Status.DONE,
            report__origin=ImportJob.Origin.DEMO,
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    if job is None:
        raise DemoTruthMissing(f"campaign {campaign.slug!r} was not imported by the demo")
    return Path(job.source).parent


def load(source: Path | Campaign | str) -> DemoTruth:
    """The truth of a rendered footage folder (a Path), or of a demo campaign (or its slug).

    For a campaign the folder is the one its reference episodes were imported from; a
    folder rendered again since with another seed or other episodes is refused, as its
    labels would not be this campaign's.
    """
    if isinstance(source, Path):
        return _from_folder(source)
    if isinstance(source, str):
        campaign = Campaign.objects.filter(slug=source).first()
        if campaign is None:
            raise DemoTruthMissing(f"no campaign {source!r}")
    else:
        campaign = source
    folder = footage_folder(campaign)
    truth = _from_folder(folder)
    episodes = {
        f"{task}/{key}"
        for task, key in Episode.objects.filter(task__campaign=campaign).values_list(
            "task__key", "key"
        )
    }
    if truth.seed != campaign.seed or not episodes <= truth.reference_success.keys():
        raise DemoTruthMissing(
            f"{folder / TRUTH_FILE} was rendered again since campaign {campaign.slug!r} "
            "was imported; its labels are not this campaign's"
        )
    return truth
