"""Property and example tests for the assignment planner (pure: no database)."""

from __future__ import annotations

import random
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotate.notice import Notice
from annotate.planner import (
    MOVE_RECEIVER_CELL_FULL,
    MOVE_RECEIVER_IN_TEAM,
    MOVE_RECEIVER_RATES_CLIP,
    Annotator,
    Cell,
    Plan,
    PlanError,
    PlannedAssignment,
    choose_rated_set,
    natural_key,
    plan_assignments,
    reassign_pending,
)

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- strategies ------------------------------------------------------------------------


@st.composite
def planning_cases(draw: st.DrawFn, *, with_team_members: bool = True) -> dict:
    teams = [f"team{i}" for i in range(draw(st.integers(1, 4)))]
    tasks = [f"task{k}" for k in range(1, draw(st.integers(1, 3)) + 1)]
    annotators = [
        Annotator(
            f"ann{i}",
            frozenset(
                draw(
                    st.lists(
                        st.sampled_from(teams), max_size=1 if with_team_members and i % 2 else 0
                    )
                )
            ),
        )
        for i in range(draw(st.integers(0, 8)))
    ]
    cells = [
        Cell(
            team, task, tuple(f"{team}/{task}/episode_{e}" for e in range(draw(st.integers(0, 25))))
        )
        for team in teams
        for task in tasks
    ]
    return {
        "annotators": annotators,
        "cells": cells,
        "raters_per_cell": draw(st.integers(1, 4)),
        "max_clips_per_rater": draw(st.integers(1, 10)),
        "seed": draw(st.integers(0, 2**32)),
    }


def eligible(case: dict, cell: Cell) -> list[Annotator]:
    return [a for a in case["annotators"] if cell.team not in a.teams]


def rows_by_cell(plan: Plan) -> dict[tuple[str, str], dict[str, set[str]]]:
    grouped: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for row in plan.all_assignments:
        grouped[row.cell][row.annotator].add(row.clip)
    return grouped


# --- properties of a fresh plan --------------------------------------------------------


@FAST
@given(planning_cases())
def test_each_cell_gets_min_of_r_and_eligible_distinct_raters(case: dict) -> None:
    plan = plan_assignments(**case)
    raters = plan.cell_raters()
    for cell in case["cells"]:
        expected = min(case["raters_per_cell"], len(eligible(case, cell))) if cell.clips else 0
        assert len(raters.get(cell.key, frozenset())) == expected


@FAST
@given(planning_cases())
def test_each_rater_takes_min_of_cap_and_cell_size_and_no_pair_repeats(case: dict) -> None:
    plan = plan_assignments(**case)
    pairs = [(row.annotator, row.clip) for row in plan.assignments]
    assert len(pairs) == len(set(pairs))
    sizes = {cell.key: len(cell.clips) for cell in case["cells"]}
    for key, raters in rows_by_cell(plan).items():
        for clips in raters.values():
            assert len(clips) == min(case["max_clips_per_rater"], sizes[key])


@FAST
@given(planning_cases())
def test_nobody_rates_their_own_team(case: dict) -> None:
    plan = plan_assignments(**case)
    teams_of = {a.id: a.teams for a in case["annotators"]}
    assert all(row.team not in teams_of[row.annotator] for row in plan.assignments)


@FAST
@given(planning_cases())
def test_coverage_is_even_within_a_cell_and_complete_when_capacity_allows(case: dict) -> None:
    plan = plan_assignments(**case)
    counts = plan.clip_rating_counts()
    cap = case["max_clips_per_rater"]
    for cell in case["cells"]:
        if not cell.clips:
            continue
        per_clip = [counts.get(clip, 0) for clip in cell.clips]
        assert max(per_clip) - min(per_clip) <= 1
        raters = min(case["raters_per_cell"], len(eligible(case, cell)))
        if raters * cap >= len(cell.clips):
            assert min(per_clip) >= 1
        if len(cell.clips) <= cap:
            # A small cell is rated in full by every rater.
            assert set(per_clip) == {raters}


@FAST
@given(planning_cases())
def test_short_cells_and_unrated_clips_are_reported(case: dict) -> None:
    plan = plan_assignments(**case)
    raters = plan.cell_raters()
    counts = plan.clip_rating_counts()
    for cell in case["cells"]:
        short = cell.clips and len(raters.get(cell.key, ())) < case["raters_per_cell"]
        unrated = any(counts.get(clip, 0) == 0 for clip in cell.clips)
        mentioned = any((w.params["team"], w.params["task"]) == cell.key for w in plan.warnings)
        assert mentioned == bool(short or unrated)


