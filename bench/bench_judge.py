"""Judge throughput against decoding alone, and memory against clip length.

    python bench/bench_judge.py [--device cpu|cuda|auto] [--pairs 8] [--frames 72] [--repeats 3]

Writes synthetic clips into a temporary folder, then prints: the peak memory of
decoding one clip 1x, 4x and 16x as long (it must stay flat: the decoder keeps a fixed
number of samples); pairs/s and frames/s of the baseline judge against merely decoding
the same clips, for distinct 672x224 pairs (three 224x224 views, 24 fps) and for a
demo-size campaign (three 96x96 views, 36 frames, four teams' clips per reference, as
a judge run sees them). Times are the best of `--repeats` runs.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation.judges.base import Pair  # noqa: E402
from evaluation.judges.baseline import BaselineJudge  # noqa: E402
from evaluation.judges.video import count_frames, decode_clip  # noqa: E402
from tests.judges.clips import moving_square_scene, write_clip  # noqa: E402


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _best_of(repeats: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def _write_pairs(
    *, folder: Path, references: int, teams: int, width: int, height: int, frames: int
) -> list[Pair]:
    pairs = []
    for index in range(references):
        reference = write_clip(
            folder / f"r{width}_{index}.mp4",
            frame_at=moving_square_scene(width=width, height=height, seed=index),
            frames=frames,
        )
        for team in range(teams):
            generated = write_clip(
                folder / f"g{width}_{index}_{team}.mp4",
                frame_at=moving_square_scene(
                    width=width, height=height, seed=index + 100 * team, reverse=team % 2 == 1
                ),
                frames=frames,
            )
            pairs.append(Pair(pair_id=f"{index}-{team}", reference=reference, generated=generated))
    return pairs


def bench_throughput(
    *, title: str, clip_pairs: list[Pair], frames: int, device: str, repeats: int
) -> None:
    # Decoding alone reads every file the judge reads, each once.
    files = sorted({path for pair in clip_pairs for path in (pair.reference, pair.generated)})
    total_frames = len(files) * frames
    decode_seconds = _best_of(repeats, lambda: [count_frames(path) for path in files])

    judge = BaselineJudge(device=device)
    judge.judge(clip_pairs[:1])  # warm-up: imports, CUDA context
    verdicts = judge.judge(clip_pairs)
    assert all(verdict.ok for verdict in verdicts), [v.error for v in verdicts if not v.ok]
    judge_seconds = _best_of(repeats, lambda: judge.judge(clip_pairs))

    pairs = len(clip_pairs)
    print(f"\nThroughput: {title}, device={device}, best of {repeats}")
    print(f"{'what':<16}{'seconds':>10}{'pairs/s':>10}{'frames/s':>11}")
    for name, seconds in (("decode only", decode_seconds), ("judge", judge_seconds)):
        print(f"{name:<16}{seconds:>10.2f}{pairs / seconds:>10.2f}{total_frames / seconds:>11.0f}")
    print(f"judge / decode time ratio: {judge_seconds / decode_seconds:.2f}")


def bench_memory(*, folder: Path, base_frames: int) -> None:
    print("\nMemory while decoding one 672x224 clip (size 64, 32 time bins)")
    print(f"{'length':<8}{'frames':>8}{'seconds':>10}{'traced peak MiB':>17}{'maxrss +MiB':>13}")
    for multiple in (1, 4, 16):
        frames = base_frames * multiple
        path = write_clip(
            folder / f"long{multiple}.mp4",
            frame_at=moving_square_scene(width=672, height=224),
            frames=frames,
        )
        rss_before = _max_rss_mib()
        tracemalloc.start()
        start = time.perf_counter()
        samples = decode_clip(path)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        assert samples.frame_count == frames
        print(
            f"{str(multiple) + 'x':<8}{frames:>8}{seconds:>10.2f}{peak:>17.1f}"
            f"{_max_rss_mib() - rss_before:>13.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument(
        "--frames", type=int, default=72, help="frames per clip (72 = 3 s at 24 fps)"
    )
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
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
        bench_throughput(
            title=f"{arguments.pairs} distinct pairs of 672x224 clips, {arguments.frames} frames",
            clip_pairs=distinct,
            frames=arguments.frames,
            device=arguments.device,
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
            repeats=arguments.repeats,
        )


if __name__ == "__main__":
    main()
