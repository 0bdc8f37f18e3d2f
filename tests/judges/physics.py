"""Real-physics footage with 0-3 labels known by construction (PyBullet, CPU renderer).

A KUKA iiwa arm pushes a box across the floor; rigid-body dynamics and contacts are
PyBullet's, frames come from its TinyRenderer (no GPU or GL needed) through three
cameras laid side by side, like the challenge's clips. Each episode (a seed: box size,
colour and place, push direction and length, camera placement) has one reference and
a generated clip per kind below, whose category follows from how it was made:

- 3: `noise` (the same episode with rendering noise: exposure, white balance, sensor
  noise, light direction, a camera nudged by a centimetre) and `timing` (re-simulated
  with the arm 8% faster) - nothing an annotator would mark down.
- 2: the final state matches but the episode is not clean: `stretch` (the box deforms
  while pushed), `teleport` (it jumps aside for a few frames), `sink` (it sinks into
  the floor and rises again), `flicker` (it blinks out every other frame), `detour`
  (after the same push, the arm swings back by another path).
- 1: the arm moves as in the reference but the outcome differs: `short` (the push stops
  at a third of its length), `vanish` (the box is gone at the end).
- 0: `other` (the arm pushes in another direction: other motion, other outcome).

Visual-only kinds replay the reference's recorded states with the change applied, so
they differ from it in nothing else.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from tests.judges.clips import write_clip

KINDS: dict[str, int] = {
    "noise": 3,
    "timing": 3,
    "stretch": 2,
    "teleport": 2,
    "sink": 2,
    "flicker": 2,
    "detour": 2,
    "short": 1,
    "vanish": 1,
    "other": 0,
}
FRAMES = 36
FPS = 12
SIM_RATE = 240
END_EFFECTOR = 6  # the iiwa's flange link
DOWN = (0.0, math.pi, 0.0)  # end-effector orientation pointing at the floor (Euler)
HIDDEN = (0.0, 0.0, -5.0)  # where a body goes to be out of every camera's sight
# Null-space inverse kinematics keeps the arm in its joint limits, elbow up, near a rest pose.
LOWER = [-0.967, -2.0, -2.96, 0.19, -2.96, -2.09, -3.05]
UPPER = [0.967, 2.0, 2.96, 2.29, 2.96, 2.09, 3.05]
RANGES = [5.8, 4.0, 5.8, 4.0, 5.8, 4.0, 6.0]
REST = [0.0, 0.0, 0.0, 0.5 * math.pi, 0.0, -0.33 * math.pi, 0.0]


@dataclass(frozen=True)
class Episode:
    seed: int
    box_half: float  # half edge of the cube, metres
    colour: tuple[float, float, float]
    start: tuple[float, float]  # box position on the floor
    direction: float  # push direction, radians, 0 = away from the robot
    length: float  # push length, metres
    speed: float = 1.0  # 1.0: the motion takes the whole clip
    detour: float = 0.0  # sideways detour of the approach and return, metres
    cameras: tuple[tuple[float, float, float], ...] = ()


def episode(seed: int) -> Episode:
    """A random but reproducible episode."""
    rng = np.random.default_rng(seed)
    cameras = tuple(
        (
            float(0.6 + radius * math.cos(angle)),
            float(radius * math.sin(angle)),
            float(height),
        )
        for angle, radius, height in (
            (rng.uniform(-0.3, 0.3), rng.uniform(0.6, 0.7), rng.uniform(0.4, 0.5)),
            (rng.uniform(1.2, 1.7), rng.uniform(0.55, 0.65), rng.uniform(0.35, 0.45)),
            (rng.uniform(-1.7, -1.2), rng.uniform(0.3, 0.4), rng.uniform(0.7, 0.8)),
        )
    )
    return Episode(
        seed=seed,
        box_half=float(rng.uniform(0.035, 0.045)),
        colour=colorsys.hsv_to_rgb(float(rng.uniform(0.0, 1.0)), 0.85, 0.95),
        start=(float(rng.uniform(0.5, 0.58)), float(rng.uniform(-0.08, 0.08))),
        direction=float(rng.uniform(-0.5, 0.5)),
        length=float(rng.uniform(0.13, 0.2)),
        cameras=cameras,
    )


@dataclass(frozen=True)
class Trajectory:
    """Recorded states at each frame: arm joint angles and the box's pose."""

    joints: np.ndarray  # (frames, joints)
    box_position: np.ndarray  # (frames, 3)
    box_orientation: np.ndarray  # (frames, 4)


def _smooth(u: float) -> float:
    u = min(1.0, max(0.0, u))
    return u * u * (3 - 2 * u)


