"""A small pick-and-place scene with labelled 0-3 variants, independent of the demo renderer.

It gives the judge tests footage with a look of its own: if the judge only worked on
the demo renderer's footage, these tests would show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.judges.clips import FrameAt, write_clip

VIEW = 96
Point = tuple[float, float]


@dataclass(frozen=True)
class Episode:
    start: Point  # where the object starts (view fractions)
    target: Point  # where the reference puts it
    home: Point  # where the gripper rests


def _lerp(a: Point, b: Point, u: float) -> Point:
    u = min(1.0, max(0.0, u))
    u = u * u * (3 - 2 * u)  # ease in and out, like a real arm
    return (a[0] + (b[0] - a[0]) * u, a[1] + (b[1] - a[1]) * u)


def _gripper(episode: Episode, t: float, *, via: Point | None = None) -> Point:
    grasp = via or episode.start
    if t < 0.3:
        return _lerp(episode.home, grasp, t / 0.3)
    if t < 0.7:
        return _lerp(grasp, episode.target, (t - 0.3) / 0.4)
    return _lerp(episode.target, episode.home, (t - 0.7) / 0.3)


def _disk(image: np.ndarray, centre: Point, radius: float, colour: tuple[int, int, int]) -> None:
    height, width = image.shape[:2]
    cx, cy, r = centre[0] * width, centre[1] * height, radius * width
    x0, x1 = max(0, int(cx - r)), min(width, int(cx + r) + 2)
    y0, y1 = max(0, int(cy - r)), min(height, int(cy + r) + 2)
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.ogrid[y0:y1, x0:x1]
    mask = (xx - cx) ** 2 + (yy - cy) ** 2 <= r**2
    image[y0:y1, x0:x1][mask] = colour


def _arm(image: np.ndarray, base: Point, tip: Point) -> None:
    height, width = image.shape[:2]
    for u in np.linspace(0.0, 1.0, 16):
        point = (base[0] + (tip[0] - base[0]) * u, base[1] + (tip[1] - base[1]) * u)
        _disk(image, point, 0.035, (40, 40, 48))
    _disk(image, tip, 0.05, (90, 90, 110))


def scene(
    *,
    episode: Episode,
    seed: int,
    views: int = 3,
    carried: bool = True,
    via: Point | None = None,
    vanish_after: float | None = None,
    flicker: float = 0.0,
    deform: float = 0.0,
    time_warp: float = 0.0,
    chaos: float = 0.0,
    noise: float = 2.0,
) -> FrameAt:
    """Frames of one episode; the keyword arguments make the generated variants."""
    rng = np.random.default_rng(seed)
    backgrounds = []
    for view in range(views):
        yy, xx = np.mgrid[0:VIEW, 0:VIEW] / VIEW
        tone = 110 + 50 * np.sin(3 * xx + view) * np.cos(2 * yy)
        texture = rng.normal(0, 6, (VIEW, VIEW))
        base = np.clip(np.stack([tone + texture, tone * 0.9 + texture, tone * 0.8], -1), 0, 255)
        backgrounds.append(base.astype(np.uint8))
    chaos_field = rng.integers(0, 255, (VIEW, VIEW * views, 3), dtype=np.uint8)
    frame_rng = np.random.default_rng(seed + 1)

    def frame_at(t: float) -> np.ndarray:
        t_eff = min(1.0, max(0.0, t + time_warp * np.sin(np.pi * t)))
        tiles = []
        for view in range(views):
            image = backgrounds[view].copy()

            # Each camera sees the table from its own angle: mirror and shift the layout.
            def place(p: Point, view: int = view) -> Point:
                x, y = p
                if view == 1:
                    x = 1.0 - x
                if view == 2:
                    x, y = 0.15 + 0.7 * x, 0.2 + 0.6 * y
                return (x, y)

            tip = _gripper(episode, t_eff, via=via)
            if not carried or t_eff < 0.3:
                obj = episode.start
            elif t_eff < 0.7:
                obj = tip
            else:
                obj = episode.target
            _disk(image, place(episode.target), 0.11, (70, 120, 70))  # the basket
            radius = 0.06 * (1.0 + deform * np.sin(6 * np.pi * t_eff) * (0.2 < t_eff < 0.8))
            if vanish_after is None or t_eff < vanish_after:
                _disk(image, place(obj), radius, (235, 200, 40))
            _arm(image, place((0.5, 0.0)), place(tip))
            tiles.append(image)
        frame = np.concatenate(tiles, axis=1).astype(np.float32)
        if flicker:
            frame *= 1.0 + flicker * (1 if int(t * 200) % 2 else -1)
        if chaos:
            frame = (1 - chaos) * frame + chaos * np.roll(chaos_field, int(t * 50), axis=1)
        frame += frame_rng.normal(0, noise, frame.shape)
        return np.clip(frame, 0, 255).astype(np.uint8)

    return frame_at


CATEGORY_VARIANTS: dict[int, list[dict[str, object]]] = {
    3: [{"time_warp": 0.03}, {"time_warp": -0.03}],
    2: [{"flicker": 0.08}, {"deform": 0.6}],
    1: [{"carried": False}, {"vanish_after": 0.85}],
    0: [{"carried": False, "via": (0.8, 0.8)}, {"chaos": 0.8, "carried": False}],
}


def render_labelled_pair(
    *, folder: Path, category: int, seed: int, frames: int = 48, views: int = 3
) -> tuple[Path, Path]:
    """Write a reference and a generated clip whose honest score is `category`."""
    rng = np.random.default_rng(seed)
    episode = Episode(
        start=(float(rng.uniform(0.2, 0.4)), float(rng.uniform(0.5, 0.8))),
        target=(float(rng.uniform(0.6, 0.8)), float(rng.uniform(0.5, 0.8))),
        home=(float(rng.uniform(0.4, 0.6)), 0.25),
    )
    variants = CATEGORY_VARIANTS[category]
    variant = variants[seed % len(variants)]
    reference = write_clip(
        folder / f"ref_{seed}.mp4",
        frame_at=scene(episode=episode, seed=seed, views=views),
        frames=frames,
    )
    generated = write_clip(
        folder / f"gen_{seed}_{category}.mp4",
        frame_at=scene(episode=episode, seed=seed + 1000, views=views, **variant),  # type: ignore[arg-type]
        frames=frames + int(rng.integers(-8, 9)),
    )
    return reference, generated
