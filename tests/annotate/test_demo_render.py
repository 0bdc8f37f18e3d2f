"""The synthetic campaign renderer: real files, decoded back with PyAV."""

from __future__ import annotations

import hashlib
import json
import struct
import time
from pathlib import Path

import av
import numpy as np
import pytest

from demo import (
    CAMERAS,
    DEFAULT_TEAMS,
    OUTCOMES,
    SUB_KINDS,
    DemoRenderError,
    TeamSpec,
    applicable_sub_kinds,
    campaign_plan,
    render_demo,
    render_pair,
)
from demo.scene import (
    ObjectRules,
    arm_track,
    final_state,
    reference_motion,
    simulate_object,
    task_look,
)

SMALL = dict(n_tasks=2, episodes_per_task=3, teams=(DEFAULT_TEAMS[0], DEFAULT_TEAMS[2]))
SMALL_SIZE = 64


def _decode(path: Path) -> tuple[np.ndarray, str, str]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(stream)])
        return frames, stream.codec_context.name, stream.codec_context.pix_fmt


def _moov_first(path: Path) -> bool:
    with open(path, "rb") as fh:
        while header := fh.read(8):
            size, kind = struct.unpack(">I4s", header)
            if kind in (b"moov", b"mdat"):
                return kind == b"moov"
            fh.seek(size - 8, 1)
    return False


def _hashes(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def small_campaign(tmp_path_factory):
    started = time.perf_counter()
    manifest = render_demo(
        out_dir=tmp_path_factory.mktemp("demo") / "a", seed=3, view_size=SMALL_SIZE, **SMALL
    )
    return manifest, time.perf_counter() - started


# ---------------------------------------------------------------- the scene


@pytest.mark.parametrize("task_index", range(1, 9))
@pytest.mark.parametrize("outcome", OUTCOMES)
@pytest.mark.parametrize("n_frames", [12, 36, 90])
def test_reference_physics_ends_as_the_outcome_says(task_index, outcome, n_frames):
    look = task_look(task_index=task_index, n_tasks=8, seed=11)
    for motion_seed in range(3):
        motion = reference_motion(look=look, outcome=outcome, seed=motion_seed)
        arm = arm_track(look=look, motion=motion, n_frames=n_frames)
        drop = (look.pick_x + look.container_x - look.direction * look.container_half_width) / 2
        rules = ObjectRules(drop_at_x=drop) if outcome == "dropped" else ObjectRules()
        track = simulate_object(look=look, arm=arm, rules=rules, fps=n_frames // 3)
        expected = "in_container" if outcome == "success" else "outside"
        assert final_state(look=look, track=track) == expected
        moved = np.abs(track.center[-1] - track.center[0]).max() > look.object_radius
        assert moved == (outcome != "missed")


def test_tasks_look_different():
    looks = [task_look(task_index=k, n_tasks=8, seed=0) for k in range(1, 9)]
    assert len({look.object_color for look in looks}) == 8
    assert len({look.background_color for look in looks}) == 8
    assert {look.object_shape for look in looks} == {"disc", "square"}
    assert {look.direction for look in looks} == {1, -1}


# ---------------------------------------------------------------- labelled pairs

_CASES = [
    (category, sub_kind, outcome)
    for category in (3, 2, 1, 0)
    for outcome in OUTCOMES
    for sub_kind in applicable_sub_kinds(category=category, reference_outcome=outcome)
]


@pytest.mark.parametrize("seconds", [1.0, 3.0])
@pytest.mark.parametrize(("category", "sub_kind", "outcome"), _CASES)
def test_pair_final_state_follows_the_rubric(tmp_path, category, sub_kind, outcome, seconds):
    pair = render_pair(
        out_reference=tmp_path / "ref.mp4",
        out_generated=tmp_path / "gen.mp4",
        category=category,
        sub_kind=sub_kind,
        reference_outcome=outcome,
        seed=5,
        views=1,
        view_size=48,
        seconds=seconds,
    )
    reference_state = "in_container" if outcome == "success" else "outside"
    assert pair.reference_success == (outcome == "success")
    if category >= 2:
        assert pair.generated_final_state == reference_state
    else:
        assert pair.generated_final_state != reference_state
    reference, _, _ = _decode(pair.reference)
    generated, _, _ = _decode(pair.generated)
    assert reference.shape == generated.shape == (pair.n_frames, 48, 48, 3)
    # Never a copy of the reference.
    assert not np.array_equal(reference, generated)


def test_pair_pixels_show_the_category(tmp_path):
    """Faithful clips stay close to the reference; chaos is far; a swapped ending differs at the end."""

    def frames(category: int, sub_kind: str) -> tuple[np.ndarray, np.ndarray]:
        pair = render_pair(
            out_reference=tmp_path / f"r-{sub_kind}.mp4",
            out_generated=tmp_path / f"g-{sub_kind}.mp4",
            category=category,
            sub_kind=sub_kind,
            reference_outcome="success",
            seed=21,
            views=3,
        )
        return _decode(pair.reference)[0].astype(float), _decode(pair.generated)[0].astype(float)

    reference, noise = frames(3, "noise")
    assert 0.5 < np.abs(reference - noise).mean() < 12.0
    reference, chaos = frames(0, "heavy_noise")
    assert np.abs(reference - chaos).mean() > 25.0
    reference, squashed = frames(2, "squash")
    reference_swapped, swapped = frames(1, "outcome_swapped")
    # Same last picture when the outcome is kept; a visibly moved object when it is not.
    assert np.abs(reference[-1] - squashed[-1]).max() < 40.0
    assert np.abs(reference_swapped[-1] - swapped[-1]).max() > 80.0
    assert reference.shape == (36, 96, 288, 3)


def test_pair_draws_what_it_is_not_told(tmp_path):
    pair = render_pair(
        out_reference=tmp_path / "r.mp4", out_generated=tmp_path / "g.mp4", category=2, seed=1
    )
    assert pair.sub_kind in SUB_KINDS[2]
    assert (pair.width, pair.height) == (3 * 96, 96)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(category=4), "category must be 0, 1, 2 or 3"),
        (dict(category=3, sub_kind="tearing"), "does not fit category 3"),
        (
            dict(category=2, sub_kind="pass_through_wall", reference_outcome="missed"),
            "does not fit",
        ),
        (dict(category=3, view_size=33), "view_size must be an even number"),
        (dict(category=3, fps=2, seconds=1.0), "at least 12 frames"),
        (dict(category=3, views=4), "views must be 1, 2 or 3"),
        (dict(category=3, reference_outcome="exploded"), "reference_outcome must be one of"),
        (dict(category=3, codec="vp9"), "codec must be one of"),
    ],
)
def test_pair_rejects_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(DemoRenderError, match=message):
        render_pair(
            out_reference=tmp_path / "r.mp4", out_generated=tmp_path / "g.mp4", seed=0, **kwargs
        )