@FAST
@given(planning_cases())
def test_no_single_slot_move_would_narrow_a_load_gap(case: dict) -> None:
    # The planner's stated local optimum: for every rater slot (one annotator's clips of one
    # cell) and every other annotator who may rate that cell and does not, handing the slot
    # over would not narrow their load gap.
    plan = plan_assignments(**case)
    load = Counter(plan.load())
    for (team, _task), raters in rows_by_cell(plan).items():
        for giver, clips in raters.items():
            for taker in case["annotators"]:
                if team in taker.teams or taker.id in raters:
                    continue
                assert load[giver] - load[taker.id] <= len(clips)


@FAST
@given(planning_cases(with_team_members=False))
def test_without_team_members_max_minus_min_load_is_at_most_the_cap(case: dict) -> None:
    plan = plan_assignments(**case)
    loads = [plan.load().get(a.id, 0) for a in case["annotators"]]
    if loads:
        assert max(loads) - min(loads) <= case["max_clips_per_rater"]


@FAST
@given(planning_cases(), st.randoms(use_true_random=False))
def test_plan_depends_on_seed_and_contents_not_input_order(
    case: dict, shuffler: random.Random
) -> None:
    plan = plan_assignments(**case)
    assert plan_assignments(**case) == plan
    annotators = list(case["annotators"])
    shuffler.shuffle(annotators)
    cells = [
        Cell(c.team, c.task, tuple(shuffler.sample(c.clips, len(c.clips)))) for c in case["cells"]
    ]
    shuffler.shuffle(cells)
    assert plan_assignments(**{**case, "annotators": annotators, "cells": cells}) == plan


# --- properties with existing assignments ----------------------------------------------


@FAST
@given(planning_cases(), st.data())
def test_existing_rows_are_kept_and_new_rows_fill_only_the_gaps(
    case: dict, data: st.DataObject
) -> None:
    # First plan on a smaller case (fewer annotators, fewer clips), then grow it.
    first_annotators = case["annotators"][: data.draw(st.integers(0, len(case["annotators"])))]
    first_cells = [
        Cell(c.team, c.task, c.clips[: data.draw(st.integers(0, len(c.clips)))])
        for c in case["cells"]
    ]
    first = plan_assignments(**{**case, "annotators": first_annotators, "cells": first_cells})
    stored = data.draw(
        st.lists(st.sampled_from(first.assignments), unique=True)
        if first.assignments
        else st.just([])
    )

    plan = plan_assignments(**case, existing=stored)

    assert set(plan.existing) == set(stored)
    new_pairs = {(r.annotator, r.clip) for r in plan.assignments}
    assert len(new_pairs) == len(plan.assignments)
    assert not new_pairs & {(r.annotator, r.clip) for r in stored}
    teams_of = {a.id: a.teams for a in case["annotators"]}
    assert all(row.team not in teams_of[row.annotator] for row in plan.assignments)
    cap = case["max_clips_per_rater"]
    for cell in case["cells"]:
        raters = rows_by_cell(plan).get(cell.key, {})
        assert all(len(clips) <= cap for clips in raters.values())
        if cell.clips:
            wanted = min(case["raters_per_cell"], len(eligible(case, cell)))
            assert len(raters) == wanted


def test_replanning_with_the_whole_plan_as_existing_adds_nothing() -> None:
    annotators = [Annotator(f"a{i}") for i in range(5)]
    cells = [Cell("t", f"task{k}", tuple(f"t/{k}/e{i}" for i in range(14))) for k in range(3)]
    plan = plan_assignments(annotators=annotators, cells=cells, seed=3)
    again = plan_assignments(annotators=annotators, cells=cells, seed=3, existing=plan.assignments)
    assert again.assignments == ()
    assert again.load() == plan.load()


def test_a_late_annotator_is_added_only_where_a_cell_is_short() -> None:
    cells = [Cell("t", "task1", tuple(f"e{i}" for i in range(6)))]
    first = plan_assignments(annotators=[Annotator("a"), Annotator("b")], cells=cells)
    assert len(first.warnings) == 1
    late = plan_assignments(
        annotators=[Annotator("a"), Annotator("b"), Annotator("c")],
        cells=cells,
        existing=first.assignments,
    )
    assert {row.annotator for row in late.assignments} == {"c"}
    assert len(late.assignments) == 6
    assert late.warnings == ()


