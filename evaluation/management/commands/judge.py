"""Judge arbitrary (reference, generated) clip pairs listed in a CSV, without the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from evaluation.judges import build_judge, judge_config, judges_available
from evaluation.judges.base import JudgeError
from evaluation.judges.manifest import read_pair_manifest, write_verdicts_csv


class Command(BaseCommand):
    help = (
        "Judge the pairs of a CSV manifest (pair_id,reference,generated) and write "
        "verdicts (pair_id,score,expected_score,final_state,clean,motion,confidence,error)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--manifest", required=True, type=Path)
        parser.add_argument("--output", required=True, type=Path)
        parser.add_argument("--judge", default="baseline", help="a name from settings.JUDGES")
        parser.add_argument(
            "--device",
            choices=("auto", "cpu", "cuda"),
            default=None,
            help="for backends that take a device (the baseline); default: the configured one",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            config = judge_config(options["judge"])
            backend_options = dict(config["OPTIONS"])
            if options["device"] is not None:
                backend_options["device"] = options["device"]
            judge = build_judge(
                name=options["judge"], backend=config["BACKEND"], options=backend_options
            )
            pairs = read_pair_manifest(Path(options["manifest"]))
            with tqdm(total=len(pairs), unit="pair", disable=options["verbosity"] < 1) as bar:
                verdicts = judge.judge(pairs, progress=bar.update)
        except JudgeError as exc:
            available = ", ".join(judges_available())
            raise CommandError(f"{exc} (judges: {available})") from exc
        write_verdicts_csv(Path(options["output"]), verdicts)
        failed = sum(1 for verdict in verdicts if not verdict.ok)
        self.stdout.write(
            f"{len(verdicts)} pairs judged by {judge.name} ({judge.version}), "
            f"{failed} could not be judged; verdicts in {options['output']}"
        )
