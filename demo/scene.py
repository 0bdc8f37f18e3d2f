"""The synthetic robot scene: how a task looks, how the arm moves, where the object goes,
and what each camera sees.

The world is a vertical plane seen from the front: x runs left to right, y upwards, both
roughly in [0, 1]. A table fills the bottom, an open box stands on it, an object rests
beside it, and a two-link arm hangs from a shoulder near the top. Everything is drawn with
whole-clip numpy arrays of shape (frames, height, width); the only Python loop is the
per-frame object physics, which handles one point per frame.
"""

from __future__ import annotations

import colorsys
import math
import zlib
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

CAMERAS: tuple[str, ...] = ("cam_high", "cam_left_wrist", "cam_right_wrist")
OUTCOMES: tuple[str, ...] = ("success", "beside", "dropped", "missed")
FAILURE_OUTCOMES: tuple[str, ...] = ("beside", "dropped", "missed")

TABLE_Y = 0.3
WALL = 0.018
SHOULDER_Y = 0.98
UPPER_ARM = 0.42
FOREARM = 0.42
# Distance from the palm down to the centre of a held object.
FINGER_DROP = 0.05
# Slow gravity so that a fall spans a few frames at 12 fps instead of a single jump.
GRAVITY = 2.5


class DemoRenderError(ValueError):
    """Raised for arguments the demo renderer cannot honour; the message names the culprit."""


def derive_rng(seed: int, *keys: int | str) -> np.random.Generator:
    """An independent generator per (seed, keys), stable whatever order things are drawn in."""
    words = [int(seed) & 0xFFFFFFFF]
    for key in keys:
        words.append(zlib.crc32(key.encode()) if isinstance(key, str) else int(key) & 0xFFFFFFFF)
    return np.random.default_rng(np.random.SeedSequence(words))


def _rgb(hue: float, saturation: float, value: float) -> tuple[float, float, float]:
    red, green, blue = colorsys.hsv_to_rgb(hue % 1.0, saturation, value)
    return (red * 255.0, green * 255.0, blue * 255.0)


@dataclass(frozen=True)
class TaskLook:
    """Everything that makes one task recognisable; positions are in world units."""

    name: str
    object_shape: str
    object_color: tuple[float, float, float]
    object_radius: float
    pick_x: float
    container_x: float
    container_half_width: float
    container_height: float
    container_color: tuple[float, float, float]
    arm_color: tuple[float, float, float]
    background_color: tuple[float, float, float]
    background_frequency: float
    table_color: tuple[float, float, float]
    shoulder_x: float
    # +1 when the box stands right of the object, -1 when the scene is mirrored.
    direction: int

    @property
    def inner_left(self) -> float:
        return self.container_x - self.container_half_width + WALL

    @property
    def inner_right(self) -> float:
        return self.container_x + self.container_half_width - WALL

    @property
    def floor_top(self) -> float:
        return TABLE_Y + WALL

    @property
    def rim_y(self) -> float:
        return TABLE_Y + self.container_height


