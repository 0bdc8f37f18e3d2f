"""Assignment planner: which annotator rates which clip.

Pure core: plain data in, plain data out, no Django. Services translate database rows
into `Annotator`, `Cell` and `PlannedAssignment` values, call `plan_assignments`, and
store the returned rows.

Rules (DESIGN.md, "Assignment"):

- A cell is one (team, task). It gets `min(raters_per_cell, eligible annotators)`
  distinct raters; nobody rates a team they belong to.
- Each rater rates `min(max_clips_per_rater, clips in the cell)` clips of the cell, so a
  small cell is rated by every rater in full, and a large one is split with rating counts
  that differ by at most 1 between clips (every clip is rated once the raters' combined
  capacity covers the cell).
- Raters are chosen greedily, least-loaded first, then the one with fewest cells of that
  team (spreads each annotator across teams), then a seeded draw. Least-loaded first
  keeps max - min load <= max_clips_per_rater when nobody belongs to a team (each step
  adds at most one cell's share to annotators at the bottom).
- A rebalancing pass then moves whole rater slots (one rater's clips of one cell) from
  heavier to lighter annotators while that narrows their gap; it never widens max - min.
  At the end no single such move helps: for every new slot of `a` in a cell that `b` may
  rate and does not, `load(a) - load(b) <= ` the slot's size `<= max_clips_per_rater`.
- Inputs are sorted before any random draw, so the plan depends on the seed and on the
  contents of the inputs, never on their order.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from annotate.natural_order import natural_key
from annotate.notice import Notice, code

__all__ = [
    "Annotator",
    "BlockedMove",
    "Cell",
    "GoldClip",
    "GoldHeld",
    "GoldPlan",
    "Move",
    "Plan",
    "PlanError",
    "PlannedAssignment",
    "Reassignment",
    "choose_rated_set",
    "gold_quota",
    "natural_key",
    "pick_extra_rater",
    "plan_assignments",
    "plan_gold",
    "reassign_pending",
]

CellKey = tuple[str, str]

# What the planner reports, as notices (annotate.notice_text says them): a cell short of
# raters or with clips nobody rates, a queue short of gold clips, and why a clip stayed
# with its annotator when their work was moved.
CELL_SHORT_OF_RATERS = code("plan.cell_short_of_raters")  # team, task, raters, wanted
CLIPS_WITHOUT_RATER = code("plan.clips_without_rater")  # team, task, unrated, clips
GOLD_SHORT = code("plan.gold_short")  # annotator, held, quota
MOVE_RECEIVER_IN_TEAM = code("move.receiver_in_team")  # annotator, team
MOVE_RECEIVER_RATES_CLIP = code("move.receiver_rates_clip")  # annotator
MOVE_RECEIVER_CELL_FULL = code("move.receiver_cell_full")  # annotator, cap, team, task


class PlanError(ValueError):
    """Planner input that cannot describe a valid campaign."""


@dataclass(frozen=True)
class Annotator:
    id: str
    teams: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Cell:
    """One team's clips for one task, restricted to the task's rated set."""

    team: str
    task: str
    clips: tuple[str, ...]

    @property
    def key(self) -> CellKey:
        return (self.team, self.task)


@dataclass(frozen=True)
class PlannedAssignment:
    annotator: str
    clip: str
    team: str
    task: str

    @property
    def cell(self) -> CellKey:
        return (self.team, self.task)


@dataclass(frozen=True)
class Plan:
    """The result of `plan_assignments`.

    `assignments` holds only the NEW rows to store; `existing` holds the rows that were
    passed in and are kept unchanged. The helper methods describe the whole plan
    (existing and new together), which is what an organizer looks at.
    """

    assignments: tuple[PlannedAssignment, ...]
    warnings: tuple[Notice, ...] = ()
    existing: tuple[PlannedAssignment, ...] = ()

    @property
    def all_assignments(self) -> tuple[PlannedAssignment, ...]:
        return self.existing + self.assignments

    def by_annotator(self) -> dict[str, tuple[PlannedAssignment, ...]]:
        grouped: dict[str, list[PlannedAssignment]] = defaultdict(list)
        for row in self.all_assignments:
            grouped[row.annotator].append(row)
        return {annotator: tuple(rows) for annotator, rows in sorted(grouped.items())}

    def load(self) -> dict[str, int]:
        """Clips per annotator, over all cells."""
        return dict(sorted(Counter(row.annotator for row in self.all_assignments).items()))

    def cell_raters(self) -> dict[CellKey, frozenset[str]]:
        raters: dict[CellKey, set[str]] = defaultdict(set)
        for row in self.all_assignments:
            raters[row.cell].add(row.annotator)
        return {key: frozenset(names) for key, names in sorted(raters.items())}

    def clip_rating_counts(self) -> dict[str, int]:
        """Planned ratings per clip (clips with none are absent)."""
        return dict(Counter(row.clip for row in self.all_assignments))


def choose_rated_set(*, episodes: Sequence[str], capacity: int, seed: int) -> list[str]:
    """The rated set E(task): every episode when `capacity` covers them, else a seeded sample.

    `capacity` is raters_per_cell * max_clips_per_rater. The result depends only on the
    task's episodes and the seed, so every team of the task is rated on the same episodes.
    Returned in natural order.
    """
    if capacity < 1:
        raise PlanError(f"capacity must be at least 1, got {capacity}")
    duplicates = sorted(name for name, count in Counter(episodes).items() if count > 1)
    if duplicates:
        raise PlanError(f"duplicate episode ids: {', '.join(duplicates[:5])}")
    ordered = sorted(episodes, key=natural_key)
    if len(ordered) <= capacity:
        return ordered
    return sorted(random.Random(seed).sample(ordered, capacity), key=natural_key)


def plan_assignments(
    *,
    annotators: Iterable[Annotator],
    cells: Iterable[Cell],
    raters_per_cell: int = 3,
    max_clips_per_rater: int = 10,
    seed: int = 0,
    existing: Iterable[PlannedAssignment] = (),
    unavailable: Iterable[tuple[str, str]] = (),
) -> Plan:
    """Plan who rates which clip; only rows missing from `existing` are returned as new.

    `existing` rows (already stored) are kept as they are; the new rows never repeat an
    (annotator, clip) pair, never put a rater over `max_clips_per_rater` in a cell counting
    existing rows, and count existing raters towards `raters_per_cell`. `unavailable`
    (annotator, clip) pairs are never planned: the annotator holds that clip otherwise
    (as a gold check, see `plan_gold`), and one row per pair is all there can be.
    """
    _require_positive(raters_per_cell=raters_per_cell, max_clips_per_rater=max_clips_per_rater)
    roster = _index_annotators(annotators)
    ordered_cells = _index_cells(cells)
    kept = _check_existing(existing, ordered_cells)
    state = _PlanState.from_rows(kept)
    state.blocked = frozenset(unavailable)
    rng = random.Random(seed)

    new_rows: list[PlannedAssignment] = []
    warnings: list[Notice] = []
    for cell in _processing_order(ordered_cells, roster, max_clips_per_rater, rng):
        rows, cell_warnings = _staff_cell(
            cell=cell,
            roster=roster,
            state=state,
            raters_per_cell=raters_per_cell,
            max_clips_per_rater=max_clips_per_rater,
            rng=rng,
        )
        new_rows.extend(rows)
        warnings.extend(cell_warnings)
    new_rows = _rebalance(new_rows=new_rows, kept=kept, roster=roster, state=state)

    return Plan(
        assignments=tuple(sorted(new_rows, key=_row_key)),
        warnings=tuple(sorted(warnings, key=_cell_notice_key)),
        existing=kept,
    )


@dataclass(frozen=True)
class Move:
    clip: str
    team: str
    task: str
    from_annotator: str
    to_annotator: str


@dataclass(frozen=True)
class BlockedMove:
    clip: str
    reason: Notice


@dataclass(frozen=True)
class Reassignment:
    moves: tuple[Move, ...]
    blocked: tuple[BlockedMove, ...]


def reassign_pending(
    *,
    assignments: Iterable[PlannedAssignment],
    pending_clips: Iterable[str],
    from_annotator: str,
    to_annotator: Annotator,
    max_clips_per_rater: int = 10,
) -> Reassignment:
    """Move `from_annotator`'s pending clips to `to_annotator` where the rules allow.

    A clip stays put (and is listed in `blocked` with the reason) when the receiver is on
    the clip's team, already rates the clip, or would exceed `max_clips_per_rater` in the
    cell. A move can give a cell one more distinct rater than planned; that is accepted,
    since the alternative is leaving the work undone.
    """
    _require_positive(raters_per_cell=1, max_clips_per_rater=max_clips_per_rater)
    if from_annotator == to_annotator.id:
        raise PlanError(f"cannot reassign from {from_annotator!r} to the same annotator")
    rows = list(assignments)
    held = {row.clip: row for row in rows if row.annotator == from_annotator}
    already_rated = {row.clip for row in rows if row.annotator == to_annotator.id}
    receiver_cell_load = Counter(row.cell for row in rows if row.annotator == to_annotator.id)

    moves: list[Move] = []
    blocked: list[BlockedMove] = []
    for clip in sorted(set(pending_clips), key=natural_key):
        row = held.get(clip)
        if row is None:
            raise PlanError(f"clip {clip!r} is not assigned to {from_annotator!r}")
        receiver = to_annotator.id
        if row.team in to_annotator.teams:
            reason = Notice(MOVE_RECEIVER_IN_TEAM, {"annotator": receiver, "team": row.team})
            blocked.append(BlockedMove(clip, reason))
        elif clip in already_rated:
            blocked.append(
                BlockedMove(clip, Notice(MOVE_RECEIVER_RATES_CLIP, {"annotator": receiver}))
            )
        elif receiver_cell_load[row.cell] >= max_clips_per_rater:
            reason = Notice(
                MOVE_RECEIVER_CELL_FULL,
                {
                    "annotator": receiver,
                    "cap": max_clips_per_rater,
                    "team": row.team,
                    "task": row.task,
                },
            )
            blocked.append(BlockedMove(clip, reason))
        else:
            receiver_cell_load[row.cell] += 1
            moves.append(Move(clip, row.team, row.task, from_annotator, to_annotator.id))
    return Reassignment(moves=tuple(moves), blocked=tuple(blocked))


def pick_extra_rater(
    *,
    annotators: Iterable[Annotator],
    team: str,
    clip: str,
    ineligible: Iterable[str] = (),
    load: dict[str, int] | None = None,
    seed: int = 0,
) -> str | None:
    """One more rater for a clip under adjudication, or None when nobody is eligible.

    Never a member of the clip's `team`, never one of `ineligible` (who already rated or
    holds the clip, or whose ratings are excluded). The least loaded (`load`: open work)
    first, so the extra rating comes soon; ties broken by a draw seeded with `seed` and
    the clip, so the choice is reproducible and differs between clips.
    """
    load = load or {}
    skip = set(ineligible)
    candidates = sorted(
        annotator.id
        for annotator in _index_annotators(annotators).values()
        if team not in annotator.teams and annotator.id not in skip
    )
    if not candidates:
        return None
    rng = random.Random(f"extra-rater:{seed}:{clip}")
    draw = {name: rng.random() for name in candidates}
    return min(candidates, key=lambda name: (load.get(name, 0), draw[name]))


@dataclass(frozen=True)
class GoldClip:
    """A clip with a known score that may go blind into annotators' queues."""

    clip: str
    team: str
    task: str


