"""Judge throughput against decoding alone, and memory against clip length.

    python bench/bench_judge.py [--device cpu|cuda|auto] [--pairs 8] [--frames 72] [--repeats 3]

Writes synthetic clips into a temporary folder, then prints: the peak memory of
decoding one clip 1x, 4x and 16x as long (it must stay flat: the decoder keeps a fixed
number of samples); where the time of one 672x224 clip and pair goes, stage by stage
(CPU time, one thread); pairs/s and frames/s of the baseline judge against merely
decoding the same clips, for distinct 672x224 pairs (three 224x224 views, 24 fps), the
same encoded as the ingest encodes references (x264 `veryfast`, where decoding costs
more), 672x224 clips of four teams per reference (each reference prepared once), and a
demo-size campaign (three 96x96 views, 36 frames, four teams' clips per reference, as
a judge run sees them). Times are the best of `--repeats` runs, wall clock and CPU
time of all threads. "Decode only" is the faster of two plain decodes of the same
files: one file after another with FFmpeg's frame and slice threads, and the judge's
own threading (`decode_workers` files at once, slice threads each).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation.judges import video  # noqa: E402
from evaluation.judges.base import Pair  # noqa: E402
from evaluation.judges.baseline import BaselineJudge  # noqa: E402
from evaluation.judges.video import count_frames, decode_clip  # noqa: E402
from tests.judges.clips import (  # noqa: E402
    decoding_working_set_mib,
    moving_square_scene,
    write_clip,
)


def _best_of(repeats: int, work: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of all threads) of the fastest of `repeats` runs."""
    best = (float("inf"), float("inf"))
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        work()
        best = min(best, (time.perf_counter() - start, time.process_time() - cpu_start))
    return best


def _write_pairs(
    *,
    folder: Path,
    references: int,
    teams: int,
    width: int,
    height: int,
    frames: int,
    preset: str = "ultrafast",
) -> list[Pair]:
    pairs = []
    for index in range(references):
        reference = write_clip(
            folder / f"r{width}_{preset}_{index}.mp4",
            frame_at=moving_square_scene(width=width, height=height, seed=index),
            frames=frames,
            preset=preset,
        )
        for team in range(teams):
            generated = write_clip(
                folder / f"g{width}_{preset}_{index}_{team}.mp4",
                frame_at=moving_square_scene(
                    width=width, height=height, seed=index + 100 * team, reverse=team % 2 == 1
                ),
                frames=frames,
                preset=preset,
            )
            pairs.append(Pair(pair_id=f"{index}-{team}", reference=reference, generated=generated))
    return pairs


def _decode_only(files: list[Path], *, workers: int, repeats: int) -> tuple[str, float, float]:
    """The best plain decode of `files`: (how, wall seconds, CPU seconds).

    Both ways decode every frame and do nothing else: one file after another with
    FFmpeg's own (frame and slice) threads, and the judge's threading.
    """
    sequential = _best_of(repeats, lambda: [count_frames(path) for path in files])
    with ThreadPoolExecutor(max_workers=workers) as pool:
        parallel = _best_of(
            repeats, lambda: list(pool.map(lambda p: count_frames(p, thread_type="SLICE"), files))
        )
    if parallel[0] < sequential[0]:
        return f"{workers} files at once, slice threads", *parallel
    return "one file at a time, frame+slice threads", *sequential


def bench_throughput(
    *, title: str, clip_pairs: list[Pair], frames: int, device: str, shrink: str, repeats: int
) -> None:
    # Decoding alone reads every file the judge reads, each once.
    files = sorted({path for pair in clip_pairs for path in (pair.reference, pair.generated)})
    total_frames = len(files) * frames
    judge = BaselineJudge(device=device, shrink=shrink)
    how, *decode_seconds = _decode_only(files, workers=judge.decode_workers, repeats=repeats)

    judge.judge(clip_pairs[:1])  # warm-up: imports, CUDA context
    verdicts = judge.judge(clip_pairs)
    assert all(verdict.ok for verdict in verdicts), [v.error for v in verdicts if not v.ok]
    judge_seconds = _best_of(repeats, lambda: judge.judge(clip_pairs))

    pairs = len(clip_pairs)
    print(f"\nThroughput: {title}, device={device}, shrink={shrink}, best of {repeats}")
    print(f"(decode only: {how})")
    print(f"{'what':<16}{'seconds':>10}{'CPU s':>8}{'pairs/s':>10}{'frames/s':>11}")
    for name, (seconds, cpu) in (("decode only", decode_seconds), ("judge", judge_seconds)):
        print(
            f"{name:<16}{seconds:>10.2f}{cpu:>8.2f}{pairs / seconds:>10.2f}"
            f"{total_frames / seconds:>11.0f}"
        )
    print(f"judge / decode time ratio: {judge_seconds[0] / decode_seconds[0]:.2f}")
    # On a shared machine the wall ratio moves with other load; CPU time moves less.
    print(f"judge / decode CPU time ratio: {judge_seconds[1] / decode_seconds[1]:.2f}")