# ---------------------------------------------------------------- the campaign


def test_small_campaign_renders_in_about_a_second(small_campaign):
    manifest, seconds = small_campaign
    print(f"small campaign (2 tasks x 3 episodes, 2 teams) rendered in {seconds:.2f} s")
    # About a second on an idle machine; the bound leaves room for a busy CI runner.
    assert seconds < 8.0


def test_layout_matches_the_challenge(small_campaign):
    manifest, _ = small_campaign
    root = manifest.root
    assert manifest.tasks == ("task1", "task2")
    assert manifest.episodes == ("episode_0", "episode_1", "episode_2")
    assert manifest.teams == ("aurora", "cirrus")
    references = sorted(
        p.relative_to(manifest.reference_dir).as_posix()
        for p in manifest.reference_dir.rglob("*.mp4")
    )
    assert references == sorted(
        f"{task}/videos/{camera}/{episode}.mp4"
        for task in manifest.tasks
        for camera in CAMERAS
        for episode in manifest.episodes
    )
    truth = json.loads((root / "truth.json").read_text())
    assert truth == manifest.truth
    assert set(truth["reference"]) == {
        f"{t}/{e}" for t in manifest.tasks for e in manifest.episodes
    }
    submitted = {
        p.relative_to(root).as_posix()
        for p in manifest.submissions_dir.rglob("*")
        if p.is_file() and p.name.startswith("episode_")
    }
    good = {
        f"submissions/{team}/test/{key}.mp4"
        for team, entry in truth["teams"].items()
        for key in entry["clips"]
    }
    broken = {entry["path"] for entry in truth["broken"]}
    assert submitted == good | broken
    assert set(manifest.broken) == broken and len(broken) == 3
    assert len(manifest.missing) == 1 and not (root / manifest.missing[0]).exists()
    # Every cell is accounted for exactly once.
    assert len(good) + len(broken) + len(manifest.missing) == 2 * 2 * 3
    assert all(
        (root / path).is_file() and Path(path).name.startswith("concat_episode_")
        for path in truth["debug_files"]
    )
    assert len(truth["debug_files"]) == 2
    assert [Path(p).name for p in truth["hidden_files"]] == [".DS_Store"]
    assert (root / truth["hidden_files"][0]).is_file()