@dataclass(frozen=True)
class GoldHeld:
    """A gold row already stored; `removable` while its annotator has not opened it."""

    annotator: str
    clip: str
    removable: bool


@dataclass(frozen=True)
class GoldPlan:
    add: tuple[PlannedAssignment, ...]
    remove: tuple[GoldHeld, ...]
    warnings: tuple[Notice, ...] = ()


def gold_quota(*, work: int, gold_every: int) -> int:
    """Gold clips in a queue holding `work` clips of real work: one per `gold_every` (0: none)."""
    return work // gold_every if gold_every > 0 else 0


def plan_gold(
    *,
    annotators: Iterable[Annotator],
    work: Iterable[PlannedAssignment],
    held: Iterable[GoldHeld],
    gold_clips: Iterable[GoldClip],
    gold_every: int,
    seed: int = 0,
) -> GoldPlan:
    """Which gold clips go into which queue, and which unopened ones come out again.

    Each annotator holds `gold_quota(work, gold_every)` gold clips, `work` being their rows
    of real work, among `gold_clips`: never a clip of a team they belong to, never one they
    hold already (as work or as gold). Gold rows count neither towards the per-cell cap
    (`max_clips_per_rater`, "at most 10 clips of a team and task") nor towards a cell's
    raters, since they score no team; they do add to the annotator's load.

    Preferred: a clip of a task the annotator already rates (a lone clip of another task
    would stand out in the queue), then the gold clip held by the fewest annotators (the
    checks spread over the gold set), then a seeded draw. A held row counts while its clip
    is in `gold_clips` and not of the annotator's team; other held rows, and those over the
    quota, are removed where `removable`; an opened one stays (its rating still measures
    the annotator) without counting.
    """
    if gold_every < 0:
        raise PlanError(f"gold_every must be 0 or more, got {gold_every}")
    roster = _index_annotators(annotators)
    pool: dict[str, GoldClip] = {}
    for gold in gold_clips:
        if gold.clip in pool:
            raise PlanError(f"duplicate gold clip {gold.clip!r}")
        pool[gold.clip] = gold
    work_clips: dict[str, set[str]] = defaultdict(set)
    work_tasks: dict[str, set[str]] = defaultdict(set)
    for row in work:
        if row.annotator not in roster:
            raise PlanError(f"work of {row.annotator!r}, who is not among the annotators")
        work_clips[row.annotator].add(row.clip)
        work_tasks[row.annotator].add(row.task)
    held_by: dict[str, list[GoldHeld]] = defaultdict(list)
    for row in held:
        if row.annotator not in roster:
            raise PlanError(f"gold held by {row.annotator!r}, who is not among the annotators")
        held_by[row.annotator].append(row)

    def counts(row: GoldHeld) -> bool:
        return row.clip in pool and pool[row.clip].team not in roster[row.annotator].teams

    usage = Counter(row.clip for rows in held_by.values() for row in rows if counts(row))
    rng = random.Random(seed)
    add: list[PlannedAssignment] = []
    remove: list[GoldHeld] = []
    warnings: list[Notice] = []
    for name, annotator in roster.items():
        quota = gold_quota(work=len(work_clips[name]), gold_every=gold_every)
        mine = sorted(held_by[name], key=lambda row: natural_key(row.clip))
        counted = [row for row in mine if counts(row)]
        remove.extend(row for row in mine if not counts(row) and row.removable)
        surplus = len(counted) - quota
        if surplus > 0:
            spare = [row for row in counted if row.removable]
            draw = {row.clip: rng.random() for row in spare}
            for row in sorted(spare, key=lambda row: draw[row.clip])[:surplus]:
                remove.append(row)
                usage[row.clip] -= 1
            continue
        missing = quota - len(counted)
        if missing == 0:
            continue
        taken = work_clips[name] | {row.clip for row in mine}
        candidates = [
            clip
            for clip in sorted(pool, key=natural_key)
            if pool[clip].team not in annotator.teams and clip not in taken
        ]
        draw = {clip: rng.random() for clip in candidates}
        candidates.sort(
            key=lambda clip: (pool[clip].task not in work_tasks[name], usage[clip], draw[clip])
        )
        for clip in candidates[:missing]:
            gold = pool[clip]
            add.append(PlannedAssignment(annotator=name, clip=clip, team=gold.team, task=gold.task))
            usage[clip] += 1
        if len(candidates) < missing:
            held_now = len(counted) + len(candidates)
            warnings.append(
                Notice(GOLD_SHORT, {"annotator": name, "held": held_now, "quota": quota})
            )
    return GoldPlan(
        add=tuple(sorted(add, key=_row_key)),
        remove=tuple(remove),
        warnings=tuple(warnings),
    )


