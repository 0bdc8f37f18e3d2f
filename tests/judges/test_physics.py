"""The real-physics footage generator: its labels follow from what was simulated and drawn."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from evaluation.judges.video import decode_clip
from tests.judges import physics


def _final_box(episode: physics.Episode) -> np.ndarray:
    world = physics._World(episode)
    try:
        return world.simulate(episode).box_position[-1]
    finally:
        world.close()


def test_the_arm_really_pushes_the_box_and_variants_change_the_outcome_or_not() -> None:
    episode = physics.episode(1)
    start = np.array([*episode.start, episode.box_half])
    reference = _final_box(episode)
    pushed = np.linalg.norm(reference[:2] - start[:2])
    # Pushed by contact over most of the commanded length (the flange starts behind the box).
    assert pushed > 0.5 * (episode.length - 0.06)
    # A faster arm, or another way back after the push, leave the box where the reference does.
    for changed in (replace(episode, speed=0.92), replace(episode, detour=0.35)):
        assert np.linalg.norm(_final_box(changed)[:2] - reference[:2]) < 0.5 * episode.box_half * 2
    # A short push, or a push in another direction, do not.
    short = _final_box(replace(episode, length=episode.length * 0.35))
    other = _final_box(replace(episode, direction=episode.direction + math.pi / 2, detour=-0.15))
    for final in (short, other):
        assert np.linalg.norm(final[:2] - reference[:2]) > 2 * episode.box_half


def test_rendered_episode_has_three_views_and_labelled_kinds(tmp_path: Path) -> None:
    written = physics.render_episode(tmp_path, 2, kinds=("noise", "vanish"), view=32)
    assert [(kind, label) for _, _, kind, label in written] == [("noise", 3), ("vanish", 1)]
    reference = decode_clip(written[0][0], size=16, time_bins=8)
    assert reference.views == 3 and reference.width == 96 and reference.height == 32
    assert reference.frame_count == physics.FRAMES
    noisy = decode_clip(written[0][1], size=16, time_bins=8)
    assert (noisy.first - reference.first).abs().mean() < 0.1


def test_visual_only_kinds_change_nothing_but_the_box() -> None:
    episode = physics.episode(2)
    world = physics._World(episode)
    try:
        states = world.simulate(episode)
        frames = {
            kind: physics._frames(world, episode, states, kind=kind, view=32, noisy=False)
            for kind in ("reference", "vanish")
        }
    finally:
        world.close()
    reference, vanished = np.array(frames["reference"]), np.array(frames["vanish"])
    # Identical until the box is hidden, then different only where it stood.
    assert np.array_equal(reference[0], vanished[0])
    changed = np.abs(reference[-1].astype(int) - vanished[-1]).max(axis=-1) > 0
    assert 0.0 < changed.mean() < 0.05


def test_visual_edits_fall_where_the_kinds_say() -> None:
    frames = range(physics.FRAMES)
    assert all(physics._visual_edit("noise", f) == "keep" for f in frames)
    vanish = [physics._visual_edit("vanish", f) for f in frames]
    assert vanish[-1] == "hide" and vanish[0] == "keep"
    flicker = [physics._visual_edit("flicker", f) for f in frames]
    # It blinks: hidden frames alternate with shown ones, and the end is intact.
    assert "hide" in flicker and flicker[-1] == "keep"
    assert all(
        not (a == "hide" and b == "hide") for a, b in zip(flicker, flicker[1:], strict=False)
    )
    for kind in ("stretch", "teleport", "sink"):
        edits = [physics._visual_edit(kind, f) for f in frames]
        assert edits[0] == edits[-1] == "keep" and set(edits) == {"keep", kind}
