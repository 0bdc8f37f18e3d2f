"""Render a synthetic evaluation campaign: reference episodes, team submissions whose clips fall
into known rubric categories, and a truth file that says which.

The layout is the real challenge's:

    reference/task<K>/videos/<camera>/episode_<N>.mp4
    submissions/<team>/test/task<K>/episode_<N>.mp4   (the cameras side by side)
    truth.json

Everything is a function of the seed: the same seed gives byte-identical files.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from demo.scene import (
    CAMERAS,
    FAILURE_OUTCOMES,
    FINGER_DROP,
    OUTCOMES,
    TABLE_Y,
    ArmTrack,
    DemoRenderError,
    Motion,
    ObjectRules,
    ObjectTrack,
    TaskLook,
    ViewLayers,
    alternate_motion,
    arm_track,
    compose,
    derive_rng,
    final_state,
    reference_motion,
    simulate_object,
    task_look,
    view_layers,
)

SPLIT = "test"
CODECS: tuple[str, ...] = ("h264", "mpeg4", "h264_yuv444p")
# Rubric category -> the kinds of difference a generated clip of that category shows.
SUB_KINDS: dict[int, tuple[str, ...]] = {
    3: ("color_shift", "brightness", "blur", "noise", "time_jitter"),
    2: ("squash", "stretch", "flicker", "pass_through_wall", "sink_into_table"),
    1: ("outcome_swapped", "vanish", "teleport"),
    0: ("different_motion", "erratic_arm", "heavy_noise", "scrambled_blocks", "tearing"),
}
BROKEN_KINDS: tuple[str, ...] = ("truncated", "not_a_video", "zero_frames")


@dataclass(frozen=True)
class TeamSpec:
    """A team and how its world model tends to fail: probabilities of categories 3, 2, 1, 0."""

    name: str
    mix: tuple[float, float, float, float]
    codec: str = "h264"

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("-", "").replace("_", "").isalnum():
            raise DemoRenderError(
                f"team name must be letters, digits, '-' or '_', got {self.name!r}"
            )
        if len(self.mix) != 4 or any(p < 0 for p in self.mix) or abs(sum(self.mix) - 1.0) > 1e-6:
            raise DemoRenderError(
                f"team {self.name!r}: mix must be 4 non-negative probabilities (categories 3, 2, 1, 0) "
                f"summing to 1, got {self.mix}"
            )
        if self.codec not in CODECS:
            raise DemoRenderError(
                f"team {self.name!r}: codec must be one of {CODECS}, got {self.codec!r}"
            )

    @property
    def expected_score(self) -> float:
        return sum(category * p for category, p in zip((3, 2, 1, 0), self.mix, strict=True))


DEFAULT_TEAMS: tuple[TeamSpec, ...] = (
    TeamSpec(name="aurora", mix=(0.72, 0.18, 0.07, 0.03)),
    TeamSpec(name="borealis", mix=(0.45, 0.3, 0.15, 0.1)),
    # Submits MPEG-4 Part 2, which browsers do not play: the app has to transcode it.
    TeamSpec(name="cirrus", mix=(0.25, 0.3, 0.25, 0.2), codec="mpeg4"),
    TeamSpec(name="dynamo", mix=(0.05, 0.12, 0.38, 0.45)),
)


@dataclass(frozen=True)
class DemoManifest:
    """Where a rendered campaign lies and what it holds; `truth` is truth.json's content."""

    root: Path
    reference_dir: Path
    submissions_dir: Path
    teams: tuple[str, ...]
    tasks: tuple[str, ...]
    episodes: tuple[str, ...]
    truth: dict = field(hash=False, compare=False)
    # Paths relative to root, posix style.
    missing: tuple[str, ...] = ()
    broken: tuple[str, ...] = ()
    seconds_taken: float = field(default=0.0, compare=False)


@dataclass(frozen=True)
class RenderedPair:
    """One labelled pair; `generated_final_state` is 'in_container', 'outside' or 'vanished'."""

    reference: Path
    generated: Path
    category: int
    sub_kind: str
    reference_outcome: str
    reference_success: bool
    generated_final_state: str
    n_frames: int
    width: int
    height: int


# ---------------------------------------------------------------- episodes