# --- internals -------------------------------------------------------------------------


def _row_key(row: PlannedAssignment) -> tuple[object, ...]:
    return (row.team, row.task, row.annotator, natural_key(row.clip))


def _cell_notice_key(notice: Notice) -> tuple[object, ...]:
    return (notice.params.get("team", ""), notice.params.get("task", ""), notice.code)


def _require_positive(*, raters_per_cell: int, max_clips_per_rater: int) -> None:
    if raters_per_cell < 1:
        raise PlanError(f"raters_per_cell must be at least 1, got {raters_per_cell}")
    if max_clips_per_rater < 1:
        raise PlanError(f"max_clips_per_rater must be at least 1, got {max_clips_per_rater}")


def _index_annotators(annotators: Iterable[Annotator]) -> dict[str, Annotator]:
    roster: dict[str, Annotator] = {}
    for annotator in annotators:
        if not annotator.id:
            raise PlanError("annotator id must not be empty")
        if annotator.id in roster:
            raise PlanError(f"duplicate annotator id {annotator.id!r}")
        roster[annotator.id] = annotator
    return dict(sorted(roster.items()))


def _index_cells(cells: Iterable[Cell]) -> list[Cell]:
    by_key: dict[CellKey, Cell] = {}
    home_of_clip: dict[str, CellKey] = {}
    for cell in cells:
        if cell.key in by_key:
            raise PlanError(f"duplicate cell: team {cell.team!r}, task {cell.task!r}")
        for clip in cell.clips:
            if clip in home_of_clip:
                other = home_of_clip[clip]
                if other == cell.key:
                    raise PlanError(
                        f"duplicate clip id {clip!r} in team {cell.team!r}, task {cell.task!r}"
                    )
                raise PlanError(
                    f"clip {clip!r} appears in two cells: team {other[0]!r}, task {other[1]!r} "
                    f"and team {cell.team!r}, task {cell.task!r}"
                )
            home_of_clip[clip] = cell.key
        by_key[cell.key] = Cell(cell.team, cell.task, tuple(sorted(cell.clips, key=natural_key)))
    return [by_key[key] for key in sorted(by_key)]