def _waypoints(ep: Episode) -> list[tuple[float, tuple[float, float, float]]]:
    """(phase in [0, 1], end-effector target) of a push along the episode's direction."""
    dx, dy = math.cos(ep.direction), math.sin(ep.direction)
    back = ep.box_half + 0.06
    x0, y0 = ep.start[0] - back * dx, ep.start[1] - back * dy
    x1, y1 = x0 + ep.length * dx, y0 + ep.length * dy
    low, high = ep.box_half + 0.02, 0.35
    home = (0.35, 0.0, 0.5)
    # A detour passes by a point off to the side of the straight return, after the push.
    side = (-dy * ep.detour, dx * ep.detour)
    approach_mid = ((home[0] + x0) / 2, (home[1] + y0) / 2, 0.45)
    return_mid = ((home[0] + x1) / 2 + side[0], (home[1] + y1) / 2 + side[1], 0.45)
    return [
        (0.0, home),
        (0.14, approach_mid),
        (0.28, (x0, y0, high)),
        (0.38, (x0, y0, low)),
        (0.7, (x1, y1, low)),
        (0.78, (x1, y1, high)),
        (0.89, return_mid),
        (1.0, home),
    ]


def _target(ep: Episode, phase: float) -> tuple[float, float, float]:
    points = _waypoints(ep)
    for (t0, p0), (t1, p1) in zip(points, points[1:], strict=False):
        if phase <= t1:
            u = _smooth((phase - t0) / (t1 - t0))
            return tuple(a + (b - a) * u for a, b in zip(p0, p1, strict=True))  # type: ignore[return-value]
    return points[-1][1]


class _World:
    """A PyBullet world of its own (DIRECT mode: no window, no GL)."""

    def __init__(self, ep: Episode) -> None:
        import pybullet
        import pybullet_data

        self.p = pybullet
        self.client = pybullet.connect(pybullet.DIRECT)
        p, c = self.p, self.client
        p.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=c)
        p.setGravity(0, 0, -9.81, physicsClientId=c)
        p.setTimeStep(1.0 / SIM_RATE, physicsClientId=c)
        p.loadURDF("plane.urdf", physicsClientId=c)
        self.arm = p.loadURDF(
            "kuka_iiwa/model.urdf", [0, 0, 0], useFixedBase=True, physicsClientId=c
        )
        self.joints = p.getNumJoints(self.arm, physicsClientId=c)
        half = [ep.box_half] * 3
        colour = [*ep.colour, 1.0]
        shape = p.createCollisionShape(p.GEOM_BOX, halfExtents=half, physicsClientId=c)
        look = p.createVisualShape(
            p.GEOM_BOX, halfExtents=half, rgbaColor=colour, physicsClientId=c
        )
        self.box = p.createMultiBody(
            0.3, shape, look, [ep.start[0], ep.start[1], ep.box_half], physicsClientId=c
        )
        p.changeDynamics(self.box, -1, lateralFriction=0.5, physicsClientId=c)
        # Visual-only stand-in for a deformed box (stretched up, squeezed sideways).
        stretched = [ep.box_half * 0.7, ep.box_half * 0.7, ep.box_half * 1.7]
        self.stretched = p.createMultiBody(
            0,
            -1,
            p.createVisualShape(
                p.GEOM_BOX, halfExtents=stretched, rgbaColor=colour, physicsClientId=c
            ),
            HIDDEN,
            physicsClientId=c,
        )

    def close(self) -> None:
        self.p.disconnect(self.client)

    def set_arm(self, angles: np.ndarray) -> None:
        for joint, angle in enumerate(angles):
            self.p.resetJointState(self.arm, joint, float(angle), physicsClientId=self.client)

    def _solve(self, target: tuple[float, float, float]) -> list[float]:
        p = self.p
        return p.calculateInverseKinematics(
            self.arm,
            END_EFFECTOR,
            target,
            p.getQuaternionFromEuler(DOWN),
            lowerLimits=LOWER,
            upperLimits=UPPER,
            jointRanges=RANGES,
            restPoses=REST,
            maxNumIterations=50,
            residualThreshold=1e-4,
            physicsClientId=self.client,
        )

    def simulate(self, ep: Episode) -> Trajectory:
        p, c = self.p, self.client
        self.set_arm(np.array(REST))
        for _ in range(3):
            self.set_arm(np.array(self._solve(_target(ep, 0.0))))
        steps_per_frame = SIM_RATE // FPS
        joints, positions, orientations = [], [], []
        for step in range((FRAMES - 1) * steps_per_frame + 1):
            phase = min(1.0, step / ((FRAMES - 1) * steps_per_frame) / ep.speed)
            if step % steps_per_frame == 0:
                states = p.getJointStates(self.arm, range(self.joints), physicsClientId=c)
                joints.append([state[0] for state in states])
                position, quaternion = p.getBasePositionAndOrientation(self.box, physicsClientId=c)
                positions.append(position)
                orientations.append(quaternion)
            angles = self._solve(_target(ep, phase))
            p.setJointMotorControlArray(
                self.arm,
                range(self.joints),
                p.POSITION_CONTROL,
                targetPositions=angles,
                forces=[500.0] * self.joints,
                positionGains=[0.6] * self.joints,
                physicsClientId=c,
            )
            p.stepSimulation(physicsClientId=c)
        return Trajectory(np.array(joints), np.array(positions), np.array(orientations))

    def render(
        self, ep: Episode, *, view: int, camera_shift: float, light: tuple[float, float, float]
    ) -> np.ndarray:
        p, c = self.p, self.client
        images = []
        projection = p.computeProjectionMatrixFOV(55, 1.0, 0.05, 5.0, physicsClientId=c)
        for eye in ep.cameras:
            moved = (eye[0] + camera_shift, eye[1] - camera_shift, eye[2])
            matrix = p.computeViewMatrix(moved, (0.58, 0.0, 0.1), (0, 0, 1), physicsClientId=c)
            _, _, rgba, _, _ = p.getCameraImage(
                view,
                view,
                matrix,
                projection,
                lightDirection=light,
                shadow=0,
                renderer=p.ER_TINY_RENDERER,
                physicsClientId=c,
            )
            images.append(np.asarray(rgba, dtype=np.uint8).reshape(view, view, 4)[..., :3])
        return np.concatenate(images, axis=1)


