"""``manage.py rank`` end to end, through Django's call_command.

No test here is marked for database access, so pytest-django fails any of them that
touches the database: the command must work from files alone.
"""

from __future__ import annotations

import importlib.util
import json
import resource
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
    # Rounded for people: 8/3 is written 2.6667, not 2.6666666666666665.
    assert frame.loc[0, "final_score"] == round(8 / 3, 4)
    assert frame.loc[1, "task1"] == round(5 / 3, 4)
    assert "2.6667," in output.read_text() and "2.66666" not in output.read_text()
    # B's task1: ratings 1, 2, 2 on each of two episodes: N3/N2/N1/N0 = 0/4/2/0 of 6.
    counts = [frame.loc[1, f"task1{end}"] for end in ("_n3", "_n2", "_n1", "_n0")]
    assert counts == [0, 4, 2, 0]
    assert (frame.loc[1, "task1_n_missing"], frame.loc[1, "task1_n_total"]) == (0, 6)
    assert (frame.loc[1, "n_ratings"], frame.loc[1, "n_total"], frame.loc[1, "coverage"]) == (
        9,
        9,
        1.0,
    )


def test_rank_counts_missing_episodes_in_n_total(tmp_path: Path) -> None:
    """A team that did not send task1/e2: its three ratings count 0 and N_total stays 6."""
    ratings, episodes = good_files(tmp_path)
    lines = ratings.read_text().splitlines(keepends=True)
    kept = [line for line in lines if ",task1,B,e2," not in line]
    write(ratings, "".join(kept))
    output = tmp_path / "rankings.csv"
    rank("--ratings", str(ratings), "--episodes", str(episodes), "--output", str(output))
    team_b = pd.read_csv(output).set_index("team").loc["B"]
    counts = [int(team_b[f"task1{end}"]) for end in ("_n3", "_n2", "_n1", "_n0")]
    assert counts == [0, 2, 1, 0]
    assert (team_b["task1_n_missing"], team_b["task1_n_total"]) == (3, 6)
    n3, n2, n1, _ = counts
    assert (3 * n3 + 2 * n2 + n1) / team_b["task1_n_total"] == pytest.approx(
        team_b["task1"], abs=1e-4
    )
    assert team_b["task1"] == round((1 + 2 + 2) / 3 / 2, 4)  # e2 counts 0
    assert (team_b["n_ratings"], team_b["n_total"]) == (6, 9)


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
    assert records[0]["team"] == "A"
    # JSON keeps full precision, where CSV rounds.
    assert records[0]["task1"] == records[0]["task2"] == pytest.approx(8 / 3, abs=1e-15)
    assert records[0]["task1_n3"] == 4 and records[0]["task1_n_total"] == 6


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
    with pytest.raises(CommandError, match="from 1 to 20000, not 0"):
        rank("--ratings", str(ratings), "--output", str(tmp_path / "r.csv"), "--bootstrap", "0")


def test_bootstrap_is_capped_before_any_memory_is_spent(tmp_path: Path) -> None:
    ratings, episodes = good_files(tmp_path)
    output = tmp_path / "r.csv"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CommandError) as caught:
        rank(
            "--ratings",
            str(ratings),
            "--episodes",
            str(episodes),
            "--output",
            str(output),
            "--bootstrap",
            "100000000",
        )
    assert str(caught.value) == (
        "the number of bootstrap resamples must be an integer from 1 to 20000, not 100000000"
    )
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB
    assert not output.exists()
    rank("--ratings", str(ratings), "--output", str(output), "--bootstrap", "20000")
    assert output.exists()


def test_a_row_with_extra_fields_is_refused_with_its_line(tmp_path: Path) -> None:
    ratings, episodes = good_files(tmp_path)
    lines = ratings.read_text().splitlines(keepends=True)
    # An unquoted comma in the comment shifts it into an eleventh field.
    lines[4] = lines[4].rstrip("\n") + "arm jitters, then ok\n"
    write(ratings, "".join(lines))
    with pytest.raises(CommandError) as caught:
        rank(
            "--ratings",
            str(ratings),
            "--episodes",
            str(episodes),
            "--output",
            str(tmp_path / "r.csv"),
        )
    assert str(caught.value) == (
        "ratings.csv, line 5: 11 fields where the header names 10 columns "
        "(a text with a comma that is not quoted?)"
    )
    assert not (tmp_path / "r.csv").exists()