def _check_existing(
    existing: Iterable[PlannedAssignment], cells: list[Cell]
) -> tuple[PlannedAssignment, ...]:
    home_of_clip = {clip: cell.key for cell in cells for clip in cell.clips}
    seen: set[tuple[str, str]] = set()
    rows = []
    for row in existing:
        pair = (row.annotator, row.clip)
        if pair in seen:
            raise PlanError(
                f"existing assignments repeat annotator {row.annotator!r}, clip {row.clip!r}"
            )
        seen.add(pair)
        home = home_of_clip.get(row.clip)
        # A stored row for a clip no longer in any cell still counts towards load; one that
        # contradicts its cell means the caller mixed up campaigns.
        if home is not None and home != row.cell:
            raise PlanError(
                f"existing assignment of clip {row.clip!r} says team {row.team!r}, task {row.task!r}, "
                f"but the clip belongs to team {home[0]!r}, task {home[1]!r}"
            )
        rows.append(row)
    return tuple(sorted(rows, key=_row_key))


@dataclass
class _PlanState:
    load: Counter[str]
    team_cells: Counter[tuple[str, str]]
    cell_clips: dict[CellKey, dict[str, set[str]]]
    coverage: Counter[str]
    blocked: frozenset[tuple[str, str]] = frozenset()  # (annotator, clip) never planned

    @classmethod
    def from_rows(cls, rows: Iterable[PlannedAssignment]) -> _PlanState:
        state = cls(Counter(), Counter(), defaultdict(dict), Counter())
        for row in rows:
            state.add(row)
        return state

    def add(self, row: PlannedAssignment) -> None:
        raters = self.cell_clips[row.cell]
        if row.annotator not in raters:
            raters[row.annotator] = set()
            self.team_cells[(row.annotator, row.team)] += 1
        raters[row.annotator].add(row.clip)
        self.load[row.annotator] += 1
        self.coverage[row.clip] += 1