def _visual_edit(kind: str, frame: int) -> str:
    """What a visual-only kind does to the box at `frame`: keep, hide, stretch, lift or sink."""
    u = frame / (FRAMES - 1)
    if kind == "stretch" and 0.42 <= u <= 0.68:
        return "stretch"
    if kind == "teleport" and 0.48 <= u <= 0.58:
        return "teleport"
    if kind == "sink" and 0.45 <= u <= 0.7:
        return "sink"
    if kind == "flicker" and 0.35 <= u <= 0.75 and frame % 2 == 1:
        return "hide"
    if kind == "vanish" and u >= 0.8:
        return "hide"
    return "keep"


def _frames(
    world: _World, ep: Episode, trajectory: Trajectory, *, kind: str, view: int, noisy: bool
) -> list[np.ndarray]:
    p, c = world.p, world.client
    rng = np.random.default_rng(ep.seed * 1000 + sorted(KINDS).index(kind) if noisy else 0)
    camera_shift = float(rng.uniform(-0.01, 0.01)) if noisy else 0.0
    light = (
        (float(rng.uniform(0.5, 1.5)), float(rng.uniform(-0.5, 0.5)), 2.0) if noisy else (1, 0.3, 2)
    )
    gain = rng.uniform(0.92, 1.08, 3) if noisy else np.ones(3)
    frames = []
    for index in range(FRAMES):
        world.set_arm(trajectory.joints[index])
        position = trajectory.box_position[index].copy()
        orientation = trajectory.box_orientation[index]
        edit = _visual_edit(kind, index)
        if edit == "teleport":
            position[:2] += (0.0, 0.12)
        elif edit == "sink":
            position[2] -= 1.4 * ep.box_half
        stand_in = HIDDEN
        if edit in ("hide", "stretch"):
            if edit == "stretch":
                stand_in = (position[0], position[1], 1.7 * ep.box_half)
            position = np.array(HIDDEN)
        p.resetBasePositionAndOrientation(world.box, position, orientation, physicsClientId=c)
        p.resetBasePositionAndOrientation(world.stretched, stand_in, orientation, physicsClientId=c)
        image = world.render(ep, view=view, camera_shift=camera_shift, light=light)
        if noisy:
            image = image.astype(np.float32) * gain + rng.normal(0.0, 2.0, image.shape)
            image = np.clip(image, 0, 255).astype(np.uint8)
        frames.append(image)
    return frames


def _write(path: Path, frames: list[np.ndarray]) -> Path:
    return write_clip(
        path, frame_at=lambda t: frames[round(t * (len(frames) - 1))], frames=len(frames), fps=FPS
    )


def render_episode(
    folder: Path, seed: int, *, kinds: tuple[str, ...] = tuple(KINDS), view: int = 96
) -> list[tuple[Path, Path, str, int]]:
    """Write one episode's reference and generated clips: (reference, generated, kind, category)."""
    ep = episode(seed)
    world = _World(ep)
    try:
        reference_states = world.simulate(ep)
        reference = _write(
            folder / f"ep{seed}_reference.mp4",
            _frames(world, ep, reference_states, kind="reference", view=view, noisy=False),
        )
        written = []
        for kind in kinds:
            states = reference_states
            changed = {"timing": {"speed": 0.92}, "detour": {"detour": 0.35}}.get(kind)
            if kind == "short":
                changed = {"length": ep.length * 0.35}
            if kind == "other":
                changed = {"direction": ep.direction + math.pi / 2, "detour": -0.15}
            if changed is not None:
                # A new world: the reference's run left the box where it pushed it.
                other = _World(ep)
                try:
                    states = other.simulate(replace(ep, **changed))
                finally:
                    other.close()
            generated = _write(
                folder / f"ep{seed}_{kind}.mp4",
                _frames(world, ep, states, kind=kind, view=view, noisy=True),
            )
            written.append((reference, generated, kind, KINDS[kind]))
        return written
    finally:
        world.close()