# --- the challenge's shapes ------------------------------------------------------------


def challenge_cells(clips_per_cell: int) -> list[Cell]:
    return [
        Cell(
            f"team{t}",
            f"task{k}",
            tuple(f"team{t}/task{k}/episode_{e}" for e in range(clips_per_cell)),
        )
        for t in range(4)
        for k in range(1, 9)
    ]


def test_challenge_six_clips_per_cell_each_clip_rated_three_times() -> None:
    plan = plan_assignments(
        annotators=[Annotator(f"a{i}") for i in range(6)], cells=challenge_cells(6)
    )
    assert set(plan.clip_rating_counts().values()) == {3}
    assert len(plan.clip_rating_counts()) == 4 * 8 * 6
    assert set(plan.load().values()) == {96}  # 32 cells x 3 raters x 6 clips / 6 annotators
    assert all(len(r) == 3 for r in plan.cell_raters().values())
    assert plan.warnings == ()


def test_challenge_thirty_clips_per_cell_each_clip_rated_once_by_three_raters_of_ten() -> None:
    plan = plan_assignments(
        annotators=[Annotator(f"a{i}") for i in range(6)], cells=challenge_cells(30)
    )
    assert set(plan.clip_rating_counts().values()) == {1}
    assert len(plan.clip_rating_counts()) == 4 * 8 * 30
    per_rater_cell = Counter((row.annotator, row.cell) for row in plan.assignments)
    assert set(per_rater_cell.values()) == {10}
    assert all(len(r) == 3 for r in plan.cell_raters().values())


def test_challenge_load_is_spread_across_teams() -> None:
    plan = plan_assignments(
        annotators=[Annotator(f"a{i}") for i in range(6)], cells=challenge_cells(6), seed=7
    )
    cells_per_annotator_team = Counter(
        (a, team) for (team, _task), raters in plan.cell_raters().items() for a in raters
    )
    # 16 cells per annotator over 4 teams: 4 each at best; nobody is stuck with one team.
    assert len(cells_per_annotator_team) == 6 * 4
    assert max(cells_per_annotator_team.values()) <= 6


def test_team_members_never_rate_their_team_and_the_rest_absorb_it() -> None:
    annotators = [Annotator(f"m{t}", frozenset({f"team{t}"})) for t in range(4)] + [
        Annotator("x"),
        Annotator("y"),
    ]
    plan = plan_assignments(annotators=annotators, cells=challenge_cells(6))
    assert all(row.annotator != f"m{row.team[-1]}" for row in plan.assignments)
    assert set(plan.clip_rating_counts().values()) == {3}
    loads = plan.load()
    assert max(loads.values()) - min(loads.values()) <= 6


# --- rated set -------------------------------------------------------------------------


def test_rated_set_samples_capacity_episodes_in_natural_order() -> None:
    episodes = [f"episode_{n}" for n in range(31)]
    random.Random(0).shuffle(episodes)
    chosen = choose_rated_set(episodes=episodes, capacity=30, seed=5)
    assert len(chosen) == 30 == len(set(chosen))
    assert set(chosen) <= set(episodes)
    assert chosen == sorted(chosen, key=natural_key)
    assert choose_rated_set(episodes=sorted(episodes), capacity=30, seed=5) == chosen
    dropped = {choose_rated_set(episodes=episodes, capacity=30, seed=s)[0] for s in range(40)}
    assert len(dropped) == 2  # episode_0 is dropped under some seeds and kept under others


def test_rated_set_keeps_everything_when_capacity_covers_it() -> None:
    episodes = ["episode_10", "episode_2", "episode_1"]
    assert choose_rated_set(episodes=episodes, capacity=30, seed=0) == [
        "episode_1",
        "episode_2",
        "episode_10",
    ]


@FAST
@given(
    st.lists(st.integers(0, 500), unique=True, max_size=60),
    st.integers(1, 40),
    st.integers(0, 10**6),
)
def test_rated_set_properties(numbers: list[int], capacity: int, seed: int) -> None:
    episodes = [f"task1/episode_{n}" for n in numbers]
    chosen = choose_rated_set(episodes=episodes, capacity=capacity, seed=seed)
    assert len(chosen) == min(capacity, len(episodes))
    assert set(chosen) <= set(episodes)
    assert [int(e.rsplit("_", 1)[1]) for e in chosen] == sorted(
        int(e.rsplit("_", 1)[1]) for e in chosen
    )