def _processing_order(
    cells: list[Cell], roster: dict[str, Annotator], max_clips_per_rater: int, rng: random.Random
) -> list[Cell]:
    # Cells with the fewest eligible annotators go first, so that those annotators who are
    # excluded (own team) catch up on later cells; heavier cells go before lighter ones, as
    # in longest-processing-time scheduling. The shuffle breaks the remaining ties.
    shuffled = list(cells)
    rng.shuffle(shuffled)

    def eligible_count(cell: Cell) -> int:
        return sum(cell.team not in annotator.teams for annotator in roster.values())

    return sorted(
        shuffled,
        key=lambda cell: (eligible_count(cell), -min(len(cell.clips), max_clips_per_rater)),
    )


def _rebalance(
    *,
    new_rows: list[PlannedAssignment],
    kept: tuple[PlannedAssignment, ...],
    roster: dict[str, Annotator],
    state: _PlanState,
) -> list[PlannedAssignment]:
    """Hand whole new rater slots from heavier to lighter annotators while that narrows the gap.

    Greedy selection cannot foresee that an annotator will be excluded from the last cells
    (their own team), which leaves them behind. Moving one rater's clips of a cell from `a`
    to `b` keeps every per-cell property (same clips, same count of raters) and is done
    only when load(a) - load(b) > the clips moved, so both new loads fall strictly between
    the old ones: the overall max - min never grows, and the sum of squared loads falls,
    so the loop ends. Rows of raters who already had stored rows in the cell are not moved.
    """
    fixed = {(row.cell, row.annotator) for row in kept}
    slots: dict[str, dict[CellKey, list[str]]] = defaultdict(dict)
    pinned: list[PlannedAssignment] = []
    for row in new_rows:
        if (row.cell, row.annotator) in fixed:
            pinned.append(row)
        else:
            slots[row.annotator].setdefault(row.cell, []).append(row.clip)

    while (move := _find_narrowing_move(slots=slots, roster=roster, state=state)) is not None:
        cell, giver, taker = move
        clips = slots[giver].pop(cell)
        slots[taker][cell] = clips
        raters = state.cell_clips[cell]
        raters[taker] = raters.pop(giver)
        state.load[giver] -= len(clips)
        state.load[taker] += len(clips)
        state.team_cells[(giver, cell[0])] -= 1
        state.team_cells[(taker, cell[0])] += 1

    moved = [
        PlannedAssignment(annotator=name, clip=clip, team=cell[0], task=cell[1])
        for name, cells in slots.items()
        for cell, clips in cells.items()
        for clip in clips
    ]
    return pinned + moved