def bench_stages(*, clip_pairs: list[Pair], device: str, shrink: str, repeats: int) -> None:
    """Where the time of one clip and one pair goes: CPU milliseconds, one thread, best of runs.

    Each stage includes decoding: decoding alone; decoding and shrinking each frame in
    FFmpeg's scaler (`ScalerShrinker`'s host work); decoding and copying each frame's
    planes into blocks (the host's part of `PlaneShrinker`: the rest is the device's);
    `decode_clip` (decoding, shrinking and the measurements on the shrunk frames); then
    per clip `prepare_clip` and per pair `compare_prepared` alone.
    """
    import av
    import torch

    from evaluation.judges.features import compare_prepared, prepare_clip, resolve_device

    torch_device = resolve_device(device)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    pair = clip_pairs[0]
    path = pair.reference

    def host_shrink(shrinker: video.ScalerShrinker | video.PlaneShrinker) -> None:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "SLICE"
            for frame in container.decode(stream):
                shrinker.push(frame)
                if shrinker.pending == video.DECODE_BLOCK:
                    shrinker.pending = 0  # the block, taken on the device, is not measured

    def cpu_ms(work: Callable[[], object]) -> float:
        best = float("inf")
        for _ in range(max(repeats, 5)):
            start = time.process_time()
            work()
            best = min(best, time.process_time() - start)
        return 1000.0 * best

    def decode(clip: Path) -> video.ClipSamples:
        return decode_clip(clip, thread_type="SLICE", device=torch_device, shrink=shrink)

    reference, generated = decode(pair.reference), decode(pair.generated)
    prepared = (
        prepare_clip(reference, device=torch_device),
        prepare_clip(generated, device=torch_device),
    )
    size, views = 64, reference.views
    rows = [
        ("decode (per clip)", cpu_ms(lambda: count_frames(path, thread_type="SLICE"))),
        (
            "decode + FFmpeg's shrink",
            cpu_ms(lambda: host_shrink(video.ScalerShrinker(size=size, views=views))),
        ),
        (
            "decode + planes into blocks",
            cpu_ms(
                lambda: host_shrink(
                    video.PlaneShrinker(size=size, views=views, device=torch_device)
                )
            ),
        ),
        (f"decode_clip ({shrink})", cpu_ms(lambda: decode(path))),
        ("prepare_clip", cpu_ms(lambda: prepare_clip(reference, device=torch_device))),
        (
            "compare_prepared (per pair)",
            cpu_ms(lambda: compare_prepared(reference=prepared[0], generated=prepared[1])),
        ),
    ]
    torch.set_num_threads(previous_threads)
    print(
        f"\nStages, one 672x224 clip of {reference.frame_count} frames, CPU ms, one thread,"
        f" device={torch_device}"
    )
    for name, milliseconds in rows:
        print(f"{name:<30}{milliseconds:>8.1f}")


def bench_memory(*, folder: Path, base_frames: int) -> None:
    print("\nMemory while decoding one 672x224 clip (size 64, 32 time bins, CPU)")
    print(f"{'length':<8}{'frames':>8}{'peak resident growth MiB':>26}")
    for multiple in (1, 4, 16):
        frames = base_frames * multiple
        path = write_clip(
            folder / f"long{multiple}.mp4",
            frame_at=moving_square_scene(width=672, height=224),
            frames=frames,
        )
        growth = decoding_working_set_mib(path, size=64, time_bins=32)
        print(f"{str(multiple) + 'x':<8}{frames:>8}{growth:>26.1f}")


# Each split's first episode seed and its episodes (docs/judges.md).
SPLITS = {"dev": (0, 6), "holdout": (10_000, 5)}