def task_look(*, task_index: int, n_tasks: int, seed: int) -> TaskLook:
    """The look of task number `task_index` (1-based): colours spread around the hue circle."""
    if task_index < 1 or n_tasks < task_index:
        raise DemoRenderError(f"task_index must be in 1..{n_tasks}, got {task_index}")
    rng = derive_rng(seed, "look", task_index)
    hue = (task_index - 1) / n_tasks + float(rng.uniform(-0.02, 0.02))
    direction = 1 if task_index % 2 else -1
    radius = float(rng.uniform(0.036, 0.048))

    def placed(x: float) -> float:
        return x if direction > 0 else 1.0 - x

    return TaskLook(
        name=f"task{task_index}",
        object_shape=("disc", "square")[(task_index - 1) // 2 % 2],
        object_color=_rgb(hue, 0.85, 0.95),
        object_radius=radius,
        pick_x=placed(float(rng.uniform(0.2, 0.28))),
        container_x=placed(float(rng.uniform(0.6, 0.66))),
        container_half_width=float(rng.uniform(0.082, 0.105)),
        container_height=float(rng.uniform(0.1, 0.13)),
        container_color=_rgb(hue + 0.5, 0.45, 0.6),
        arm_color=_rgb(hue + 0.3, 0.3, 0.85 if task_index % 3 else 0.55),
        background_color=_rgb(hue + 0.6, 0.25, 0.38 + 0.08 * (task_index % 3)),
        background_frequency=float(rng.uniform(14.0, 30.0)),
        table_color=_rgb(0.07 + 0.03 * (task_index % 4), 0.5, 0.6),
        shoulder_x=placed(float(rng.uniform(0.42, 0.5))),
        direction=direction,
    )


# Colour names by hue, an eighth of the circle each, from red; and the shapes' names.
_COLOUR_NAMES = (
    ("red", "红色"),
    ("amber", "琥珀色"),
    ("yellow-green", "黄绿色"),
    ("green", "绿色"),
    ("cyan", "青色"),
    ("blue", "蓝色"),
    ("purple", "紫色"),
    ("pink", "粉色"),
)
_SHAPE_NAMES = {"disc": ("disc", "圆盘"), "square": ("block", "方块")}


@dataclass(frozen=True)
class TaskTexts:
    """What a task asks of the robot, as annotators read it, in English and Chinese."""

    title: str
    instruction: str
    title_zh_hans: str
    instruction_zh_hans: str


def task_texts(look: TaskLook) -> TaskTexts:
    """The title and instruction of the task `look` draws: its object, its colour, the box."""
    hue = colorsys.rgb_to_hsv(*(channel / 255.0 for channel in look.object_color))[0]
    colour, colour_zh = _COLOUR_NAMES[round(hue * len(_COLOUR_NAMES)) % len(_COLOUR_NAMES)]
    shape, shape_zh = _SHAPE_NAMES[look.object_shape]
    side, side_zh = ("right", "右") if look.direction > 0 else ("left", "左")
    return TaskTexts(
        title=f"{colour.capitalize()} {shape} into the box",
        instruction=f"Pick up the {colour} {shape} and put it in the box on its {side}.",
        title_zh_hans=f"把{colour_zh}{shape_zh}放进盒子",
        instruction_zh_hans=f"拿起{colour_zh}{shape_zh}，放进它{side_zh}边的盒子里。",
    )


# ---------------------------------------------------------------- motion


@dataclass(frozen=True)
class Motion:
    """Palm keyframes in normalised time, eased between; closure 0 is open, 1 closed."""

    times: tuple[float, ...]
    points: tuple[tuple[float, float], ...]
    closure: tuple[float, ...]
    # Sideways sway (world units) during the whole clip, a visibly different way of moving.
    wiggle: float = 0.0
    # Random jumps of the palm away from the grasp and release moments.
    shake: float = 0.0
    shake_seed: int = 0


@dataclass(frozen=True)
class ArmTrack:
    shoulder: np.ndarray  # (2,)
    elbow: np.ndarray  # (T, 2)
    palm: np.ndarray  # (T, 2)
    closure: np.ndarray  # (T,)

    @property
    def n_frames(self) -> int:
        return int(self.palm.shape[0])


_REFERENCE_TIMES = (0.0, 0.2, 0.3, 0.36, 0.46, 0.64, 0.73, 0.79, 0.88, 1.0)


def _jittered_times(base: tuple[float, ...], rng: np.random.Generator) -> tuple[float, ...]:
    inner = np.asarray(base[1:-1]) + rng.uniform(-0.015, 0.015, size=len(base) - 2)
    return (0.0, *(float(t) for t in np.sort(inner)), 1.0)


def reference_motion(
    *, look: TaskLook, outcome: str, seed: int, carry_y: float | None = None
) -> Motion:
    """How the arm moves in a real episode with the given outcome.

    `carry_y` lowers or raises the carrying height; everything else (timing included) is
    fixed by `seed`, so two calls differing only in `carry_y` move alike.
    """
    if outcome not in OUTCOMES:
        raise DemoRenderError(f"outcome must be one of {OUTCOMES}, got {outcome!r}")
    rng = derive_rng(seed, "motion")
    radius = look.object_radius
    home = (
        look.shoulder_x + float(rng.uniform(-0.04, 0.04)),
        0.66 + float(rng.uniform(-0.03, 0.03)),
    )
    carry = look.rim_y + radius + FINGER_DROP + 0.12 if carry_y is None else carry_y
    pick_x = look.pick_x
    if outcome == "missed":
        # The gripper closes on empty table beside the object, on the side away from the box.
        pick_x -= look.direction * (2.5 * radius + 0.03)
    pick = (pick_x, TABLE_Y + radius + FINGER_DROP)
    if outcome == "beside":
        target_x = look.container_x + look.direction * (look.container_half_width + radius + 0.05)
        target = (target_x, TABLE_Y + radius + FINGER_DROP + 0.01)
    else:
        target = (look.container_x, look.floor_top + radius + FINGER_DROP + 0.015)
    points = (
        home,
        (pick[0], carry),
        pick,
        pick,
        (pick[0], carry),
        (target[0], carry),
        target,
        target,
        (target[0], carry),
        home,
    )
    closure = (0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0)
    return Motion(times=_jittered_times(_REFERENCE_TIMES, rng), points=points, closure=closure)


def alternate_motion(*, look: TaskLook, succeed: bool, seed: int, shake: float = 0.0) -> Motion:
    """A visibly different way of moving: other start, other timing, a sway, other end point.

    With `succeed` the arm still puts the object into the box; without it the arm never
    touches the object.
    """
    rng = derive_rng(seed, "alternate")
    radius = look.object_radius
    side = look.direction
    start = (look.shoulder_x + side * 0.22, 0.8)
    high = look.rim_y + radius + FINGER_DROP + 0.3
    end = (look.shoulder_x - side * 0.25, 0.85)
    pick = (look.pick_x, TABLE_Y + radius + FINGER_DROP)
    inside = (look.container_x, look.floor_top + radius + FINGER_DROP + 0.015)
    if succeed:
        # The palm rests on the object a while after closing, so even a 12-frame clip sees the grasp.
        times = (0.0, 0.1, 0.17, 0.24, 0.3, 0.4, 0.7, 0.8, 0.84, 0.92, 1.0)
        points = (
            start,
            (pick[0], high),
            pick,
            pick,
            pick,
            (pick[0], high),
            (inside[0], high),
            inside,
            inside,
            (inside[0], high),
            end,
        )
        closure = (0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0)
    else:
        far = look.container_x + side * (look.container_half_width + 0.12)
        times = (0.0, 0.2, 0.35, 0.45, 0.55, 0.7, 0.8, 0.9, 1.0)
        points = (
            start,
            (inside[0], high),
            inside,
            inside,
            (inside[0], high),
            (far, high - 0.1),
            (far, TABLE_Y + radius + FINGER_DROP + 0.03),
            (far, high),
            end,
        )
        closure = (0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    return Motion(
        times=times,
        points=points,
        closure=closure,
        wiggle=0.05,
        shake=shake,
        shake_seed=int(rng.integers(0, 2**31)),
    )


def _eased(times: np.ndarray, values: np.ndarray, s: np.ndarray) -> np.ndarray:
    segment = np.clip(np.searchsorted(times, s, side="right") - 1, 0, len(times) - 2)
    start, stop = times[segment], times[segment + 1]
    u = np.clip((s - start) / np.maximum(stop - start, 1e-9), 0.0, 1.0)
    u = u * u * (3.0 - 2.0 * u)
    return values[segment] + u[:, None] * (values[segment + 1] - values[segment])


def arm_track(*, look: TaskLook, motion: Motion, n_frames: int) -> ArmTrack:
    """Per-frame palm, elbow and gripper closure for a motion."""
    s = np.linspace(0.0, 1.0, n_frames)
    times = np.asarray(motion.times, dtype=np.float64)
    palm = _eased(times, np.asarray(motion.points, dtype=np.float64), s)
    closure = _eased(times, np.asarray(motion.closure, dtype=np.float64)[:, None], s)[:, 0]
    steady = _steady_weight(closure)
    if motion.wiggle:
        sway = np.sin(2.0 * math.pi * 3.0 * s) * np.sin(math.pi * s)
        palm[:, 0] += motion.wiggle * sway * steady
    if motion.shake:
        rng = np.random.default_rng(motion.shake_seed)
        jumps = rng.uniform(-1.0, 1.0, size=(n_frames // 3 + 1, 2))
        palm += motion.shake * np.repeat(jumps, 3, axis=0)[:n_frames] * steady[:, None]
    shoulder = np.array([look.shoulder_x, SHOULDER_Y])
    elbow = _elbow(shoulder, palm, look.direction)
    return ArmTrack(shoulder=shoulder, elbow=elbow, palm=palm, closure=closure)


def _steady_weight(closure: np.ndarray) -> np.ndarray:
    """1 away from grasp and release, easing to 0 around them, so that sways and jumps never
    make the gripper miss or drop what the motion means it to."""
    changing = (np.abs(np.diff(closure, prepend=closure[0])) > 1e-3).astype(float)
    near = np.convolve(changing, np.ones(5), mode="same") > 0
    return 1.0 - np.clip(np.convolve(near.astype(float), np.ones(5) / 3.0, mode="same"), 0.0, 1.0)


def _elbow(shoulder: np.ndarray, palm: np.ndarray, bend: int) -> np.ndarray:
    offset = palm - shoulder
    distance = np.clip(np.hypot(offset[:, 0], offset[:, 1]), 1e-3, UPPER_ARM + FOREARM - 1e-3)
    cos_angle = (UPPER_ARM**2 + distance**2 - FOREARM**2) / (2.0 * UPPER_ARM * distance)
    angle = np.arctan2(offset[:, 1], offset[:, 0]) + bend * np.arccos(np.clip(cos_angle, -1.0, 1.0))
    return shoulder + UPPER_ARM * np.stack([np.cos(angle), np.sin(angle)], axis=1)


# ---------------------------------------------------------------- object


@dataclass(frozen=True)
class ObjectRules:
    """How the object reacts to the gripper; the defaults are plain physics."""

    # How far (in object radii) the held point may be from the object for a grasp to catch it.
    grasp_tolerance: float = 0.6
    # The object slips out of the gripper once the palm passes this x (towards the box).
    drop_at_x: float | None = None
    # After coming to rest outside the box the object hops into it (a world-model error).
    hop_into_container: bool = False


@dataclass(frozen=True)
class ObjectTrack:
    center: np.ndarray  # (T, 2)
    scale: np.ndarray  # (T, 2) horizontal and vertical stretch
    alpha: np.ndarray  # (T,) 0 hidden .. 1 visible
    hidden_below_table: np.ndarray  # (T,) bool: the table hides what is under its surface

    def replaced(self, **changes: np.ndarray) -> ObjectTrack:
        return replace(self, **changes)


def rest_height(look: TaskLook, x: float) -> float:
    inside = (
        look.inner_left + 0.5 * look.object_radius < x < look.inner_right - 0.5 * look.object_radius
    )
    return (look.floor_top if inside else TABLE_Y) + look.object_radius


def simulate_object(*, look: TaskLook, arm: ArmTrack, rules: ObjectRules, fps: int) -> ObjectTrack:
    """Where the object is in every frame: resting, held by the gripper, or falling."""
    dt = 1.0 / fps
    radius = look.object_radius
    n_frames = arm.n_frames
    position = np.array([look.pick_x, TABLE_Y + radius])
    velocity = 0.0
    held = False
    was_closed = False
    hop: tuple[int, np.ndarray] | None = None
    hop_frames = max(3, fps // 2)
    centers = np.empty((n_frames, 2))
    for frame in range(n_frames):
        held_point = arm.palm[frame] - (0.0, FINGER_DROP)
        closed = bool(arm.closure[frame] >= 0.5)
        if closed and not was_closed:
            caught = np.hypot(*(held_point - position)) <= rules.grasp_tolerance * radius
            held = held or bool(caught)
        if held:
            passed_drop = rules.drop_at_x is not None and (
                (arm.palm[frame, 0] - rules.drop_at_x) * look.direction >= 0.0
            )
            if closed and not passed_drop:
                position = held_point.copy()
            else:
                held = False
                velocity = 0.0
                if passed_drop:
                    # It slips at the drop point, not where the previous frame left it.
                    position = held_point.copy()
                    rules = replace(rules, drop_at_x=None)
        if not held and hop is None:
            floor = rest_height(look, float(position[0]))
            if position[1] > floor:
                velocity -= GRAVITY * dt
                position[1] = max(floor, position[1] + velocity * dt)
            else:
                velocity = 0.0
                if rules.hop_into_container and not in_container(look, position):
                    hop = (frame, position.copy())
        if hop is not None:
            position = _hop_position(look, start=hop[1], progress=(frame - hop[0]) / hop_frames)
        centers[frame] = position
        was_closed = closed
    return ObjectTrack(
        center=centers,
        scale=np.ones((n_frames, 2)),
        alpha=np.ones(n_frames),
        hidden_below_table=np.zeros(n_frames, dtype=bool),
    )


def _hop_position(look: TaskLook, *, start: np.ndarray, progress: float) -> np.ndarray:
    u = min(max(progress, 0.0), 1.0)
    goal = np.array([look.container_x, look.floor_top + look.object_radius])
    lift = (look.rim_y + 0.1 - goal[1]) * 4.0 * u * (1.0 - u)
    return start + u * (goal - start) + np.array([0.0, lift])


def in_container(look: TaskLook, position: np.ndarray) -> bool:
    return bool(look.inner_left < position[0] < look.inner_right and position[1] < look.rim_y)


def final_state(*, look: TaskLook, track: ObjectTrack) -> str:
    """'in_container', 'outside' or 'vanished': what the last frame shows."""
    if track.alpha[-1] < 0.5:
        return "vanished"
    return "in_container" if in_container(look, track.center[-1]) else "outside"


# ---------------------------------------------------------------- drawing
#
# Images are channel-first float32 arrays (3, T, H, W) in 0..255: numpy is slow when the last
# axis has length 3, and the encoder takes planar frames anyway. Cameras do not roll, so world
# x depends on the column only and y on the row only: grids are (T, 1, W) and (T, H, 1), and
# most arithmetic stays small until two of them meet.

_HIGH_CENTER = (0.5, 0.57)
_HIGH_HALF_SPAN = 0.45
# (offset of the view centre from the palm, half span) of each wrist camera.
_WRIST_RIGS = {
    "cam_left_wrist": ((-0.03, -0.07), 0.16),
    "cam_right_wrist": ((0.04, -0.05), 0.22),
}
_CAMERA_TINT = {
    "cam_high": (1.0, 1.0, 1.0),
    "cam_left_wrist": (1.06, 1.0, 0.92),
    "cam_right_wrist": (0.93, 1.0, 1.07),
}
_GRIPPER_COLOR = (70.0, 72.0, 78.0)


@dataclass(frozen=True)
class ViewLayers:
    """One camera's view of everything but the object, ready to composite the object into.

    Images here already carry the camera's vignette and tint.
    """

    camera: str
    x: np.ndarray  # (T or 1, 1, W) world x of each column
    y: np.ndarray  # (T or 1, H, 1) world y of each row
    pixel: float  # world size of one pixel, for anti-aliasing
    backdrop: np.ndarray  # (3, T or 1, H, W) background, table and box
    without_object: np.ndarray  # (3, T, H, W) the backdrop with the arm over it
    arm_alpha: np.ndarray  # (T, H, W)
    finish: np.ndarray  # (3, 1, H, W) vignette and tint of this camera


def _column(values: np.ndarray) -> np.ndarray:
    """Per-frame scalars shaped to broadcast against (T, H, W)."""
    return np.asarray(values, dtype=np.float32).reshape(-1, 1, 1)


def _grid(center: np.ndarray, half_span: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    steps = ((np.arange(size, dtype=np.float32) + 0.5) / size * 2.0 - 1.0) * np.float32(half_span)
    x = _column(center[:, 0]) + steps[None, None, :]
    y = _column(center[:, 1]) - steps[None, :, None]
    return x, y


def _cover(signed_distance: np.ndarray, pixel: float) -> np.ndarray:
    return np.clip(0.5 - signed_distance * np.float32(1.0 / pixel), 0.0, 1.0)


def _rect(x: np.ndarray, y: np.ndarray, cx, cy, hx: float, hy: float) -> np.ndarray:
    return np.maximum(np.abs(x - cx) - np.float32(hx), np.abs(y - cy) - np.float32(hy))


def _distance(x: np.ndarray, y: np.ndarray, point: np.ndarray) -> np.ndarray:
    dx = x - _column(point[:, 0])
    dy = y - _column(point[:, 1])
    return np.sqrt(dx * dx + dy * dy)


def _capsule(
    x: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray, radius: float
) -> np.ndarray:
    """Signed distance to a thick segment from a[t] to b[t]; a and b are (T, 2)."""
    bax = _column(b[:, 0] - a[:, 0])
    bay = _column(b[:, 1] - a[:, 1])
    inverse_length = 1.0 / (bax * bax + bay * bay + np.float32(1e-9))
    px = x - _column(a[:, 0])
    py = y - _column(a[:, 1])
    along = np.clip((px * bax + py * bay) * inverse_length, 0.0, 1.0)
    dx = px - along * bax
    dy = py - along * bay
    return np.sqrt(dx * dx + dy * dy) - np.float32(radius)


def _channels(color: tuple[float, float, float] | np.ndarray) -> np.ndarray:
    return np.asarray(color, dtype=np.float32).reshape(3, 1, 1, 1)


def _backdrop(look: TaskLook, x: np.ndarray, y: np.ndarray, pixel: float) -> np.ndarray:
    frequency = look.background_frequency
    wall_shade = (
        0.86
        + 0.09 * np.sin(frequency * x) * np.cos(0.7 * frequency * y)
        + 0.04 * np.sin(2.3 * frequency * x + 1.0) * np.sin(1.9 * frequency * y)
    )
    grain = 0.9 + 0.05 * np.sin(60.0 * y) + 0.03 * np.sin(23.0 * x) * np.cos(7.0 * y)
    on_table = _cover(y - TABLE_Y, pixel)
    shade = wall_shade * (1.0 - on_table)
    table_shade = grain * on_table
    image = shade[None] * _channels(look.background_color) + table_shade[None] * _channels(
        look.table_color
    )
    edge = _cover(np.abs(y - TABLE_Y) - 0.004, pixel)
    image += edge[None] * (_channels(look.table_color) * 0.55 - image)

    half_width, height = look.container_half_width, look.container_height
    middle = TABLE_Y + height / 2
    inside = _cover(_rect(x, y, look.container_x, middle, half_width, height / 2), pixel)
    image += (0.6 * inside)[None] * (_channels(look.container_color) * 0.45 - image)
    side_x = half_width - WALL / 2
    walls = np.minimum(
        np.minimum(
            _rect(x, y, look.container_x - side_x, middle, WALL / 2, height / 2),
            _rect(x, y, look.container_x + side_x, middle, WALL / 2, height / 2),
        ),
        _rect(x, y, look.container_x, TABLE_Y + WALL / 2, half_width, WALL / 2),
    )
    image += _cover(walls, pixel)[None] * (_channels(look.container_color) - image)
    return image.astype(np.float32)


def _arm_layer(
    look: TaskLook, arm: ArmTrack, x: np.ndarray, y: np.ndarray, pixel: float
) -> tuple[np.ndarray, np.ndarray]:
    n_frames = arm.n_frames
    shoulder = np.broadcast_to(arm.shoulder, (n_frames, 2))
    radius = look.object_radius
    open_half = radius + 0.035
    finger_half = open_half - arm.closure * (open_half - (radius + 0.008))
    finger_length = FINGER_DROP + 0.8 * radius
    palm_x, palm_y = _column(arm.palm[:, 0]), _column(arm.palm[:, 1])

    links = _cover(
        np.minimum(
            _capsule(x, y, shoulder, arm.elbow, 0.032), _capsule(x, y, arm.elbow, arm.palm, 0.026)
        ),
        pixel,
    )
    joints = _cover(
        np.minimum(_distance(x, y, arm.elbow), _distance(x, y, shoulder)) - 0.018, pixel
    )
    # The gripper always points down, so its bar and fingers are axis-aligned boxes.
    finger_y = palm_y - np.float32(finger_length / 2)
    spread = _column(finger_half)
    fingers = np.minimum(
        _rect(x, y, palm_x - spread, finger_y, 0.009, finger_length / 2),
        _rect(x, y, palm_x + spread, finger_y, 0.009, finger_length / 2),
    )
    gripper = _cover(
        np.minimum(fingers, _rect(x, y, palm_x, palm_y, open_half + 0.012, 0.011)), pixel
    )

    # Painter's order links, joints, gripper, folded into one premultiplied layer.
    gripper_weight = gripper
    joint_weight = joints * (1.0 - gripper)
    link_weight = links * (1.0 - joints) * (1.0 - gripper)
    arm_color = _channels(look.arm_color)
    rgb = (
        link_weight[None] * arm_color
        + joint_weight[None] * (arm_color * 0.55)
        + gripper_weight[None] * _channels(_GRIPPER_COLOR)
    )
    alpha = link_weight + joint_weight + gripper_weight
    return rgb.astype(np.float32), alpha.astype(np.float32)


def _finish(camera: str, size: int) -> np.ndarray:
    steps = (np.arange(size, dtype=np.float32) + 0.5) / size * 2.0 - 1.0
    falloff = 0.12 if camera == "cam_high" else 0.3
    vignette = 1.0 - falloff * (steps[None, :] ** 2 + steps[:, None] ** 2) / 2.0
    return (vignette[None, None] * _channels(_CAMERA_TINT[camera])).astype(np.float32)


# World area a wrist camera can look at; its backdrop is drawn once per task over this area
# and each frame takes a window of it, so the camera moves in whole pixels.
_CANVAS_X = (-0.4, 1.4)
_CANVAS_Y = (-0.2, 1.4)


@lru_cache(maxsize=64)
def _canvas(look: TaskLook, pixel: float) -> np.ndarray:
    columns = int(round((_CANVAS_X[1] - _CANVAS_X[0]) / pixel))
    rows = int(round((_CANVAS_Y[1] - _CANVAS_Y[0]) / pixel))
    x = (_CANVAS_X[0] + (np.arange(columns, dtype=np.float32) + 0.5) * pixel)[None, None, :]
    y = (_CANVAS_Y[1] - (np.arange(rows, dtype=np.float32) + 0.5) * pixel)[None, :, None]
    return _backdrop(look, x.astype(np.float32), y.astype(np.float32), pixel)[:, 0]


@lru_cache(maxsize=64)
def _high_backdrop(look: TaskLook, view_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, y = _grid(np.asarray([_HIGH_CENTER]), _HIGH_HALF_SPAN, view_size)
    backdrop = _backdrop(look, x, y, 2.0 * _HIGH_HALF_SPAN / view_size) * _finish(
        "cam_high", view_size
    )
    for array in (x, y, backdrop):
        array.flags.writeable = False
    return x, y, backdrop


def _wrist_view(
    look: TaskLook, camera: str, palm: np.ndarray, view_size: int
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    offset, half_span = _WRIST_RIGS[camera]
    pixel = 2.0 * half_span / view_size
    canvas = _canvas(look, pixel)
    corner_x = palm[:, 0] + offset[0] - half_span
    corner_y = palm[:, 1] + offset[1] + half_span
    column = np.clip(
        np.rint((corner_x - _CANVAS_X[0]) / pixel), 0, canvas.shape[2] - view_size
    ).astype(int)
    row = np.clip(
        np.rint((_CANVAS_Y[1] - corner_y) / pixel), 0, canvas.shape[1] - view_size
    ).astype(int)
    snapped = np.stack(
        [
            _CANVAS_X[0] + column * pixel + half_span,
            _CANVAS_Y[1] - row * pixel - half_span,
        ],
        axis=1,
    )
    x, y = _grid(snapped, half_span, view_size)
    backdrop = np.stack(
        [canvas[:, r : r + view_size, c : c + view_size] for r, c in zip(row, column, strict=True)],
        axis=1,
    )
    return x, y, pixel, backdrop * _finish(camera, view_size)


def view_layers(
    *, look: TaskLook, arm: ArmTrack, view_size: int, cameras: tuple[str, ...] = CAMERAS
) -> dict[str, ViewLayers]:
    """Draw everything but the object for each camera: the high camera is fixed, the wrist
    cameras ride on the gripper."""
    layers: dict[str, ViewLayers] = {}
    for camera in cameras:
        if camera == "cam_high":
            x, y, backdrop = _high_backdrop(look, view_size)
            pixel = 2.0 * _HIGH_HALF_SPAN / view_size
        elif camera in _WRIST_RIGS:
            x, y, pixel, backdrop = _wrist_view(look, camera, arm.palm, view_size)
        else:
            raise DemoRenderError(f"unknown camera {camera!r}; expected one of {CAMERAS}")
        finish = _finish(camera, view_size)
        arm_rgb, arm_alpha = _arm_layer(look, arm, x, y, pixel)
        without_object = backdrop * (1.0 - arm_alpha)[None]
        without_object += arm_rgb * finish
        layers[camera] = ViewLayers(
            camera=camera,
            x=x,
            y=y,
            pixel=pixel,
            backdrop=backdrop,
            without_object=without_object,
            arm_alpha=arm_alpha,
            finish=finish,
        )
    return layers


def compose(*, layers: ViewLayers, look: TaskLook, track: ObjectTrack) -> np.ndarray:
    """The camera's frames as float32 (3, T, H, W) in 0..255, the object between box and arm.

    Only the rows and columns the object can reach are touched.
    """
    image = layers.without_object.copy()
    radius = look.object_radius
    reach = radius * track.scale.max(axis=1) + 2.0 * layers.pixel
    visible = track.alpha > 0.0
    if not visible.any():
        return image
    center = track.center
    xs = np.broadcast_to(layers.x[:, 0, :], (center.shape[0], layers.x.shape[2]))
    ys = np.broadcast_to(layers.y[:, :, 0], (center.shape[0], layers.y.shape[1]))
    near_x = (np.abs(xs - center[:, 0:1]) <= reach[:, None]) & visible[:, None]
    near_y = (np.abs(ys - center[:, 1:2]) <= reach[:, None]) & visible[:, None]
    columns = np.flatnonzero(near_x.any(axis=0))
    rows = np.flatnonzero(near_y.any(axis=0))
    if columns.size == 0 or rows.size == 0:
        return image
    c0, c1 = int(columns[0]), int(columns[-1]) + 1
    r0, r1 = int(rows[0]), int(rows[-1]) + 1
    x = layers.x[:, :, c0:c1]
    y = layers.y[:, r0:r1, :]

    half_x = _column(radius * track.scale[:, 0])
    half_y = _column(radius * track.scale[:, 1])
    dx = (x - _column(center[:, 0])) / half_x
    dy = (y - _column(center[:, 1])) / half_y
    if look.object_shape == "disc":
        norm = np.sqrt(dx * dx + dy * dy)
    else:
        norm = np.maximum(np.abs(dx), np.abs(dy))
    cover = _cover((norm - 1.0) * np.minimum(half_x, half_y), layers.pixel) * _column(track.alpha)
    if track.hidden_below_table.any():
        cover = np.where(_column(track.hidden_below_table) * (y < TABLE_Y) > 0, 0.0, cover)
    cover *= 1.0 - layers.arm_alpha[:, r0:r1, c0:c1]
    # Light from the upper left gives the flat shape some volume.
    lx, ly = dx + 0.35, dy - 0.35
    shade = np.clip(1.12 - 0.28 * np.sqrt(lx * lx + ly * ly), 0.55, 1.15)
    finish = layers.finish[:, :, r0:r1, c0:c1]
    backdrop = layers.backdrop[:, :, r0:r1, c0:c1]
    image[:, :, r0:r1, c0:c1] += cover[None] * (
        shade[None] * _channels(look.object_color) * finish - backdrop
    )
    return image