def test_rated_set_rejects_bad_input() -> None:
    with pytest.raises(PlanError, match="capacity"):
        choose_rated_set(episodes=["e1"], capacity=0, seed=0)
    with pytest.raises(PlanError, match="duplicate episode ids: e1"):
        choose_rated_set(episodes=["e1", "e1"], capacity=3, seed=0)


# --- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"raters_per_cell": 0}, "raters_per_cell must be at least 1"),
        ({"max_clips_per_rater": 0}, "max_clips_per_rater must be at least 1"),
        ({"annotators": [Annotator("a"), Annotator("a")]}, "duplicate annotator id 'a'"),
        ({"cells": [Cell("t", "k", ("c1", "c1"))]}, "duplicate clip id 'c1'"),
        (
            {"cells": [Cell("t", "k", ("c1",)), Cell("u", "k", ("c1",))]},
            "clip 'c1' appears in two cells",
        ),
        ({"cells": [Cell("t", "k", ("c1",)), Cell("t", "k", ("c2",))]}, "duplicate cell"),
        (
            {
                "existing": [
                    PlannedAssignment("a", "c1", "t", "k"),
                    PlannedAssignment("a", "c1", "t", "k"),
                ]
            },
            "repeat annotator 'a', clip 'c1'",
        ),
        ({"existing": [PlannedAssignment("a", "c1", "u", "k")]}, "belongs to team 't', task 'k'"),
    ],
)
def test_bad_input_raises_plan_error_naming_the_problem(kwargs: dict, message: str) -> None:
    arguments = {"annotators": [Annotator("a")], "cells": [Cell("t", "k", ("c1",))], **kwargs}
    with pytest.raises(PlanError, match=message):
        plan_assignments(**arguments)


def test_plan_error_is_a_value_error() -> None:
    assert issubclass(PlanError, ValueError)


# --- reassignment ----------------------------------------------------------------------


def test_reassign_moves_only_what_the_rules_allow() -> None:
    rows = [PlannedAssignment("a", f"c{i}", "t", "k") for i in range(4)]
    rows += [PlannedAssignment("a", "d1", "u", "k"), PlannedAssignment("b", "c0", "t", "k")]
    rows += [PlannedAssignment("b", f"x{i}", "t", "k2") for i in range(2)]
    rows += [PlannedAssignment("a", "x9", "t", "k2")]
    result = reassign_pending(
        assignments=rows,
        pending_clips=["c0", "c1", "c2", "d1", "x9"],
        from_annotator="a",
        to_annotator=Annotator("b", frozenset({"u"})),
        max_clips_per_rater=2,
    )
    assert [m.clip for m in result.moves] == ["c1"]
    assert {m.to_annotator for m in result.moves} == {"b"}
    reasons = {b.clip: b.reason for b in result.blocked}
    full = {"annotator": "b", "cap": 2, "team": "t"}
    assert reasons == {
        "c0": Notice(MOVE_RECEIVER_RATES_CLIP, {"annotator": "b"}),
        "c2": Notice(MOVE_RECEIVER_CELL_FULL, {**full, "task": "k"}),
        "d1": Notice(MOVE_RECEIVER_IN_TEAM, {"annotator": "b", "team": "u"}),
        "x9": Notice(MOVE_RECEIVER_CELL_FULL, {**full, "task": "k2"}),
    }


def test_reassign_rejects_clips_not_held_and_self_moves() -> None:
    rows = [PlannedAssignment("a", "c1", "t", "k")]
    with pytest.raises(PlanError, match="'c9' is not assigned to 'a'"):
        reassign_pending(
            assignments=rows, pending_clips=["c9"], from_annotator="a", to_annotator=Annotator("b")
        )
    with pytest.raises(PlanError, match="same annotator"):
        reassign_pending(
            assignments=rows, pending_clips=["c1"], from_annotator="a", to_annotator=Annotator("a")
        )


# --- purity ----------------------------------------------------------------------------


def test_planner_imports_no_django() -> None:
    code = "import sys, annotate.planner; print(sorted(m for m in sys.modules if m.split('.')[0] in {'django', 'rest_framework', 'celery'}))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    assert out.stdout.strip() == "[]"


def test_natural_key_orders_numbers_numerically() -> None:
    names = ["episode_10", "episode_2", "Episode_1", "episode_1a"]
    assert sorted(names, key=natural_key) == ["Episode_1", "episode_1a", "episode_2", "episode_10"]