@dataclass(frozen=True)
class _Reference:
    look: TaskLook
    outcome: str
    motion_seed: int
    arm: ArmTrack
    rules: ObjectRules
    track: ObjectTrack
    layers: dict[str, ViewLayers]
    views: dict[str, np.ndarray]  # camera -> (3, T, H, W) float32
    fps: int
    view_size: int

    @property
    def final_state(self) -> str:
        return final_state(look=self.look, track=self.track)

    def composite(self) -> np.ndarray:
        return np.concatenate([self.views[camera] for camera in self.layers], axis=3)


def _drop_x(look: TaskLook) -> float:
    """Halfway between the object and the near wall of the box: a slip there lands on the table."""
    near_wall = look.container_x - look.direction * look.container_half_width
    return (look.pick_x + near_wall) / 2.0


def _reference_rules(look: TaskLook, outcome: str) -> ObjectRules:
    return ObjectRules(drop_at_x=_drop_x(look)) if outcome == "dropped" else ObjectRules()


def _render_reference(
    *,
    look: TaskLook,
    outcome: str,
    motion_seed: int,
    n_frames: int,
    fps: int,
    view_size: int,
    cameras: tuple[str, ...],
) -> _Reference:
    motion = reference_motion(look=look, outcome=outcome, seed=motion_seed)
    arm = arm_track(look=look, motion=motion, n_frames=n_frames)
    rules = _reference_rules(look, outcome)
    track = simulate_object(look=look, arm=arm, rules=rules, fps=fps)
    layers = view_layers(look=look, arm=arm, view_size=view_size, cameras=cameras)
    views = {camera: compose(layers=layers[camera], look=look, track=track) for camera in cameras}
    return _Reference(look, outcome, motion_seed, arm, rules, track, layers, views, fps, view_size)


def applicable_sub_kinds(*, category: int, reference_outcome: str) -> tuple[str, ...]:
    """The sub-kinds a clip of `category` can show against a reference with this outcome."""
    if category not in SUB_KINDS:
        raise DemoRenderError(f"category must be 0, 1, 2 or 3, got {category!r}")
    if reference_outcome not in OUTCOMES:
        raise DemoRenderError(
            f"reference outcome must be one of {OUTCOMES}, got {reference_outcome!r}"
        )
    kinds = SUB_KINDS[category]
    if reference_outcome not in ("success", "beside"):
        # Only an object carried over the box can be seen passing through its wall.
        kinds = tuple(kind for kind in kinds if kind != "pass_through_wall")
    return kinds


@dataclass(frozen=True)
class _Generated:
    frames: np.ndarray  # (3, T, H, W * views) float32
    final_state: str


