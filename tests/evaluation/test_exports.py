"""Exports: each format opens, carries the input hash, and feeds ``manage.py rank`` as is."""

from __future__ import annotations

import csv
import io
import json
from io import StringIO

import openpyxl
import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from annotate.models import Rating
from evaluation import services
from evaluation.scoring import rated_set_from, read_episodes, read_ratings
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
    for what in services.EXPORT_KINDS:
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
    assert len(hashes) == 1
    assert len(hashes.pop()) == 64


def test_rankings_export_columns(staff_client, data):
    frame = pd.read_csv(io.BytesIO(download(staff_client, "rankings", "csv").content))
    assert list(frame.columns) == [
        "rank",
        "team",
        "final_score",
        "ci_low",
        "ci_high",
        "rank_probability",
        "task1",
        "task2",
    ]
    assert sorted(frame["team"]) == ["team0", "team1", "team2"]
    assert (frame["ci_low"] <= frame["final_score"]).all()
    assert (frame["final_score"] <= frame["ci_high"]).all()
    assert frame["final_score"].is_monotonic_decreasing


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
    recomputed = services.input_hash_of(
        ratings=ratings,
        rated_set=rated_set,
        tasks=list(rated_set),
        teams=sorted(ratings["team"].unique()),
        parameters=services.ScoringParameters.for_campaign(campaign=data.campaign),
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
    expected = services.campaign_export(campaign=data.campaign, what="ratings", fmt="csv")
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


def test_unknown_export_is_a_clear_error(staff_client, data):
    response = staff_client.get(reverse("export-download", args=["exp", "secrets", "csv"]))
    assert response.status_code == 400
    assert b"secrets" in response.content
    with pytest.raises(services.ScoringRequestError, match="format 'pdf'"):
        services.campaign_export(campaign=data.campaign, what="ratings", fmt="pdf")


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