def test_good_files_decode_with_the_expected_shape_and_codec(small_campaign):
    manifest, _ = small_campaign
    truth, root = manifest.truth, manifest.root
    n_frames = truth["n_frames"]
    assert n_frames == 36
    for path in manifest.reference_dir.rglob("*.mp4"):
        frames, codec, pix_fmt = _decode(path)
        assert frames.shape == (n_frames, SMALL_SIZE, SMALL_SIZE, 3)
        assert (codec, pix_fmt) == ("h264", "yuv420p") and _moov_first(path)
    for team, entry in truth["teams"].items():
        for key in entry["clips"]:
            path = root / f"submissions/{team}/test/{key}.mp4"
            frames, codec, pix_fmt = _decode(path)
            assert frames.shape == (n_frames, SMALL_SIZE, 3 * SMALL_SIZE, 3)
            assert codec == {"aurora": "h264", "cirrus": "mpeg4"}[team]
            assert pix_fmt == "yuv420p" and _moov_first(path)
    for path in truth["debug_files"]:
        frames, _, _ = _decode(root / path)
        assert frames.shape == (n_frames, 2 * SMALL_SIZE, 3 * SMALL_SIZE, 3)


def test_broken_files_are_broken(small_campaign):
    manifest, _ = small_campaign
    kinds = {entry["kind"]: manifest.root / entry["path"] for entry in manifest.truth["broken"]}
    assert set(kinds) == {"truncated", "not_a_video", "zero_frames"}
    for kind in ("truncated", "not_a_video"):
        with pytest.raises(av.error.FFmpegError):
            _decode(kinds[kind])
    assert kinds["truncated"].stat().st_size > 1000
    assert kinds["not_a_video"].read_bytes().startswith(b"This upload")
    with av.open(str(kinds["zero_frames"])) as container:
        assert sum(1 for _ in container.decode()) == 0


def test_truth_labels_follow_the_plan(small_campaign):
    manifest, _ = small_campaign
    plan = campaign_plan(seed=3, n_tasks=2, episodes_per_task=3, teams=SMALL["teams"])
    for key, entry in manifest.truth["reference"].items():
        assert entry["outcome"] == plan.outcomes[key]
        assert entry["success"] == (plan.outcomes[key] == "success")
    for team, entry in manifest.truth["teams"].items():
        for key, clip in entry["clips"].items():
            assert (clip["category"], clip["sub_kind"]) == plan.labels[team][key]
            assert clip["sub_kind"] in SUB_KINDS[clip["category"]]
            reference_state = "in_container" if plan.outcomes[key] == "success" else "outside"
            assert (clip["final_state"] == reference_state) == (clip["category"] >= 2)


def test_same_seed_same_bytes_and_another_seed_differs(small_campaign, tmp_path):
    manifest, _ = small_campaign
    again = render_demo(out_dir=tmp_path / "again", seed=3, view_size=SMALL_SIZE, **SMALL)
    assert _hashes(again.root) == _hashes(manifest.root)
    # In parallel the bytes are the same too.
    parallel = render_demo(
        out_dir=tmp_path / "parallel", seed=3, view_size=SMALL_SIZE, workers=2, **SMALL
    )
    assert _hashes(parallel.root) == _hashes(manifest.root)
    other = render_demo(out_dir=tmp_path / "other", seed=4, view_size=SMALL_SIZE, **SMALL)
    first, second = _hashes(manifest.root), _hashes(other.root)
    shared = set(first) & set(second)
    assert shared and all(
        first[path] != second[path] for path in shared if path.startswith("reference/")
    )


def test_default_mixes_rank_the_teams():
    """Over the default campaign the best team has the highest mean category, the worst the lowest."""
    for seed in range(5):
        plan = campaign_plan(seed=seed, n_tasks=8, episodes_per_task=6)
        means = {team.name: plan.mean_category(team.name) for team in DEFAULT_TEAMS}
        assert max(means, key=means.get) == "aurora"
        assert min(means, key=means.get) == "dynamo"
        failures = sum(outcome != "success" for outcome in plan.outcomes.values())
        assert failures == 8 * 2  # two of six episodes fail in every task
        assert {outcome for outcome in plan.outcomes.values()} == set(OUTCOMES)