def bench_physics(
    *, split: str, episodes: int | None, footage: Path, device: str, shrink: str = "scaler"
) -> None:
    """The baseline's agreement with the categories of real-physics footage (tests/judges/physics.py)."""
    import numpy as np
    from sklearn.metrics import cohen_kappa_score, confusion_matrix

    from tests.judges.physics import render_episode

    rows = []
    start = time.perf_counter()
    first, size = SPLITS[split]
    episodes = episodes or size
    for seed in range(first, first + episodes):
        folder = footage / split / str(seed)
        marker = folder / "done"
        if not marker.exists():
            folder.mkdir(parents=True, exist_ok=True)
            written = render_episode(folder, seed)
            marker.write_text(
                "\n".join(f"{g.name} {kind} {label}" for _, g, kind, label in written)
            )
        for line in marker.read_text().splitlines():
            name, kind, label = line.split()
            rows.append((folder / f"ep{seed}_reference.mp4", folder / name, kind, int(label)))
    rendered = time.perf_counter() - start
    pairs = [Pair(pair_id=str(i), reference=r, generated=g) for i, (r, g, _, _) in enumerate(rows)]
    verdicts = BaselineJudge(device=device, shrink=shrink).judge(pairs)
    assert all(verdict.ok for verdict in verdicts), [v.error for v in verdicts if not v.ok]
    labels = np.array([label for *_, label in rows])
    scores = np.array([verdict.score for verdict in verdicts])
    print(
        f"\nReal-physics footage, {split} split: {episodes} episodes, {len(rows)} pairs,"
        f" shrink={shrink}"
    )
    print(f"(footage ready in {rendered:.0f} s, in {footage / split})")
    kappa = cohen_kappa_score(labels, scores, weights="quadratic", labels=[0, 1, 2, 3])
    print(f"quadratic-weighted kappa: {kappa:.3f}")
    print(f"exact agreement: {(labels == scores).mean():.3f}")
    print(f"category-2 clips scored 2: {(scores[labels == 2] == 2).mean():.3f}")
    print("confusion (rows: category 0-3, columns: score 0-3)")
    print(confusion_matrix(labels, scores, labels=[0, 1, 2, 3]))
    print(f"{'kind':<10}{'category':>9}  scores")
    for kind in dict.fromkeys(kind for _, _, kind, _ in rows):
        chosen = [i for i, row in enumerate(rows) if row[2] == kind]
        print(f"{kind:<10}{rows[chosen[0]][3]:>9}  {' '.join(str(scores[i]) for i in chosen)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument(
        "--frames", type=int, default=72, help="frames per clip (72 = 3 s at 24 fps)"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--physics",
        choices=sorted(SPLITS),
        help="instead: agreement on real-physics footage of this split",
    )
    parser.add_argument(
        "--episodes", type=int, help="episodes of the split (default: the split's own, 6 and 5)"
    )
    parser.add_argument(
        "--shrink",
        choices=("scaler", "planes"),
        default="scaler",
        help="the judge's frame shrink (video.ScalerShrinker or video.PlaneShrinker)",
    )
    parser.add_argument(
        "--footage",
        type=Path,
        default=Path("var/physics-footage"),
        help="where rendered footage is kept between runs",
    )
    arguments = parser.parse_args()
    if arguments.physics:
        bench_physics(
            split=arguments.physics,
            episodes=arguments.episodes,
            footage=arguments.footage,
            device=arguments.device,
            shrink=arguments.shrink,
        )
        return
    with tempfile.TemporaryDirectory(prefix="bench-judge-") as folder:
        bench_memory(folder=Path(folder), base_frames=arguments.frames)
        distinct = _write_pairs(
            folder=Path(folder),
            references=arguments.pairs,
            teams=1,
            width=672,
            height=224,
            frames=arguments.frames,
        )
        bench_stages(
            clip_pairs=distinct,
            device=arguments.device,
            shrink=arguments.shrink,
            repeats=arguments.repeats,
        )
        bench_throughput(
            title=f"{arguments.pairs} distinct pairs of 672x224 clips, {arguments.frames} frames",
            clip_pairs=distinct,
            frames=arguments.frames,
            device=arguments.device,
            shrink=arguments.shrink,
            repeats=arguments.repeats,
        )
        ingest_like = _write_pairs(
            folder=Path(folder),
            references=arguments.pairs,
            teams=1,
            width=672,
            height=224,
            frames=arguments.frames,
            preset="veryfast",
        )
        bench_throughput(
            title=(
                f"{arguments.pairs} distinct pairs of 672x224 clips, {arguments.frames} frames,"
                " x264 veryfast (as the ingest encodes)"
            ),
            clip_pairs=ingest_like,
            frames=arguments.frames,
            device=arguments.device,
            shrink=arguments.shrink,
            repeats=arguments.repeats,
        )
        shared = _write_pairs(
            folder=Path(folder),
            references=2,
            teams=4,
            width=672,
            height=224,
            frames=arguments.frames,
        )
        bench_throughput(
            title=f"2 references x 4 teams of 672x224 clips, {arguments.frames} frames",
            clip_pairs=shared,
            frames=arguments.frames,
            device=arguments.device,
            shrink=arguments.shrink,
            repeats=arguments.repeats,
        )
        campaign = _write_pairs(
            folder=Path(folder), references=6, teams=4, width=288, height=96, frames=36
        )
        bench_throughput(
            title="demo-size campaign, 6 references x 4 teams of 288x96 clips, 36 frames",
            clip_pairs=campaign,
            frames=36,
            device=arguments.device,
            shrink=arguments.shrink,
            repeats=arguments.repeats,
        )


if __name__ == "__main__":
    main()