def _find_narrowing_move(
    *, slots: dict[str, dict[CellKey, list[str]]], roster: dict[str, Annotator], state: _PlanState
) -> tuple[CellKey, str, str] | None:
    by_load = sorted(roster, key=lambda name: (state.load[name], name))
    for giver in reversed(by_load):
        for taker in by_load:
            gap = state.load[giver] - state.load[taker]
            if gap <= 1:  # a move shifts at least one clip, so it needs a gap of two or more
                break
            for cell in sorted(slots[giver]):
                if (
                    gap > len(slots[giver][cell])
                    and cell[0] not in roster[taker].teams
                    and taker not in state.cell_clips[cell]
                    and not any((taker, clip) in state.blocked for clip in slots[giver][cell])
                ):
                    return cell, giver, taker
    return None


def _staff_cell(
    *,
    cell: Cell,
    roster: dict[str, Annotator],
    state: _PlanState,
    raters_per_cell: int,
    max_clips_per_rater: int,
    rng: random.Random,
) -> tuple[list[PlannedAssignment], list[Notice]]:
    if not cell.clips:
        return [], []
    clips_per_rater = min(max_clips_per_rater, len(cell.clips))
    current = state.cell_clips[cell.key]

    candidates = [
        annotator.id
        for annotator in roster.values()
        if annotator.id not in current and cell.team not in annotator.teams
    ]
    draw = {name: rng.random() for name in candidates}
    candidates.sort(
        key=lambda name: (state.load[name], state.team_cells[(name, cell.team)], draw[name])
    )
    newcomers = candidates[: max(0, raters_per_cell - len(current))]

    # Existing raters are topped up (the cell may have gained clips), unless they have since
    # joined the team or left the roster.
    returning = [
        name for name in sorted(current) if name in roster and cell.team not in roster[name].teams
    ]
    position = {clip: index for index, clip in enumerate(rng.sample(cell.clips, len(cell.clips)))}

    rows: list[PlannedAssignment] = []
    for name in [*returning, *newcomers]:
        have = current.get(name, set())
        wanted = clips_per_rater - len(have)
        if wanted <= 0:
            continue
        # Least-rated clips first, ties in a seeded order: starting from an empty cell this
        # hands each rater the next window of a shuffled cycle, so counts differ by <= 1.
        open_clips = sorted(
            (clip for clip in cell.clips if clip not in have and (name, clip) not in state.blocked),
            key=lambda clip: (state.coverage[clip], position[clip]),
        )
        for clip in open_clips[:wanted]:
            row = PlannedAssignment(annotator=name, clip=clip, team=cell.team, task=cell.task)
            state.add(row)
            rows.append(row)

    warnings = []
    where = {"team": cell.team, "task": cell.task}
    rater_count = len(state.cell_clips[cell.key])
    if rater_count < raters_per_cell:
        warnings.append(
            Notice(
                CELL_SHORT_OF_RATERS, {**where, "raters": rater_count, "wanted": raters_per_cell}
            )
        )
    unrated = sum(state.coverage[clip] == 0 for clip in cell.clips)
    if unrated:
        warnings.append(
            Notice(CLIPS_WITHOUT_RATER, {**where, "unrated": unrated, "clips": len(cell.clips)})
        )
    return rows, warnings
