"""The organizer's pages: import history and detail, the clip browser and its pair review,
and the assignment page's roster and move forms."""

from __future__ import annotations

import json
import re
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from annotate.models import Assignment, ImportJob
from annotate.notice_text import text
from tests.factories import (
    AssignmentFactory,
    CampaignFactory,
    ClipFactory,
    EpisodeFactory,
    SubmissionFactory,
    TaskFactory,
    TeamFactory,
    UserFactory,
)
from tests.videos import write_reference_tree, write_submission_tree, write_video

# --- import history ----------------------------------------------------------------------


@pytest.fixture
def imported(campaign, tmp_path):
    """A reference import and a team's import, both made with the commands, one file rejected."""
    write_reference_tree(tmp_path / "ref", "single", episodes=(0, 1, 2))
    call_command("import_reference", campaign.slug, str(tmp_path / "ref"), verbosity=0)
    sub = write_submission_tree(tmp_path / "sub", episodes=(0, 1))
    (sub / "test/task1/episode_2.mp4").write_text("this is not a video")
    write_video(sub / "test/task1/concat_episode_0.mp4")
    call_command("import_submission", campaign.slug, "aurora", str(sub), verbosity=0)
    return campaign


def history_rows(html: str) -> list[str]:
    table = html[html.index('id="import-history"') :]
    return re.findall(r'<tr class="import".*?</tr>', table, flags=re.S)


@pytest.mark.django_db(transaction=True)
def test_command_imports_are_in_the_history_with_their_counts(staff_client, imported):
    jobs = list(ImportJob.objects.filter(campaign=imported).order_by("pk"))
    assert [(job.kind, job.status, job.origin) for job in jobs] == [
        ("reference", "done", "command"),
        ("submission", "done", "command"),
    ]
    html = staff_client.get(reverse("campaign-detail", args=[imported.slug])).content.decode()
    assert "No import yet" not in html
    rows = history_rows(html)
    assert len(rows) == 2
    newest, oldest = rows  # newest first
    detail = reverse("import-detail", args=[imported.slug, jobs[1].pk])
    assert "submission · aurora" in newest and ">command<" in newest
    # 2 accepted, 1 skipped (the debug file), 1 rejected (not a video): each count a link.
    assert f'<a href="{detail}#accepted">2</a>' in newest
    assert f'<a href="{detail}#skipped">1</a>' in newest
    assert f'href="{detail}#rejected" class="error">1</a>' in newest
    assert "reference" in oldest and f"#{jobs[0].pk}" in oldest
    # The submissions table's rejected count opens the same import.
    assert f'<a href="{detail}#rejected">1</a>' in html