def test_category_draws_follow_the_mix():
    team = TeamSpec(name="steady", mix=(0.4, 0.3, 0.2, 0.1))
    plan = campaign_plan(seed=0, n_tasks=20, episodes_per_task=60, teams=(team,))
    categories = np.array([category for category, _ in plan.labels["steady"].values()])
    shares = [np.mean(categories == category) for category in (3, 2, 1, 0)]
    assert np.allclose(shares, team.mix, atol=0.04)
    sub_kinds = {sub_kind for _, sub_kind in plan.labels["steady"].values()}
    assert sub_kinds == {kind for kinds in SUB_KINDS.values() for kind in kinds}


def test_yuv444_team_is_encoded_as_asked(tmp_path):
    team = TeamSpec(name="odd", mix=(1.0, 0.0, 0.0, 0.0), codec="h264_yuv444p")
    manifest = render_demo(
        out_dir=tmp_path / "d",
        seed=0,
        n_tasks=1,
        episodes_per_task=2,
        teams=(team,),
        view_size=32,
        broken_files=False,
        missing_episodes=False,
        debug_files=False,
    )
    paths = sorted(manifest.submissions_dir.rglob("*.mp4"))
    assert len(paths) == 2 and not manifest.broken and not manifest.missing
    for path in paths:
        _, codec, pix_fmt = _decode(path)
        assert (codec, pix_fmt) == ("h264", "yuv444p")
    assert all(clip["category"] == 3 for clip in manifest.truth["teams"]["odd"]["clips"].values())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(teams=()), "at least one team"),
        (dict(teams=(DEFAULT_TEAMS[0], DEFAULT_TEAMS[0])), "unique"),
        (dict(n_tasks=0), "n_tasks must be"),
        (dict(workers=0), "workers must be"),
    ],
)
def test_campaign_rejects_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(DemoRenderError, match=message):
        render_demo(out_dir=tmp_path / "d", **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(name="a", mix=(0.5, 0.5, 0.5, 0.0)), "summing to 1"),
        (dict(name="a", mix=(1.0, 0.0, 0.0)), "4 non-negative"),
        (dict(name="a b", mix=(1.0, 0.0, 0.0, 0.0)), "team name"),
        (dict(name="a", mix=(1.0, 0.0, 0.0, 0.0), codec="hevc"), "codec must be one of"),
    ],
)
def test_team_spec_rejects_bad_values(kwargs, message):
    with pytest.raises(DemoRenderError, match=message):
        TeamSpec(**kwargs)


def test_refuses_to_write_over_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(DemoRenderError, match="not empty"):
        render_demo(out_dir=tmp_path, n_tasks=1, episodes_per_task=1)
    with pytest.raises(DemoRenderError, match="did not write"):
        render_demo(out_dir=tmp_path, n_tasks=1, episodes_per_task=1, overwrite=True)
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_overwrite_replaces_an_earlier_demo(tmp_path):
    small = dict(n_tasks=1, episodes_per_task=2, teams=DEFAULT_TEAMS[:1], view_size=32)
    render_demo(out_dir=tmp_path, seed=1, **small)
    manifest = render_demo(out_dir=tmp_path, seed=2, overwrite=True, **small)
    assert json.loads((tmp_path / "truth.json").read_text())["seed"] == 2
    assert manifest.truth["seed"] == 2


@pytest.mark.slow
def test_default_campaign_renders_quickly(tmp_path):
    started = time.perf_counter()
    manifest = render_demo(out_dir=tmp_path / "full")
    seconds = time.perf_counter() - started
    print(f"default campaign rendered in {seconds:.1f} s")
    assert len(list(manifest.reference_dir.rglob("*.mp4"))) == 8 * 6 * 3
    clips = sum(len(entry["clips"]) for entry in manifest.truth["teams"].values())
    assert clips + len(manifest.missing) + len(manifest.broken) == 4 * 48
    means = {
        team: np.mean([c["category"] for c in entry["clips"].values()])
        for team, entry in manifest.truth["teams"].items()
    }
    assert max(means, key=means.get) == "aurora" and min(means, key=means.get) == "dynamo"
    # Target: well under 15 s on two idle cores; the bound allows a loaded machine.
    assert seconds < 60.0
