"""Reading ratings/episodes/verdicts files and writing rankings, on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from evaluation.scoring import (
    ScoringInputError,
    TableError,
    rank_files,
    rated_set_from,
    read_episodes,
    read_ratings,
    read_verdicts,
)

pytestmark = []

EXPORT_HEADER = (
    "rating_id,task,team,episode,rater,score,final_state,clean,motion,comment,created_at\n"
)


COUNT_COLUMN_ENDS = ("", "_n3", "_n2", "_n1", "_n0", "_n_missing", "_n_total")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def export_row(rating_id: int, task: str, team: str, episode: str, rater: str, score: str) -> str:
    return f"{rating_id},{task},{team},{episode},{rater},{score},yes,no,yes,,2026-03-01T10:00:00Z\n"


def test_reads_the_app_export_ignoring_extra_columns(tmp_path: Path) -> None:
    text = EXPORT_HEADER + export_row(1, "task1", "A", "episode_1", "ann1", "3")
    text += '2,task1,A,episode_1,ann2,2,yes,yes,yes,"arm jitters,\nthen ok",2026-03-01T10:01:00Z\n'
    ratings = read_ratings(write(tmp_path / "ratings.csv", text))
    assert list(ratings.columns) == ["task", "team", "episode", "rater", "score"]
    assert ratings["score"].tolist() == [3, 2]
    assert ratings["score"].dtype == "int64"
    assert ratings["rater"].tolist() == ["ann1", "ann2"]


def test_reads_a_byte_order_mark_and_surrounding_spaces(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_bytes("\ufefftask, team,episode,rater,score\ntask1, A ,e1,r1, 2 \n".encode())
    ratings = read_ratings(path)
    assert ratings.iloc[0].to_dict() == {
        "task": "task1",
        "team": "A",
        "episode": "e1",
        "rater": "r1",
        "score": 2,
    }


def error_of(path: Path, **kwargs) -> TableError:
    with pytest.raises(TableError) as caught:
        read_ratings(path, **kwargs)
    return caught.value


def test_missing_column_names_line_one_and_the_column(tmp_path: Path) -> None:
    error = error_of(write(tmp_path / "r.csv", "task,team,episode,score\ntask1,A,e1,2\n"))
    assert (error.line, error.column) == (1, "rater")
    assert "r.csv, line 1, column 'rater': missing column" in str(error)


@pytest.mark.parametrize(
    ("score", "message"),
    [
        ("x", "'x' is not an integer"),
        ("2.5", "'2.5' is not an integer"),
        ("4", "score 4 is outside 0-3"),
        ("-1", "score -1 is outside 0-3"),
        ("", "empty value"),
    ],
)
def test_bad_scores_name_the_line_and_column(tmp_path: Path, score: str, message: str) -> None:
    text = EXPORT_HEADER + export_row(1, "task1", "A", "e1", "r1", "1")
    text += export_row(2, "task1", "A", "e2", "r1", "2")
    text += export_row(3, "task1", "A", "e3", "r1", score)
    error = error_of(write(tmp_path / "ratings.csv", text))
    assert (error.line, error.column) == (4, "score")
    assert message in str(error)


def test_line_numbers_survive_blank_lines_and_multiline_comments(tmp_path: Path) -> None:
    text = EXPORT_HEADER
    text += '1,task1,A,e1,r1,2,yes,no,yes,"first line\nsecond line\nthird",2026-03-01\n'
    text += "\n"
    text += export_row(2, "task1", "A", "e2", "r1", "7")  # line 6
    error = error_of(write(tmp_path / "ratings.csv", text))
    assert (error.line, error.column) == (6, "score")


def test_duplicate_rater_for_one_clip_points_at_both_lines(tmp_path: Path) -> None:
    text = EXPORT_HEADER + export_row(1, "task1", "A", "e1", "r1", "1")
    text += export_row(2, "task1", "A", "e1", "r2", "2")
    text += export_row(3, "task1", "B", "e1", "r1", "2")  # another team: fine
    text += export_row(4, "task1", "A", "e1", "r1", "3")
    error = error_of(write(tmp_path / "ratings.csv", text))
    assert (error.line, error.column) == (5, "rater")
    assert "already given on line 2" in str(error)


def test_ratings_must_stay_within_the_episodes_file(tmp_path: Path) -> None:
    episodes = read_episodes(write(tmp_path / "episodes.csv", "task,episode\ntask1,e1\ntask1,e2\n"))
    unknown_episode = EXPORT_HEADER + export_row(1, "task1", "A", "e1", "r1", "1")
    unknown_episode += export_row(2, "task1", "A", "e3", "r1", "1")
    error = error_of(write(tmp_path / "a.csv", unknown_episode), episodes=episodes)
    assert (error.line, error.column) == (3, "episode")
    assert "episode 'e3' of task 'task1' is not in the episodes file" in str(error)
    unknown_task = EXPORT_HEADER + export_row(1, "task9", "A", "e1", "r1", "1")
    error = error_of(write(tmp_path / "b.csv", unknown_task), episodes=episodes)
    assert (error.line, error.column) == (2, "task")


def test_empty_and_header_only_files_are_rejected(tmp_path: Path) -> None:
    assert "the file is empty" in str(error_of(write(tmp_path / "empty.csv", "")))
    assert "the file is empty" in str(error_of(write(tmp_path / "blank.csv", "\n\n")))
    assert "no rows" in str(error_of(write(tmp_path / "header.csv", EXPORT_HEADER)))
    assert "no such file" in str(error_of(tmp_path / "absent.csv"))


def test_undecodable_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(b"task,team,episode,rater,score\ntask1,\xe9quipe,e1,r1,2\n")
    assert "not UTF-8" in str(error_of(path))


def test_episodes_file_checks(tmp_path: Path) -> None:
    episodes = read_episodes(
        write(tmp_path / "ep.csv", "task,episode\ntask10,e1\ntask2,e2\ntask2,e1\n")
    )
    assert rated_set_from(episodes) == {"task2": ["e2", "e1"], "task10": ["e1"]}
    with pytest.raises(TableError, match=r"line 3, column 'episode': this episode is already"):
        read_episodes(write(tmp_path / "dup.csv", "task,episode\ntask1,e1\ntask1,e1\n"))
    with pytest.raises(TableError, match="column 'episode': missing column"):
        read_episodes(write(tmp_path / "bad.csv", "task,clip\ntask1,e1\n"))


def test_verdicts_have_no_rater_and_one_score_per_clip(tmp_path: Path) -> None:
    verdicts = read_verdicts(
        write(tmp_path / "v.csv", "task,team,episode,score,expected\ntask1,A,e1,2,1.7\n")
    )
    assert verdicts.to_dict("records") == [
        {"task": "task1", "team": "A", "episode": "e1", "score": 2}
    ]
    with pytest.raises(TableError, match=r"line 3, column 'episode'"):
        read_verdicts(write(tmp_path / "d.csv", "task,team,episode,score\nt,A,e1,2\nt,A,e1,3\n"))
    with pytest.raises(TableError, match=r"line 2, column 'score'.*outside 0-3"):
        read_verdicts(write(tmp_path / "s.csv", "task,team,episode,score\nt,A,e1,5\n"))


def campaign_files(tmp_path: Path) -> tuple[Path, Path]:
    episodes = write(
        tmp_path / "episodes.csv",
        "task,episode\n" + "".join(f"task{k},e{e}\n" for k in (10, 2) for e in (1, 2)),
    )
    text = EXPORT_HEADER
    rating_id = 0
    for team, score in (("alpha", "3"), ("beta", "2"), ("gamma", "2")):
        for task in ("task2", "task10"):
            for rater in ("r1", "r2"):
                rating_id += 1
                text += export_row(rating_id, task, team, "e1", rater, score)
    # alpha also sent e2 of task2
    text += export_row(99, "task2", "alpha", "e2", "r1", "1")
    return write(tmp_path / "ratings.csv", text), episodes


def test_rank_files_writes_csv_with_natural_task_order(tmp_path: Path) -> None:
    ratings, episodes = campaign_files(tmp_path)
    output = tmp_path / "out" / "rankings.csv"
    board = rank_files(ratings_path=ratings, episodes_path=episodes, output_path=output, n_boot=200)
    frame = pd.read_csv(output)
    assert list(frame.columns) == [
        "rank",
        "team",
        "final_score",
        "ci_low",
        "ci_high",
        "rank_probability",
        "n_ratings",
        "n_total",
        "coverage",
        *(f"{task}{end}" for task in ("task2", "task10") for end in COUNT_COLUMN_ENDS),
    ]
    assert frame["team"].tolist() == ["alpha", "beta", "gamma"]
    assert frame["rank"].tolist() == [1, 2, 2]
    # alpha: task2 = (3 + 1) / 2, task10 = 3 / 2 (e2 missing counts 0)
    assert frame.loc[0, "task2"] == pytest.approx(2.0)
    assert frame.loc[0, "task10"] == pytest.approx(1.5)
    assert frame.loc[0, "final_score"] == pytest.approx(1.75)
    assert board.teams[0].tasks["task10"].n_expected == 2
    # Two raters per clip at most, so N_total is 2 episodes x 2 ratings; alpha's e2 of
    # task2 has one rating (1) of two: S = (3 + 1) / 2 averages the clips' means.
    alpha = frame.iloc[0]
    assert [alpha[f"task2{end}"] for end in COUNT_COLUMN_ENDS[1:]] == [2, 0, 1, 0, 1, 4]
    assert [alpha[f"task10{end}"] for end in COUNT_COLUMN_ENDS[1:]] == [2, 0, 0, 0, 2, 4]
    assert (alpha["n_ratings"], alpha["n_total"], alpha["coverage"]) == (5, 8, 0.625)


def test_rank_files_writes_json(tmp_path: Path) -> None:
    ratings, episodes = campaign_files(tmp_path)
    output = tmp_path / "rankings.json"
    rank_files(ratings_path=ratings, episodes_path=episodes, output_path=output, n_boot=200)
    records = json.loads(output.read_text())
    assert [record["team"] for record in records] == ["alpha", "beta", "gamma"]
    assert set(records[0]) >= {"rank", "team", "final_score", "ci_low", "ci_high", "task2"}
    assert list(records[0])[9:] == [
        f"{task}{end}" for task in ("task2", "task10") for end in COUNT_COLUMN_ENDS
    ]
    assert records[1]["task2"] == pytest.approx(1.0)  # beta: 2 on e1, e2 missing


def test_rank_files_without_episodes_uses_rated_episodes(tmp_path: Path) -> None:
    ratings, _ = campaign_files(tmp_path)
    board = rank_files(ratings_path=ratings, output_path=tmp_path / "r.csv", n_boot=50)
    # the rated set of task10 is only e1 now, so alpha scores 3 there
    assert board.standing("alpha").tasks["task10"].score == 3.0


def test_rank_files_rejects_an_unknown_output_format_before_reading(tmp_path: Path) -> None:
    with pytest.raises(ScoringInputError, match="must end in .csv or .json"):
        rank_files(ratings_path=tmp_path / "absent.csv", output_path=tmp_path / "rankings.xlsx")