@pytest.mark.django_db(transaction=True)
def test_import_detail_lists_the_files_and_the_reasons(staff_client, imported):
    job = ImportJob.objects.get(campaign=imported, kind=ImportJob.Kind.SUBMISSION)
    response = staff_client.get(reverse("import-detail", args=[imported.slug, job.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    rejected = html[html.index('id="rejected"') : html.index('id="skipped"')]
    reason = dict((r["file"], r["reason"]) for r in job.report["rejected"])[
        "test/task1/episode_2.mp4"
    ]
    assert "<code>test/task1/episode_2.mp4</code>" in rejected and text(reason) in rejected
    skipped = html[html.index('id="skipped"') : html.index('id="accepted"')]
    assert "<code>test/task1/concat_episode_0.mp4</code>" in skipped and "debug file" in skipped
    accepted = html[html.index('id="accepted"') :]
    assert "<code>task1/episode_0</code>" in accepted and "<code>task1/episode_1</code>" in accepted


@pytest.mark.django_db(transaction=True)
def test_a_refused_command_import_is_recorded_as_failed(staff_client, imported, tmp_path):
    sub = tmp_path / "bad/task1"
    sub.mkdir(parents=True)
    write_video(sub / "episode_0.mp4")
    (sub / "episode_1.mp4").write_text("not a video either")
    with pytest.raises(CommandError, match="strict"):
        call_command(
            "import_submission",
            imported.slug,
            "borealis",
            str(tmp_path / "bad"),
            "--strict",
            verbosity=0,
        )
    job = ImportJob.objects.filter(campaign=imported).latest("pk")
    assert (job.status, job.origin, job.team_name) == ("failed", "command", "borealis")
    assert "strict" in text(job.error) and job.finished_at is not None
    assert [r["file"] for r in job.report["rejected"]] == ["task1/episode_1.mp4"]
    html = staff_client.get(reverse("import-detail", args=[imported.slug, job.pk])).content.decode()
    assert text(job.error) in html and "Nothing of this import was written" in html


@pytest.mark.django_db(transaction=True)
def test_page_and_api_imports_say_where_they_came_from(staff_client, staff_api, campaign, tmp_path):
    write_reference_tree(tmp_path / "ref", "single", episodes=(0,))
    archive = tmp_path / "ref.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in (tmp_path / "ref").rglob("*.mp4"):
            out.write(path, path.relative_to(tmp_path / "ref"))
    with archive.open("rb") as upload:
        staff_client.post(
            reverse("import-upload", args=[campaign.slug]),
            {"kind": "reference", "archive": upload},
        )
    with archive.open("rb") as upload:
        response = staff_api.post(
            f"/api/campaigns/{campaign.slug}/imports/",
            {"kind": "reference", "archive": upload},
            format="multipart",
        )
    assert response.status_code == 202
    jobs = ImportJob.objects.filter(campaign=campaign).order_by("pk")
    assert [(job.origin, job.status) for job in jobs] == [("page", "done"), ("api", "done")]
    assert all(job.created_by.username == "organizer" for job in jobs)
    rows = history_rows(
        staff_client.get(reverse("campaign-detail", args=[campaign.slug])).content.decode()
    )
    assert ">API<" in rows[0] and ">page<" in rows[1]
    assert all(">organizer<" in row for row in rows)


@pytest.mark.django_db(transaction=True)
def test_the_api_lists_the_history_like_the_page(staff_api, imported, annotator):
    response = staff_api.get(f"/api/campaigns/{imported.slug}/imports/")
    assert response.status_code == 200
    rows = [
        {
            key: row[key]
            for key in (
                "kind",
                "team_name",
                "origin",
                "by",
                "status",
                "accepted",
                "skipped",
                "rejected",
            )
        }
        for row in response.json()["results"]
    ]
    assert rows == [
        {
            "kind": "submission",
            "team_name": "aurora",
            "origin": "command",
            "by": "",
            "status": "done",
            "accepted": 2,
            "skipped": 1,
            "rejected": 1,
        },
        {
            "kind": "reference",
            "team_name": "",
            "origin": "command",
            "by": "",
            "status": "done",
            "accepted": 3,
            "skipped": 0,
            "rejected": 0,
        },
    ]
    schema = staff_api.get("/api/schema/", {"format": "json"}).json()
    assert "get" in schema["paths"]["/api/campaigns/{slug}/imports/"]
    staff_api.force_authenticate(annotator)
    assert staff_api.get(f"/api/campaigns/{imported.slug}/imports/").status_code == 403


@pytest.mark.django_db
def test_import_detail_of_another_campaign_is_not_found(staff_client, campaign):
    other = CampaignFactory()
    job = ImportJob.objects.create(campaign=other, kind="reference", source="x.zip")
    response = staff_client.get(reverse("import-detail", args=[campaign.slug, job.pk]))
    assert response.status_code == 404


# --- clip browser ------------------------------------------------------------------------


@pytest.fixture
def browsed(db):
    """Two tasks, two teams: task1 has 11 episodes, task2 has 2; statuses set on three clips."""
    campaign = CampaignFactory(slug="browse")
    tasks = [TaskFactory(campaign=campaign, key=f"task{n}", number=n) for n in (1, 2)]
    teams = [TeamFactory(campaign=campaign, name=name) for name in ("aurora", "borealis")]
    episodes = [
        EpisodeFactory(task=task, key=f"episode_{number}", number=number)
        for task, n_episodes in zip(tasks, (11, 2), strict=True)
        for number in range(n_episodes)
    ]
    clips = {}
    for team in teams:
        rejected = [{"file": "test/task2/episode_9.mp4", "reason": f"{team.name}: no frames"}]
        submission = SubmissionFactory(team=team, version=1, report={"rejected": rejected})
        for episode in episodes:
            clips[(team.name, episode.task.key, episode.number)] = ClipFactory(
                submission=submission, episode=episode
            )
    raters = UserFactory.create_batch(2)
    partly, fully = clips[("aurora", "task1", 0)], clips[("borealis", "task2", 1)]
    AssignmentFactory(clip=partly, annotator=raters[0], campaign=campaign, status="done")
    AssignmentFactory(clip=partly, annotator=raters[1], campaign=campaign, status="pending")
    for rater in raters:
        AssignmentFactory(clip=fully, annotator=rater, campaign=campaign, status="done")
    return campaign, clips


def rows_of(html: str) -> list[str]:
    body = html[html.index('id="clips"') :]
    return re.findall(
        r"<tr(?: class=\"rejected\")?>\s*<td>(.*?)</td><td>(.*?)</td><td>(.*?)</td>", body
    )


@pytest.mark.django_db
def test_the_browser_is_paged_twenty_to_a_page(staff_client, browsed):
    campaign, clips = browsed
    url = reverse("clip-browser", args=[campaign.slug])
    first = staff_client.get(url).content.decode()
    second = staff_client.get(url, {"page": 2}).content.decode()
    # 26 clips and 2 rejected files: 28 rows, clips by task, episode and team, then the files.
    assert "28 rows" in first and "page 1 of 2" in first
    expected = [
        (task, f"episode_{n}", f"{team} v1")
        for task, count in (("task1", 11), ("task2", 2))
        for n in range(count)
        for team in ("aurora", "borealis")
    ]
    assert rows_of(first) == expected[:20]
    rest = rows_of(second)
    assert rest[:6] == expected[20:]
    assert rest[6:] == [
        ("task2", "<code>test/task2/episode_9.mp4</code>", "aurora v1"),
        ("task2", "<code>test/task2/episode_9.mp4</code>", "borealis v1"),
    ]
    assert "<video" not in first  # no native player: a pair opens in the synced one


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("partly", [("task1", "episode_0", "aurora v1")]),
        ("fully", [("task2", "episode_1", "borealis v1")]),
        (
            "rejected",
            [
                ("task2", "<code>test/task2/episode_9.mp4</code>", "aurora v1"),
                ("task2", "<code>test/task2/episode_9.mp4</code>", "borealis v1"),
            ],
        ),
    ],
)
def test_the_browser_filters_by_status(staff_client, browsed, status, expected):
    campaign, _ = browsed
    html = staff_client.get(reverse("clip-browser", args=[campaign.slug]), {"status": status})
    assert rows_of(html.content.decode()) == expected


@pytest.mark.django_db
def test_the_browser_filters_by_task_and_team_and_counts_ratings(staff_client, browsed):
    campaign, clips = browsed
    task2 = campaign.tasks.get(key="task2")
    borealis = campaign.teams.get(name="borealis")
    url = reverse("clip-browser", args=[campaign.slug])
    html = staff_client.get(url, {"task": task2.pk, "team": borealis.pk}).content.decode()
    assert rows_of(html) == [
        ("task2", "episode_0", "borealis v1"),
        ("task2", "episode_1", "borealis v1"),
        ("task2", "<code>test/task2/episode_9.mp4</code>", "borealis v1"),
    ]
    assert "2 of 2" in html and "borealis: no frames" in html
    unrated = staff_client.get(url, {"status": "unrated", "team": borealis.pk}).content.decode()
    assert len(rows_of(unrated)) == 12  # 13 clips of borealis, one fully rated
    review = reverse("clip-review", args=[campaign.slug, clips[("borealis", "task2", 0)].pk])
    assert review in html


@pytest.mark.django_db
def test_the_browser_refuses_a_filter_it_does_not_know(staff_client, browsed):
    campaign, _ = browsed
    other_task = TaskFactory()  # of another campaign
    url = reverse("clip-browser", args=[campaign.slug])
    for params in ({"status": "lost"}, {"task": other_task.pk}, {"team": "x"}):
        response = staff_client.get(url, params)
        assert response.status_code == 400, params
        assert 'class="error"' in response.content.decode()


@pytest.mark.django_db
def test_a_pair_opens_in_the_synced_player_read_only(staff_client, browsed):
    campaign, clips = browsed
    clip = clips[("aurora", "task1", 0)]
    response = staff_client.get(
        reverse("clip-review", args=[campaign.slug, clip.pk]), {"back": "status=partly&page=1"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    config = json.loads(
        re.search(r'id="rate-config" type="application/json">(.*?)</script>', html).group(1)
    )
    assert config["read_only"] is True
    assert config["reference"]["video"] == reverse(
        "media", args=[clip.episode.reference.token, "video"]
    )
    assert config["generated"]["video"] == reverse("media", args=[clip.asset.token, "video"])
    assert 'src="/static/annotate/player.js"' in html
    assert 'id="video-ref"' in html and 'id="video-gen"' in html and 'id="btn-play"' in html
    assert 'id="rating-form"' not in html and 'id="watch"' not in html
    assert "1 of 2 rated" in html
    assert reverse("clip-browser", args=[campaign.slug]) + "?status=partly&amp;page=1" in html


@pytest.mark.django_db
def test_a_clip_of_another_campaign_is_not_found(staff_client, browsed):
    campaign, _ = browsed
    stranger = ClipFactory()
    response = staff_client.get(reverse("clip-review", args=[campaign.slug, stranger.pk]))
    assert response.status_code == 404


# --- assignments -------------------------------------------------------------------------


@pytest.fixture
def planned(db):
    from annotate.services import assignment_plan_apply
    from tests.annotate.test_assignments_services import build_campaign

    built = build_campaign(slug="planned", teams=2, tasks=2, episodes=3, annotators=3)
    assignment_plan_apply(campaign=built.campaign, with_annotators=built.users)
    return built


def selected_option(html: str, name: str) -> str:
    select = re.search(rf'<select name="{name}".*?</select>', html, flags=re.S).group(0)
    options = re.findall(r"<option( selected)?>(.*?)</option>", select)
    chosen = [text for flag, text in options if flag]
    return chosen[0] if chosen else options[0][1]  # a browser shows the first when none is


def test_move_offers_two_different_people_by_default(staff_client, planned):
    html = staff_client.get(reverse("assignments", args=[planned.campaign.slug])).content.decode()
    source, target = selected_option(html, "from_annotator"), selected_option(html, "to_annotator")
    assert source and target and source != target


def test_moving_work_to_its_own_holder_is_refused(staff_client, planned):
    holder = planned.users[0]
    before = list(Assignment.objects.order_by("pk").values_list("pk", "annotator_id", "status"))
    response = staff_client.post(
        reverse("assignment-move", args=[planned.campaign.slug]),
        {"from_annotator": holder.username, "to_annotator": holder.username},
        follow=True,
    )
    assert f"cannot reassign from {holder.username!r} to the same annotator" in (
        response.content.decode().replace("&#x27;", "'")
    )
    chinese = staff_client.post(
        reverse("assignment-move", args=[planned.campaign.slug]),
        {"from_annotator": holder.username, "to_annotator": holder.username},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert f"不能把 {holder.username!r} 的工作转给同一位标注员" in (
        chinese.content.decode().replace("&#x27;", "'")
    )
    assert (
        list(Assignment.objects.order_by("pk").values_list("pk", "annotator_id", "status"))
        == before
    )


def test_add_annotator_lists_the_eligible_and_says_who_they_are(staff_client, planned):
    UserFactory(username="newcomer")
    UserFactory(username="gone", is_active=False)
    UserFactory(username="boss", is_staff=True)
    html = staff_client.get(reverse("assignments", args=[planned.campaign.slug])).content.decode()
    add = re.search(r'<select name="username" required>(.*?)</select>', html, flags=re.S).group(1)
    assert re.findall(r'<option value="([^"]+)">', add) == ["newcomer"]
    assert "Active accounts without organizer rights that are not on the roster yet" in html


def test_add_annotator_explains_an_empty_list(staff_client, planned):
    html = staff_client.get(reverse("assignments", args=[planned.campaign.slug])).content.decode()
    assert '<select name="username"' not in html
    assert "Nobody left to add" in html
    assert f'href="{reverse("people", args=[planned.campaign.slug])}"' in html
    assert re.search(r"<button[^>]*disabled[^>]*>Add</button>", html) is None


@pytest.mark.django_db(transaction=True)
def test_a_command_import_that_cannot_start_still_ends_in_the_history(campaign, tmp_path):
    with pytest.raises(CommandError):
        call_command("import_reference", campaign.slug, str(tmp_path / "nowhere"), verbosity=0)
    job = ImportJob.objects.get(campaign=campaign)
    assert (job.status, job.origin) == ("failed", "command")
    assert job.error and job.finished_at is not None
