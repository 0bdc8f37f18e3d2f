"""``manage.py rank`` end to end, through Django's call_command.

No test here is marked for database access, so pytest-django fails any of them that
touches the database: the command must work from files alone.
"""

from __future__ import annotations

import importlib.util
import json
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest

if importlib.util.find_spec("config.settings") is None:  # pragma: no cover
    pytest.skip("the Django settings module is not available", allow_module_level=True)

from django.core.management import call_command
from django.core.management.base import CommandError

HEADER = "rating_id,task,team,episode,rater,score,final_state,clean,motion,comment\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def good_files(tmp_path: Path) -> tuple[Path, Path]:
    episodes = write(tmp_path / "episodes.csv", "task,episode\ntask1,e1\ntask1,e2\ntask2,e1\n")
    rows = []
    for team, scores in (("A", (3, 3, 2)), ("B", (1, 2, 2))):
        for task, episode in (("task1", "e1"), ("task1", "e2"), ("task2", "e1")):
            for rater, score in zip(("r1", "r2", "r3"), scores, strict=True):
                rows.append(
                    f"{len(rows) + 1},{task},{team},{episode},{rater},{score},yes,yes,yes,\n"
                )
    return write(tmp_path / "ratings.csv", HEADER + "".join(rows)), episodes


def rank(*args: str) -> str:
    out = StringIO()
    call_command("rank", *args, stdout=out)
    return out.getvalue()


def test_rank_writes_csv(tmp_path: Path) -> None:
    ratings, episodes = good_files(tmp_path)
    output = tmp_path / "rankings.csv"
    message = rank(
        "--ratings",
        str(ratings),
        "--episodes",
        str(episodes),
        "--output",
        str(output),
        "--bootstrap",
        "200",
        "--seed",
        "3",
    )
    assert "Ranked 2 teams over 2 tasks" in message
    frame = pd.read_csv(output)
    assert frame[["rank", "team"]].values.tolist() == [[1, "A"], [2, "B"]]
    assert frame.loc[0, "final_score"] == pytest.approx(8 / 3)
    assert frame.loc[1, "task1"] == pytest.approx(5 / 3)


def test_rank_writes_json_reproducibly(tmp_path: Path) -> None:
    ratings, episodes = good_files(tmp_path)
    first, second = tmp_path / "one.json", tmp_path / "two.json"
    for output in (first, second):
        rank(
            "--ratings",
            str(ratings),
            "--episodes",
            str(episodes),
            "--output",
            str(output),
            "--bootstrap",
            "100",
            "--seed",
            "9",
        )
    assert first.read_text() == second.read_text()
    records = json.loads(first.read_text())
    assert records[0]["team"] == "A" and records[0]["tasks"] == {
        "task1": pytest.approx(8 / 3),
        "task2": pytest.approx(8 / 3),
    }


@pytest.mark.parametrize(
    ("ratings_text", "expected"),
    [
        ("", "ratings.csv: the file is empty"),
        (HEADER, "ratings.csv: the file has a header but no rows"),
        (
            "task,team,episode,score\ntask1,A,e1,2\n",
            "ratings.csv, line 1, column 'rater': missing column (the header has task, team, episode, score)",
        ),
        (
            HEADER + "1,task1,A,e1,r1,two,,,,\n",
            "ratings.csv, line 2, column 'score': 'two' is not an integer",
        ),
        (
            HEADER + "1,task1,A,e1,r1,5,,,,\n",
            "ratings.csv, line 2, column 'score': score 5 is outside 0-3",
        ),
        (
            HEADER + "1,task1,A,e1,r1,2,,,,\n2,task1,A,e1,r1,3,,,,\n",
            "ratings.csv, line 3, column 'rater': a rating of this clip by this rater was already given on line 2",
        ),
        (
            HEADER + "1,task1,A,e7,r1,2,,,,\n",
            "ratings.csv, line 2, column 'episode': episode 'e7' of task 'task1' is not in the episodes file",
        ),
        (
            HEADER + "1,task3,A,e1,r1,2,,,,\n",
            "ratings.csv, line 2, column 'task': task 'task3' is not in the episodes file",
        ),
    ],
)
def test_bad_ratings_files_raise_command_errors(
    tmp_path: Path, ratings_text: str, expected: str
) -> None:
    _, episodes = good_files(tmp_path)
    ratings = write(tmp_path / "ratings.csv", ratings_text)
    with pytest.raises(CommandError) as caught:
        rank(
            "--ratings",
            str(ratings),
            "--episodes",
            str(episodes),
            "--output",
            str(tmp_path / "r.csv"),
        )
    assert str(caught.value) == expected
    assert not (tmp_path / "r.csv").exists()


def test_bad_episodes_file_and_output_raise_command_errors(tmp_path: Path) -> None:
    ratings, _ = good_files(tmp_path)
    empty = write(tmp_path / "episodes.csv", "")
    with pytest.raises(CommandError, match="episodes.csv: the file is empty"):
        rank(
            "--ratings", str(ratings), "--episodes", str(empty), "--output", str(tmp_path / "r.csv")
        )
    with pytest.raises(CommandError, match=r"must end in \.csv or \.json"):
        rank("--ratings", str(ratings), "--output", str(tmp_path / "r.txt"))
    with pytest.raises(CommandError, match="n_boot must be a positive integer"):
        rank("--ratings", str(ratings), "--output", str(tmp_path / "r.csv"), "--bootstrap", "0")