def _render_generated(
    *, reference: _Reference, category: int, sub_kind: str, rng: np.random.Generator
) -> _Generated:
    look, n_frames = reference.look, reference.arm.n_frames
    cameras = tuple(reference.layers)
    s = np.linspace(0.0, 1.0, n_frames)

    def side_by_side(views: dict[str, np.ndarray]) -> np.ndarray:
        return np.concatenate([views[camera] for camera in cameras], axis=3)

    def with_track(track: ObjectTrack, layers: dict[str, ViewLayers] | None = None) -> _Generated:
        layers = layers or reference.layers
        views = {
            camera: compose(layers=layers[camera], look=look, track=track) for camera in cameras
        }
        return _Generated(side_by_side(views), final_state(look=look, track=track))

    def moved(motion: Motion, rules: ObjectRules) -> tuple[ObjectTrack, dict[str, ViewLayers]]:
        arm = arm_track(look=look, motion=motion, n_frames=n_frames)
        moved_track = simulate_object(look=look, arm=arm, rules=rules, fps=reference.fps)
        layers = view_layers(look=look, arm=arm, view_size=reference.view_size, cameras=cameras)
        return moved_track, layers

    track = reference.track
    if category == 3:
        frames = side_by_side(reference.views)
        return _Generated(_faithful_difference(frames, sub_kind, rng), reference.final_state)

    if category == 2:
        bump = _window(s, 0.36, 0.8)
        strength = float(rng.uniform(0.85, 1.15))
        if sub_kind == "squash":
            scale = np.stack([1.0 + 0.5 * strength * bump, 1.0 - 0.45 * strength * bump], axis=1)
            return with_track(track.replaced(scale=scale))
        if sub_kind == "stretch":
            scale = np.stack([1.0 - 0.35 * strength * bump, 1.0 + 0.7 * strength * bump], axis=1)
            return with_track(track.replaced(scale=scale))
        if sub_kind == "flicker":
            phase = int(rng.integers(0, 4))
            blink = ((np.arange(n_frames) + phase) // 2) % 2 == 0
            alpha = np.where((_window(s, 0.28, 0.78) > 0) & blink, 0.0, 1.0)
            return with_track(track.replaced(alpha=alpha))
        if sub_kind == "sink_into_table":
            sink = _window(s, 0.03, 0.27)
            center = track.center.copy()
            center[:, 1] -= 1.3 * look.object_radius * strength * sink
            return with_track(track.replaced(center=center, hidden_below_table=sink > 0))
        if sub_kind == "pass_through_wall":
            # Carry the object at half the box's height, straight through its wall.
            carry_y = TABLE_Y + 0.5 * look.container_height + FINGER_DROP
            motion = reference_motion(
                look=look, outcome=reference.outcome, seed=reference.motion_seed, carry_y=carry_y
            )
            new_track, layers = moved(motion, reference.rules)
            return with_track(new_track, layers)

    if category == 1:
        ends_inside = reference.final_state == "in_container"
        if sub_kind == "outcome_swapped":
            return with_track(_swapped_track(reference))
        if sub_kind == "vanish":
            start = min(int(round(n_frames * float(rng.uniform(0.78, 0.85)))), n_frames - 3)
            alpha = np.clip(1.0 - (np.arange(n_frames) - start) / 2.0, 0.0, 1.0)
            return with_track(track.replaced(alpha=alpha))
        if sub_kind == "teleport":
            start = int(round(n_frames * float(rng.uniform(0.86, 0.92))))
            if ends_inside:
                spot = (look.pick_x, TABLE_Y + look.object_radius)
            else:
                spot = (look.container_x, look.floor_top + look.object_radius)
            center = track.center.copy()
            center[start:] = spot
            return with_track(track.replaced(center=center))

    if category == 0:
        succeed = reference.final_state != "in_container"
        shake = 0.09 if sub_kind == "erratic_arm" else 0.0
        motion = alternate_motion(
            look=look, succeed=succeed, seed=reference.motion_seed, shake=shake
        )
        new_track, layers = moved(motion, ObjectRules())
        generated = with_track(new_track, layers)
        if sub_kind in ("different_motion", "erratic_arm"):
            return generated
        return _Generated(_chaos(generated.frames, sub_kind, rng), generated.final_state)

    raise DemoRenderError(
        f"sub-kind {sub_kind!r} does not belong to category {category}; expected one of {SUB_KINDS.get(category)}"
    )


def _window(s: np.ndarray, start: float, stop: float) -> np.ndarray:
    """A smooth bump that is 0 outside [start, stop] and 1 in its middle."""
    u = np.clip((s - start) / (stop - start), 0.0, 1.0)
    return np.where((u > 0.0) & (u < 1.0), np.sin(np.pi * u) ** 2, 0.0)


def _swapped_track(reference: _Reference) -> ObjectTrack:
    """Same arm, opposite ending: the object slips out, or ends up in the box after all."""
    look, outcome = reference.look, reference.outcome
    if outcome == "success":
        rules = ObjectRules(drop_at_x=_drop_x(look))
    elif outcome == "dropped":
        rules = ObjectRules()
    elif outcome == "missed":
        # The gripper closed beside the object; the generated clip has it snap into the grip.
        rules = ObjectRules(grasp_tolerance=12.0)
    else:
        rules = ObjectRules(hop_into_container=True)
    return simulate_object(look=look, arm=reference.arm, rules=rules, fps=reference.fps)


# ---------------------------------------------------------------- image differences


def _faithful_difference(frames: np.ndarray, sub_kind: str, rng: np.random.Generator) -> np.ndarray:
    """Small differences a good world model leaves: never identical, never a different story."""
    if sub_kind not in SUB_KINDS[3]:
        raise DemoRenderError(
            f"sub-kind {sub_kind!r} does not belong to category 3; expected one of {SUB_KINDS[3]}"
        )
    # Every faithful clip carries at least a slight colour cast, so none equals its reference.
    gain = rng.uniform(0.97, 1.03, size=3)
    if sub_kind == "color_shift":
        gain *= 1.0 + rng.uniform(0.06, 0.12, size=3) * rng.choice([-1.0, 1.0], size=3)
    out = frames * gain.astype(np.float32).reshape(3, 1, 1, 1)
    if sub_kind == "brightness":
        out += np.float32(rng.uniform(8.0, 16.0) * rng.choice([-1.0, 1.0]))
    elif sub_kind == "blur":
        out = _box_blur(out)
    elif sub_kind == "noise":
        # Sensor-like grain, the same in all three channels.
        out += 5.0 * rng.standard_normal(size=out.shape[1:], dtype=np.float32)[None]
    elif sub_kind == "time_jitter":
        n_frames = out.shape[1]
        order = np.arange(n_frames)
        for position in rng.choice(
            np.arange(2, n_frames - 2), size=min(3, n_frames - 4), replace=False
        ):
            order[position] += int(rng.choice([-1, 1]))
        out = out[:, order]
    return out


def _box_blur(frames: np.ndarray) -> np.ndarray:
    """3x3 mean in each frame; edge pixels keep their value."""
    across = frames.copy()
    across[..., 1:-1] += frames[..., :-2] + frames[..., 2:]
    across[..., 1:-1] *= np.float32(1.0 / 3.0)
    blurred = across.copy()
    blurred[..., 1:-1, :] += across[..., :-2, :] + across[..., 2:, :]
    blurred[..., 1:-1, :] *= np.float32(1.0 / 3.0)
    return blurred


def _chaos(frames: np.ndarray, sub_kind: str, rng: np.random.Generator) -> np.ndarray:
    """Severely broken visuals from a quarter of the clip on."""
    out = frames.copy()
    n_frames, height, width = frames.shape[1:]
    start = n_frames // 4
    if sub_kind == "heavy_noise":
        out[:, start:] += 70.0 * rng.standard_normal(size=out[:, start:].shape, dtype=np.float32)
    elif sub_kind == "scrambled_blocks":
        block = 8
        rows, columns = height // block, width // block
        for frame in range(start, n_frames):
            picture = out[:, frame, : rows * block, : columns * block]
            tiles = picture.reshape(3, rows, block, columns, block).transpose(1, 3, 0, 2, 4)
            tiles = tiles.reshape(rows * columns, 3, block, block)[rng.permutation(rows * columns)]
            tiles = tiles.reshape(rows, columns, 3, block, block).transpose(2, 0, 3, 1, 4)
            picture[...] = tiles.reshape(3, rows * block, columns * block)
    elif sub_kind == "tearing":
        band = 6
        n_bands = -(-height // band)
        shifts = rng.integers(-width // 3, width // 3, size=(n_frames, n_bands))
        lags = rng.integers(0, 6, size=(n_frames, n_bands))
        shifts[:start] = 0
        lags[:start] = 0
        band_of_row = np.arange(height) // band
        source_frame = np.clip(np.arange(n_frames)[:, None] - lags[:, band_of_row], 0, n_frames - 1)
        source_column = (
            np.arange(width)[None, None, :] + shifts[:, band_of_row][:, :, None]
        ) % width
        out = frames[:, source_frame[:, :, None], np.arange(height)[None, :, None], source_column]
    else:
        raise DemoRenderError(f"sub-kind {sub_kind!r} is not a kind of visual chaos")
    return out


# ---------------------------------------------------------------- encoding


def _rgb24(frames: np.ndarray) -> np.ndarray:
    """(3, T, H, W) float frames as (T, H, W, 3) bytes; the encoder's scaler makes the YUV."""
    rounded = frames + np.float32(0.5)
    np.clip(rounded, 0.0, 255.0, out=rounded)
    planes = rounded.astype(np.uint8)
    # One strided write per channel is several times faster than a 4-D transpose.
    interleaved = np.empty((*planes.shape[1:], 3), dtype=np.uint8)
    for channel in range(3):
        interleaved[..., channel] = planes[channel]
    return interleaved


def write_video(
    *, path: Path, frames: np.ndarray, fps: int, codec: str = "h264", faststart: bool = True
) -> None:
    """Encode (3, T, H, W) RGB frames to an MP4, deterministically (single-threaded encoders)."""
    if codec not in CODECS:
        raise DemoRenderError(f"codec must be one of {CODECS}, got {codec!r}")
    _, n_frames, height, width = frames.shape
    if height % 2 or width % 2:
        raise DemoRenderError(f"frame size must be even, got {width}x{height}")
    options = {"movflags": "+faststart"} if faststart else {}
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w", format="mp4", options=options) as container:
        if codec == "mpeg4":
            stream = container.add_stream("mpeg4", rate=fps)
            stream.bit_rate = 120_000 * max(1, width * height // (96 * 96))
        else:
            stream = container.add_stream(
                "libx264", rate=fps, options={"preset": "ultrafast", "crf": "20", "threads": "1"}
            )
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv444p" if codec == "h264_yuv444p" else "yuv420p"
        stream.codec_context.gop_size = fps
        stream.thread_count = 1
        for index, array in enumerate(_rgb24(frames)):
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def _write_broken(*, path: Path, kind: str, frames: np.ndarray, fps: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "truncated":
        # Without faststart the index sits at the end, so a cut-off upload has none.
        write_video(path=path, frames=frames, fps=fps, faststart=False)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) * 2 // 5])
    elif kind == "not_a_video":
        path.write_text("This upload was meant to be a video.\n", encoding="utf-8")
    elif kind == "zero_frames":
        with av.open(str(path), mode="w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=fps, options={"threads": "1"})
            stream.width, stream.height = frames.shape[3], frames.shape[2]
            stream.pix_fmt = "yuv420p"
            container.start_encoding()
    else:
        raise DemoRenderError(f"broken kind must be one of {BROKEN_KINDS}, got {kind!r}")


# ---------------------------------------------------------------- public entry points


def _check_video_settings(*, view_size: int, fps: int, seconds: float) -> int:
    if not 32 <= view_size <= 1024 or view_size % 2:
        raise DemoRenderError(
            f"view_size must be an even number of pixels in 32..1024, got {view_size}"
        )
    if not 1 <= fps <= 60:
        raise DemoRenderError(f"fps must be in 1..60, got {fps}")
    n_frames = int(round(fps * seconds))
    if n_frames < 12:
        raise DemoRenderError(
            f"fps x seconds must give at least 12 frames, got {fps} x {seconds} = {n_frames}"
        )
    return n_frames


def _episode_outcomes(*, seed: int, task_index: int, episodes_per_task: int) -> list[str]:
    """About a third of the episodes fail, in a mix of the three ways of failing."""
    rng = derive_rng(seed, "outcomes", task_index)
    n_failures = int(round(episodes_per_task / 3)) if episodes_per_task > 1 else 0
    outcomes = ["success"] * episodes_per_task
    failure_kinds = [str(kind) for kind in rng.permutation(FAILURE_OUTCOMES)]
    for order, episode in enumerate(rng.choice(episodes_per_task, size=n_failures, replace=False)):
        outcomes[int(episode)] = failure_kinds[order % len(failure_kinds)]
    return outcomes


def _clip_rng(*, seed: int, team: str, task_index: int, episode: int) -> np.random.Generator:
    return derive_rng(seed, "clip", team, task_index, episode)


def _draw_clip(
    *, rng: np.random.Generator, mix: Sequence[float], reference_outcome: str
) -> tuple[int, str]:
    category = (3, 2, 1, 0)[int(rng.choice(4, p=np.asarray(mix, dtype=float)))]
    kinds = applicable_sub_kinds(category=category, reference_outcome=reference_outcome)
    return category, kinds[int(rng.integers(len(kinds)))]


@dataclass(frozen=True)
class CampaignPlan:
    """What a campaign will contain, decided before anything is drawn."""

    outcomes: dict[str, str]  # "task<K>/episode_<N>" -> reference outcome
    labels: dict[str, dict[str, tuple[int, str]]]  # team -> episode key -> (category, sub-kind)

    def mean_category(self, team: str) -> float:
        categories = [category for category, _ in self.labels[team].values()]
        return float(np.mean(categories))


def campaign_plan(
    *, seed: int, n_tasks: int, episodes_per_task: int, teams: Sequence[TeamSpec] = DEFAULT_TEAMS
) -> CampaignPlan:
    """The reference outcomes and every team's clip labels that render_demo will use (before
    some clips are left out or broken)."""
    outcomes: dict[str, str] = {}
    labels: dict[str, dict[str, tuple[int, str]]] = {team.name: {} for team in teams}
    for task_index in range(1, n_tasks + 1):
        task_outcomes = _episode_outcomes(
            seed=seed, task_index=task_index, episodes_per_task=episodes_per_task
        )
        for episode, outcome in enumerate(task_outcomes):
            key = f"task{task_index}/episode_{episode}"
            outcomes[key] = outcome
            for team in teams:
                rng = _clip_rng(seed=seed, team=team.name, task_index=task_index, episode=episode)
                labels[team.name][key] = _draw_clip(
                    rng=rng, mix=team.mix, reference_outcome=outcome
                )
    return CampaignPlan(outcomes=outcomes, labels=labels)


def render_pair(
    *,
    out_reference: Path,
    out_generated: Path,
    category: int,
    seed: int,
    success: bool | None = None,
    reference_outcome: str | None = None,
    sub_kind: str | None = None,
    task_index: int | None = None,
    view_size: int = 96,
    fps: int = 12,
    seconds: float = 3.0,
    views: int = 3,
    codec: str = "h264",
) -> RenderedPair:
    """Render one labelled (reference, generated) pair, both in the side-by-side layout.

    `success` fixes whether the reference episode succeeds (drawn from `seed` when None);
    `reference_outcome` ('success', 'beside', 'dropped', 'missed') fixes how, and wins over
    `success`. `sub_kind` fixes the kind of difference (drawn among those that fit when None).
    """
    n_frames = _check_video_settings(view_size=view_size, fps=fps, seconds=seconds)
    if not 1 <= views <= len(CAMERAS):
        raise DemoRenderError(f"views must be 1, 2 or 3, got {views}")
    rng = derive_rng(seed, "pair")
    task = int(rng.integers(1, 9)) if task_index is None else task_index
    look = task_look(task_index=task, n_tasks=max(8, task), seed=seed)
    if success is None:
        success = bool(rng.random() >= 1.0 / 3.0)
    outcome = "success" if success else str(rng.choice(FAILURE_OUTCOMES))
    if reference_outcome is not None:
        if reference_outcome not in OUTCOMES:
            raise DemoRenderError(
                f"reference_outcome must be one of {OUTCOMES}, got {reference_outcome!r}"
            )
        outcome = reference_outcome
    kinds = applicable_sub_kinds(category=category, reference_outcome=outcome)
    if sub_kind is None:
        sub_kind = kinds[int(rng.integers(len(kinds)))]
    elif sub_kind not in kinds:
        raise DemoRenderError(
            f"sub_kind {sub_kind!r} does not fit category {category} with a {outcome!r} reference; "
            f"expected one of {kinds}"
        )
    reference = _render_reference(
        look=look,
        outcome=outcome,
        motion_seed=int(rng.integers(2**31)),
        n_frames=n_frames,
        fps=fps,
        view_size=view_size,
        cameras=CAMERAS[:views],
    )
    generated = _render_generated(
        reference=reference, category=category, sub_kind=sub_kind, rng=rng
    )
    write_video(path=out_reference, frames=reference.composite(), fps=fps)
    write_video(path=out_generated, frames=generated.frames, fps=fps, codec=codec)
    return RenderedPair(
        reference=out_reference,
        generated=out_generated,
        category=category,
        sub_kind=sub_kind,
        reference_outcome=outcome,
        reference_success=outcome == "success",
        generated_final_state=generated.final_state,
        n_frames=n_frames,
        width=view_size * views,
        height=view_size,
    )


@dataclass(frozen=True)
class _Flaws:
    missing: frozenset[tuple[str, int, int]]
    broken: dict[tuple[str, int, int], str]
    debug: frozenset[tuple[str, int, int]]


def _pick_flaws(
    *,
    seed: int,
    teams: Sequence[TeamSpec],
    n_tasks: int,
    episodes_per_task: int,
    missing: bool,
    broken: bool,
    debug: bool,
) -> _Flaws:
    cells = [
        (team.name, task, episode)
        for team in teams
        for task in range(1, n_tasks + 1)
        for episode in range(episodes_per_task)
    ]
    order = [cells[int(i)] for i in derive_rng(seed, "flaws").permutation(len(cells))]
    n_missing = max(1, round(len(cells) / 64)) if missing else 0
    n_broken = len(BROKEN_KINDS) if broken else 0
    n_debug = 2 if debug else 0
    # Leave at least half of the cells clean, so that small campaigns stay useful.
    budget = len(cells) // 2
    n_missing = min(n_missing, budget)
    n_broken = min(n_broken, budget - n_missing)
    chosen_missing = order[:n_missing]
    chosen_broken = order[n_missing : n_missing + n_broken]
    chosen_debug = order[n_missing + n_broken : n_missing + n_broken + n_debug]
    return _Flaws(
        missing=frozenset(chosen_missing),
        broken={cell: BROKEN_KINDS[i] for i, cell in enumerate(chosen_broken)},
        debug=frozenset(chosen_debug),
    )


def _prepare_root(out_dir: Path, *, overwrite: bool) -> None:
    ours = ("reference", "submissions", "truth.json")
    if out_dir.exists() and any(out_dir.iterdir()):
        if not overwrite:
            raise DemoRenderError(
                f"{out_dir} is not empty; pass overwrite=True to replace an earlier demo there"
            )
        strangers = sorted(p.name for p in out_dir.iterdir() if p.name not in ours)
        if strangers:
            raise DemoRenderError(
                f"{out_dir} holds files the demo did not write ({', '.join(strangers[:5])}); refusing to overwrite"
            )
        for name in ours:
            target = out_dir / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)


@dataclass(frozen=True)
class _TaskJob:
    out_dir: Path
    seed: int
    task_index: int
    n_tasks: int
    episodes_per_task: int
    teams: tuple[TeamSpec, ...]
    view_size: int
    fps: int
    n_frames: int
    flaws: _Flaws


def _render_task(job: _TaskJob) -> dict:
    """Write one task's reference and team clips; return its part of the truth file."""
    seed, task_index, fps, out_dir = job.seed, job.task_index, job.fps, job.out_dir
    look = task_look(task_index=task_index, n_tasks=job.n_tasks, seed=seed)
    part: dict = {
        "reference": {},
        "clips": {team.name: {} for team in job.teams},
        "missing": [],
        "broken": [],
        "debug_files": [],
    }
    outcomes = _episode_outcomes(
        seed=seed, task_index=task_index, episodes_per_task=job.episodes_per_task
    )
    for episode, outcome in enumerate(outcomes):
        key = f"task{task_index}/episode_{episode}"
        reference = _render_reference(
            look=look,
            outcome=outcome,
            motion_seed=int(derive_rng(seed, "motion", task_index, episode).integers(2**31)),
            n_frames=job.n_frames,
            fps=fps,
            view_size=job.view_size,
            cameras=CAMERAS,
        )
        part["reference"][key] = {"success": outcome == "success", "outcome": outcome}
        for camera in CAMERAS:
            path = (
                out_dir
                / "reference"
                / f"task{task_index}"
                / "videos"
                / camera
                / f"episode_{episode}.mp4"
            )
            write_video(path=path, frames=reference.views[camera], fps=fps)
        for team in job.teams:
            cell = (team.name, task_index, episode)
            folder = out_dir / "submissions" / team.name / SPLIT / f"task{task_index}"
            path = folder / f"episode_{episode}.mp4"
            relative = path.relative_to(out_dir).as_posix()
            if cell in job.flaws.missing:
                part["missing"].append(relative)
                continue
            rng = _clip_rng(seed=seed, team=team.name, task_index=task_index, episode=episode)
            category, sub_kind = _draw_clip(rng=rng, mix=team.mix, reference_outcome=outcome)
            generated = _render_generated(
                reference=reference, category=category, sub_kind=sub_kind, rng=rng
            )
            if cell in job.flaws.broken:
                kind = job.flaws.broken[cell]
                _write_broken(path=path, kind=kind, frames=generated.frames, fps=fps)
                part["broken"].append(
                    {"path": relative, "kind": kind, "category": category, "sub_kind": sub_kind}
                )
                continue
            write_video(path=path, frames=generated.frames, fps=fps, codec=team.codec)
            part["clips"][team.name][key] = {
                "category": category,
                "sub_kind": sub_kind,
                "final_state": generated.final_state,
            }
            if cell in job.flaws.debug:
                debug_path = folder / f"concat_episode_{episode}.mp4"
                stacked = np.concatenate([reference.composite(), generated.frames], axis=2)
                write_video(path=debug_path, frames=stacked, fps=fps)
                part["debug_files"].append(debug_path.relative_to(out_dir).as_posix())
    return part


def _default_workers(n_tasks: int, episodes_per_task: int) -> int:
    if n_tasks * episodes_per_task < 12:
        return 1  # starting processes would cost more than it saves
    return max(1, min(os.cpu_count() or 1, n_tasks, 8))


def render_demo(
    *,
    out_dir: Path,
    seed: int = 0,
    n_tasks: int = 8,
    episodes_per_task: int = 6,
    teams: Sequence[TeamSpec] = DEFAULT_TEAMS,
    view_size: int = 96,
    fps: int = 12,
    seconds: float = 3.0,
    broken_files: bool = True,
    missing_episodes: bool = True,
    debug_files: bool = True,
    overwrite: bool = False,
    workers: int | None = None,
) -> DemoManifest:
    """Render a whole synthetic campaign under `out_dir` and describe it.

    `broken_files` puts a truncated MP4, a text file named .mp4 and a zero-frame video in
    place of three team clips; `missing_episodes` leaves a few clips out; `debug_files` adds
    concat_episode_<N>.mp4 files and a .DS_Store that an import must skip. Tasks render in
    `workers` processes (one per CPU by default); the files do not depend on it.
    """
    started = time.perf_counter()
    n_frames = _check_video_settings(view_size=view_size, fps=fps, seconds=seconds)
    if not 1 <= n_tasks <= 64:
        raise DemoRenderError(f"n_tasks must be in 1..64, got {n_tasks}")
    if not 1 <= episodes_per_task <= 500:
        raise DemoRenderError(f"episodes_per_task must be in 1..500, got {episodes_per_task}")
    teams = tuple(teams)
    if not teams:
        raise DemoRenderError("teams must name at least one team")
    names = [team.name for team in teams]
    if len(set(names)) != len(names):
        raise DemoRenderError(f"team names must be unique, got {names}")
    if workers is not None and workers < 1:
        raise DemoRenderError(f"workers must be at least 1, got {workers}")
    out_dir = Path(out_dir)
    _prepare_root(out_dir, overwrite=overwrite)
    flaws = _pick_flaws(
        seed=seed,
        teams=teams,
        n_tasks=n_tasks,
        episodes_per_task=episodes_per_task,
        missing=missing_episodes,
        broken=broken_files,
        debug=debug_files,
    )
    jobs = [
        _TaskJob(
            out_dir,
            seed,
            task_index,
            n_tasks,
            episodes_per_task,
            teams,
            view_size,
            fps,
            n_frames,
            flaws,
        )
        for task_index in range(1, n_tasks + 1)
    ]
    n_workers = min(workers or _default_workers(n_tasks, episodes_per_task), n_tasks)
    if n_workers > 1:
        with ProcessPoolExecutor(max_workers=n_workers) as pool:
            parts = list(pool.map(_render_task, jobs))
    else:
        parts = [_render_task(job) for job in jobs]

    truth: dict = {
        "seed": seed,
        "fps": fps,
        "n_frames": n_frames,
        "view_size": view_size,
        "cameras": list(CAMERAS),
        "split": SPLIT,
        "reference": {},
        "teams": {
            team.name: {"codec": team.codec, "mix": list(team.mix), "clips": {}} for team in teams
        },
        "missing": [],
        "broken": [],
        "debug_files": [],
        "hidden_files": [],
    }
    for part in parts:
        truth["reference"].update(part["reference"])
        for name, clips in part["clips"].items():
            truth["teams"][name]["clips"].update(clips)
        for listing in ("missing", "broken", "debug_files"):
            truth[listing].extend(part[listing])
    if debug_files:
        hidden = out_dir / "submissions" / teams[0].name / SPLIT / ".DS_Store"
        hidden.parent.mkdir(parents=True, exist_ok=True)
        hidden.write_bytes(b"\x00\x00\x00\x01Bud1" + bytes(24))
        truth["hidden_files"].append(hidden.relative_to(out_dir).as_posix())
    (out_dir / "truth.json").write_text(
        json.dumps(truth, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return DemoManifest(
        root=out_dir,
        reference_dir=out_dir / "reference",
        submissions_dir=out_dir / "submissions",
        teams=tuple(names),
        tasks=tuple(f"task{k}" for k in range(1, n_tasks + 1)),
        episodes=tuple(f"episode_{n}" for n in range(episodes_per_task)),
        truth=truth,
        missing=tuple(truth["missing"]),
        broken=tuple(entry["path"] for entry in truth["broken"]),
        seconds_taken=time.perf_counter() - started,
    )
