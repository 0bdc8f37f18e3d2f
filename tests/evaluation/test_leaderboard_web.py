"""The leaderboard page, drill-down, figure and API: staff only, and all telling the same numbers."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token

from evaluation import exports, selectors
from tests.evaluation.test_leaderboard import rated_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def data():
    return rated_campaign(n_teams=3, n_tasks=2, n_episodes=4, seed=11, slug="web")


def api_headers(user) -> dict[str, str]:
    token, _ = Token.objects.get_or_create(user=user)
    return {"HTTP_AUTHORIZATION": f"Token {token.key}"}


def test_page_api_and_offline_command_agree(staff_client, organizer, data, tmp_path):
    page = staff_client.get(reverse("leaderboard", args=["web"]))
    assert page.status_code == 200
    page_rows = {row.team: row for row in page.context["rows"]}

    api = staff_client.get(reverse("api-rankings", args=["web"]), **api_headers(organizer))
    assert api.status_code == 200
    api_teams = {team["team"]: team for team in api.json()["teams"]}
    assert api.json()["input_hash"] == page.context["result"].input_hash

    for what in ("ratings", "episodes"):
        response = staff_client.get(
            reverse("api-exports", args=["web"]), {"what": what, "format": "csv"}
        )
        assert response.status_code == 200
        assert response["X-Refscore-Input-Hash"] == api.json()["input_hash"]
        (tmp_path / f"{what}.csv").write_bytes(response.content)
    call_command(
        "rank",
        ratings=str(tmp_path / "ratings.csv"),
        episodes=str(tmp_path / "episodes.csv"),
        output=str(tmp_path / "rankings.json"),
        seed=data.campaign.seed,
        stdout=StringIO(),
    )
    offline = json.loads((tmp_path / "rankings.json").read_text())
    assert {row["team"] for row in offline} == set(page_rows) == set(api_teams)
    for row in offline:
        for source in (page_rows[row["team"]], api_teams[row["team"]]):
            get = source.get if isinstance(source, dict) else lambda key, s=source: getattr(s, key)
            assert get("rank") == row["rank"]
            for key in ("final_score", "ci_low", "ci_high", "rank_probability"):
                assert get(key) == pytest.approx(row[key], abs=1e-12), key
        api_tasks = {task["task"]: task["score"] for task in api_teams[row["team"]]["tasks"]}
        page_tasks = {cell.task: cell.score for cell in page_rows[row["team"]].tasks}
        offline_tasks = {task: row[task] for task in ("task1", "task2")}
        assert api_tasks == pytest.approx(offline_tasks) == page_tasks
        page_row = page_rows[row["team"]]
        assert (page_row.n_ratings, page_row.n_total) == (row["n_ratings"], row["n_total"])
        for cell in page_row.tasks:
            shown = (cell.n3, cell.n2, cell.n1, cell.n0, cell.n_missing, cell.n_total)
            ends = ("_n3", "_n2", "_n1", "_n0", "_n_missing", "_n_total")
            assert shown == tuple(row[f"{cell.task}{end}"] for end in ends)


def test_page_shows_counts_intervals_coverage_and_drilldown_links(staff_client, data):
    page = staff_client.get(reverse("leaderboard", args=["web"]))
    html = page.content.decode()
    row = page.context["rows"][0]
    assert row.n_total == 2 * 4 * 3 and row.coverage_percent == 100.0
    cell = row.tasks[0]
    assert cell.n3 + cell.n2 + cell.n1 + cell.n0 == cell.n_total == 4 * 3
    assert cell.n_missing == 0 and cell.reproduces_score
    assert 0 <= row.bar_left <= row.marker <= row.bar_left + row.bar_width + 0.01 <= 100.01
    assert 'class="ci-bar"' in html
    team_id = next(team.pk for team in data.teams if team.name == row.team)
    assert reverse("leaderboard-drilldown", args=["web", team_id, "task1"]) in html
    assert reverse("leaderboard-figure", args=["web", "svg"]) in html
    assert (
        reverse("leaderboard", args=["web"])
        in staff_client.get(reverse("assignments", args=["web"])).content.decode()
    )


def test_release_gate_form_on_the_page(staff_client, data):
    page = staff_client.get(
        reverse("leaderboard", args=["web"]),
        {"candidate": "team0", "incumbent": "team1", "margin": "0"},
    )
    comparison = page.context["comparison"]
    expected = selectors.campaign_comparison(
        campaign=data.campaign, candidate="team0", incumbent="team1"
    ).comparison
    assert comparison.difference == pytest.approx(expected.difference)
    assert comparison.p_value_one_sided == expected.p_value_one_sided
    assert f"verdict-{expected.verdict}" in page.content.decode()

    same = staff_client.get(
        reverse("leaderboard", args=["web"]), {"candidate": "team0", "incumbent": "team0"}
    )
    assert same.context["comparison"] is None
    assert "two different teams" in same.content.decode()


def test_compare_api(client, organizer, data):
    response = client.post(
        reverse("api-compare", args=["web"]),
        {"candidate": "team2", "incumbent": "team0", "margin": 0.1, "bootstrap": 500},
        content_type="application/json",
        **api_headers(organizer),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["verdict"] in {"pass", "fail"}
    assert body["ci_low"] <= body["difference"] <= body["ci_high"]
    assert body["n_boot"] == 500 and body["margin"] == 0.1
    assert set(body["task_differences"]) == {"task1", "task2"}
    bad = client.post(
        reverse("api-compare", args=["web"]),
        {"candidate": "team2", "incumbent": "ghost"},
        content_type="application/json",
        **api_headers(organizer),
    )
    assert bad.status_code == 400
    assert "ghost" in bad.json()["detail"]


def test_rankings_api_carries_intervals_probabilities_and_counts(client, organizer, data):
    response = client.get(
        reverse("api-rankings", args=["web"]),
        {"bootstrap": 300, "confidence": 0.9},
        **api_headers(organizer),
    )
    body = response.json()
    assert body["parameters"] == {"n_boot": 300, "seed": data.campaign.seed, "confidence": 0.9}
    team = body["teams"][0]
    assert sum(team["rank_distribution"].values()) == pytest.approx(1.0)
    assert team["rank_probability"] == pytest.approx(team["rank_distribution"][str(team["rank"])])
    task = team["tasks"][0]
    assert task["n3"] + task["n2"] + task["n1"] + task["n0"] == task["n_ratings"] == 12
    assert task["n_expected_clips"] == 4 and task["n_expected_ratings"] == 12
    assert (task["n_missing"], task["n_total"]) == (0, 12)
    assert (team["n_total"], team["coverage"]) == (24, 1.0)
    too_many = client.get(
        reverse("api-rankings", args=["web"]), {"bootstrap": 10**7}, **api_headers(organizer)
    )
    assert too_many.status_code == 400


def test_export_api_serves_each_format(client, organizer, data):
    leaderboard = selectors.campaign_leaderboard(campaign=data.campaign)
    for fmt, content_type in (
        ("csv", "text/csv"),
        ("json", "application/json"),
        ("xlsx", "application/vnd.openxmlformats"),
    ):
        response = client.get(
            reverse("api-exports", args=["web"]),
            {"what": "rankings", "format": fmt},
            **api_headers(organizer),
        )
        assert response.status_code == 200, response.content[:200]
        assert response["Content-Type"].startswith(content_type)
        assert response["X-Refscore-Input-Hash"] == leaderboard.input_hash
    bad = client.get(
        reverse("api-exports", args=["web"]),
        {"what": "rankings", "format": "pdf"},
        **api_headers(organizer),
    )
    assert bad.status_code == 400


def test_figure_is_served_as_png_and_svg(staff_client, data):
    png = staff_client.get(reverse("leaderboard-figure", args=["web", "png"]))
    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")
    svg = staff_client.get(reverse("leaderboard-figure", args=["web", "svg"]))
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    assert b"team0" in svg.content  # team labels are drawn
    assert staff_client.get(reverse("leaderboard-figure", args=["web", "gif"])).status_code == 404


def test_drilldown_shows_each_clip_with_videos_and_pseudonymous_ratings(staff_client, data):
    team = data.teams[1]
    response = staff_client.get(reverse("leaderboard-drilldown", args=["web", team.pk, "task2"]))
    assert response.status_code == 200
    html = response.content.decode()
    clips = response.context["clips"]
    assert [clip.episode for clip in clips] == [f"episode_{e}" for e in range(4)]
    for clip in clips:
        assert sorted(rating.score for rating in clip.ratings) == sorted(
            data.scores[(team.name, "task2", clip.episode)]
        )
        assert reverse("media", args=[clip.clip_token, "video"]) in html
        assert reverse("media", args=[clip.reference_token, "video"]) in html
    assert team.name in html
    assert not any(rater.username in html for rater in data.raters)
    expected = sum(
        sum(scores) / len(scores)
        for (name, task, _), scores in data.scores.items()
        if (name, task) == (team.name, "task2")
    )
    assert response.context["task_score"] == pytest.approx(expected / 4)


def test_exports_page_lists_every_file_and_the_hash(staff_client, data):
    response = staff_client.get(reverse("exports", args=["web"]))
    html = response.content.decode()
    for what in exports.EXPORT_KINDS:
        for fmt in exports.EXPORT_FORMATS:
            assert reverse("export-download", args=["web", what, fmt]) in html
    assert (
        response.context["input_hash"]
        == selectors.campaign_leaderboard(
            campaign=data.campaign,
            parameters=selectors.ScoringParameters.for_campaign(campaign=data.campaign),
        ).input_hash
    )
    assert f"--seed {data.campaign.seed}" in html


@pytest.mark.parametrize(
    "name,args",
    [
        ("leaderboard", ["web"]),
        ("leaderboard-figure", ["web", "png"]),
        ("exports", ["web"]),
        ("export-download", ["web", "ratings", "csv"]),
    ],
)
def test_pages_are_staff_only(client, annotator, data, name, args):
    anonymous = client.get(reverse(name, args=args))
    assert anonymous.status_code == 302
    assert "login" in anonymous["Location"]
    client.force_login(annotator)
    assert client.get(reverse(name, args=args)).status_code == 403


def test_drilldown_is_staff_only(client, annotator, data):
    client.force_login(annotator)
    response = client.get(reverse("leaderboard-drilldown", args=["web", data.teams[0].pk, "task1"]))
    assert response.status_code == 403


def test_api_is_staff_only(client, annotator, data):
    headers = api_headers(annotator)
    assert client.get(reverse("api-rankings", args=["web"]), **headers).status_code == 403
    exports = client.get(reverse("api-exports", args=["web"]), {"what": "ratings"}, **headers)
    assert exports.status_code == 403
    compare = client.post(
        reverse("api-compare", args=["web"]),
        {"candidate": "team0", "incumbent": "team1"},
        content_type="application/json",
        **headers,
    )
    assert compare.status_code == 403
    assert client.get(reverse("api-rankings", args=["web"])).status_code in {401, 403}


def test_endpoints_are_in_the_openapi_schema(staff_client):
    schema = staff_client.get(reverse("api-schema"), {"format": "json"}).json()
    paths = schema["paths"]
    assert "get" in paths["/api/campaigns/{slug}/rankings/"]
    assert "get" in paths["/api/campaigns/{slug}/exports/"]
    assert "post" in paths["/api/campaigns/{slug}/compare/"]


def test_empty_campaign_page_explains_itself(staff_client, campaign):
    response = staff_client.get(reverse("leaderboard", args=[campaign.slug]))
    assert response.status_code == 200
    assert f"campaign &#x27;{campaign.slug}&#x27; has no task yet" in response.content.decode()


def test_counts_beside_a_task_score_reproduce_it_with_missing_episodes(staff_client):
    """team1 sent no task2/episode_1 and team0 no task1/episode_3: 3 ratings each count 0."""
    data = rated_campaign(
        n_teams=2, n_tasks=2, n_episodes=4, seed=5, slug="gaps", skip={(1, 1, 1), (0, 0, 3)}
    )
    page = staff_client.get(reverse("leaderboard", args=["gaps"]))
    html = page.content.decode()
    for row in page.context["rows"]:
        for cell in row.tasks:
            given = [
                score
                for (team, task, _), scores in data.scores.items()
                if (team, task) == (row.team, cell.task)
                for score in scores
            ]
            assert (cell.n3, cell.n2, cell.n1, cell.n0) == tuple(
                given.count(k) for k in (3, 2, 1, 0)
            )
            assert cell.n_total == 4 * 3
            assert cell.n_missing == 12 - len(given)
            assert (3 * cell.n3 + 2 * cell.n2 + cell.n1) / cell.n_total == pytest.approx(cell.score)
            assert cell.reproduces_score
            assert (
                f'+<span class="n-missing">{cell.n_missing}</span> of '
                f'<span class="n-total">{cell.n_total}</span>'
            ) in html
    missing = {
        (row.team, cell.task): cell.n_missing for row in page.context["rows"] for cell in row.tasks
    }
    assert missing == {
        ("team0", "task1"): 3,
        ("team0", "task2"): 0,
        ("team1", "task1"): 0,
        ("team1", "task2"): 3,
    }
    team1 = next(row for row in page.context["rows"] if row.team == "team1")
    assert (team1.n_ratings, team1.n_total, team1.coverage_percent) == (21, 24, 87.5)
    api = staff_client.get(reverse("api-rankings", args=["gaps"])).json()
    api_missing = {
        (team["team"], task["task"]): (task["n_missing"], task["n_total"])
        for team in api["teams"]
        for task in team["tasks"]
    }
    assert api_missing == {key: (n_missing, 12) for key, n_missing in missing.items()}
    assert "N_total" in html and "(3·N3 + 2·N2 + N1) / N_total" in html


def test_release_gate_opens_on_the_first_two_teams_and_names_its_p_values(staff_client, data):
    page = staff_client.get(reverse("leaderboard", args=["web"]))
    form = page.context["form"]
    first, second = (row.team for row in page.context["rows"][:2])
    assert first != second
    assert (form["candidate"].value(), form["incumbent"].value()) == (first, second)
    html = page.content.decode()
    assert f'<option value="{first}" selected>' in html.split('name="incumbent"')[0]
    assert f'<option value="{second}" selected>' in html.split('name="incumbent"')[1]

    compared = staff_client.get(
        reverse("leaderboard", args=["web"]),
        {"candidate": first, "incumbent": second, "margin": "0.1"},
    ).content.decode()
    assert "P (beats" not in compared and "p (beats" not in compared
    assert "One-sided p-value (H<sub>0</sub>: difference ≤ 0.1)" in compared
    assert "not the probability that it wins" in compared
    assert "below 0.05" in compared


def test_exports_are_in_the_campaign_navigation(staff_client, data):
    exports_url = reverse("exports", args=["web"])
    for name in ("leaderboard", "agreement", "assignments", "exports"):
        html = staff_client.get(reverse(name, args=["web"])).content.decode()
        nav = html.split('<nav class="subnav">', 1)[1].split("</nav>", 1)[0]
        assert f'<a href="{exports_url}">Exports</a>' in nav, name


@pytest.mark.parametrize("name", ["$x", "x$^$y", r"Lab $\undefinedmacro$", "cost: $5 and $"])
def test_figure_draws_team_names_as_written(staff_client, data, name):
    data.teams[0].name = name
    data.teams[0].save()
    for fmt in ("png", "svg"):
        response = staff_client.get(reverse("leaderboard-figure", args=["web", fmt]))
        assert response.status_code == 200, fmt
