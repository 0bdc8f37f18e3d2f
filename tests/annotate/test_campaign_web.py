"""A campaign's life through its pages and its API."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from annotate.models import Campaign, CampaignStateChange, Guideline, Task
from annotate.services import campaign_create
from tests.factories import AssignmentFactory, TaskFactory, UserFactory

pytestmark = pytest.mark.django_db

CSV_GOOD = (
    b"task,title,instruction\n1,Towel,Fold the towel.\n3,Banana,Put the banana in the basket.\n"
)
CSV_BAD = b"task,title,instruction\n1,Towel,Fold the towel.\ntask-two,Banana,Basket.\n"


@pytest.fixture
def draft(db):
    return campaign_create(slug="cvpr26", name="CVPR 2026")


# ---- pages ----


def test_an_organizer_creates_a_campaign_from_the_list_page(staff_client):
    listing = staff_client.get(reverse("campaign-list")).content.decode()
    assert reverse("campaign-create") in listing
    form = {
        "slug": "cvpr26",
        "name": "CVPR 2026",
        "raters_per_cell": "2",
        "max_clips_per_rater": "8",
        "seed": "11",
        "require_full_watch": "on",
    }
    response = staff_client.post(reverse("campaign-create"), form)
    assert response.status_code == 302 and response.url == reverse(
        "campaign-detail", args=["cvpr26"]
    )
    campaign = Campaign.objects.get(slug="cvpr26")
    assert (
        campaign.state,
        campaign.raters_per_cell,
        campaign.max_clips_per_rater,
        campaign.seed,
    ) == (
        "draft",
        2,
        8,
        11,
    )
    again = staff_client.post(reverse("campaign-create"), {**form, "name": "Other"})
    assert again.status_code == 400 and "a campaign with the slug" in again.content.decode()
    reserved = staff_client.post(reverse("campaign-create"), {**form, "slug": "new"})
    assert reserved.status_code == 400 and "reserved" in reserved.content.decode()
    assert Campaign.objects.count() == 1


def test_the_settings_page_changes_options_and_refuses_plan_options_once_locked(
    staff_client, draft
):
    url = reverse("campaign-settings", args=[draft.slug])
    assert 'value="CVPR 2026"' in staff_client.get(url).content.decode()
    form = {
        "name": "CVPR 2026 track",
        "raters_per_cell": "3",
        "max_clips_per_rater": "10",
        "seed": "4",
    }
    assert staff_client.post(url, form).status_code == 302
    draft.refresh_from_db()
    assert (draft.name, draft.seed, draft.require_full_watch) == ("CVPR 2026 track", 4, False)
    Campaign.objects.filter(pk=draft.pk).update(state="locked")
    refused = staff_client.post(url, {**form, "seed": "5"})
    assert refused.status_code == 400 and "re-open it to change seed" in refused.content.decode()
    assert Campaign.objects.get().seed == 4


def test_the_campaign_page_shows_the_state_and_moves_it_with_its_buttons(
    staff_client, organizer, draft
):
    detail = reverse("campaign-detail", args=[draft.slug])
    page = staff_client.get(detail).content.decode()
    assert "State: <span" in page and 'id="state-open"' in page and 'id="state-locked"' not in page
    state_url = reverse("campaign-state", args=[draft.slug])
    assert staff_client.post(state_url, {"state": "open"}).status_code == 302
    page = staff_client.get(detail).content.decode()
    assert 'id="state-locked"' in page and 'id="state-open"' not in page
    assert staff_client.post(state_url, {"state": "locked"}).status_code == 302
    # Re-opening needs a reason: refused without one, with the service's message.
    staff_client.post(state_url, {"state": "open"})
    page = staff_client.get(detail).content.decode()
    assert "needs a reason" in page and Campaign.objects.get().state == "locked"
    staff_client.post(state_url, {"state": "open", "reason": "one rater was late"})
    assert Campaign.objects.get().state == "open"
    page = staff_client.get(detail).content.decode()
    assert "one rater was late" in page and organizer.username in page
    assert list(CampaignStateChange.objects.order_by("pk").values_list("to_state", flat=True)) == [
        "open",
        "locked",
        "open",
    ]


def test_the_tasks_page_adds_edits_and_imports_tasks(staff_client, draft):
    url = reverse("tasks", args=[draft.slug])
    added = staff_client.post(
        reverse("task-add", args=[draft.slug]),
        {"number": "2", "title": "Cup", "instruction": "Stack it."},
    )
    assert added.status_code == 302
    edited = staff_client.post(
        reverse("task-edit", args=[draft.slug, 2]),
        {"title": "Cups", "instruction": "Stack the cups."},
    )
    assert edited.status_code == 302
    assert Task.objects.values_list("key", "title", "instruction").get() == (
        "task2",
        "Cups",
        "Stack the cups.",
    )
    upload = reverse("tasks-upload", args=[draft.slug])
    bad = staff_client.post(upload, {"file": SimpleUploadedFile("tasks.csv", CSV_BAD)})
    assert bad.status_code == 400
    assert "Nothing was imported: line 3, column task" in bad.content.decode()
    assert Task.objects.count() == 1
    good = staff_client.post(upload, {"file": SimpleUploadedFile("tasks.csv", CSV_GOOD)})
    assert good.status_code == 302
    page = staff_client.get(url).content.decode()
    assert "2 tasks created, 0 updated" in page
    for text in ("task1", "Fold the towel.", "task2", "Stack the cups.", "task3", "Banana"):
        assert text in page
    duplicate = staff_client.post(reverse("task-add", args=[draft.slug]), {"number": "2"})
    assert duplicate.status_code == 400 and "already has task2" in duplicate.content.decode()


def test_the_guideline_page_shows_the_organizers_text_escaped_to_the_campaigns_people(
    client, staff_client, draft
):
    edit = reverse("guideline-edit", args=[draft.slug])
    assert "insert the ear into the box" in staff_client.get(edit).content.decode()
    text = "# How to rate\nCompare <script>alert(1)</script> both clips.\n\n- Score 3: all good"
    assert staff_client.post(edit, {"text": text}).status_code == 302
    assert Guideline.objects.get(campaign=draft).text == text

    rater = AssignmentFactory(clip__submission__team__campaign=draft).annotator
    client.force_login(rater)
    page = client.get(reverse("guideline", args=[draft.slug])).content.decode()
    assert "<h2>How to rate</h2>" in page and "<li>Score 3: all good</li>" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    client.force_login(UserFactory())
    assert client.get(reverse("guideline", args=[draft.slug])).status_code == 404


def test_the_organizer_edits_the_guideline_of_each_language_on_its_page(
    client, staff_client, draft
):
    edit = reverse("guideline-edit", args=[draft.slug])
    chinese = staff_client.get(edit, {"language": "zh-hans"}).content.decode()
    assert "将耳朵插入盒子" in chinese  # the protocol's Chinese text, as its readers see it now
    assert 'lang="zh-hans"' in chinese and 'action="?language=zh-hans"' in chinese
    english = list(Guideline.objects.filter(campaign=draft, language="en").values("text"))
    saved = staff_client.post(f"{edit}?language=zh-hans", {"text": "# 评分\n观看两段视频。"})
    assert saved.status_code == 302
    assert (
        Guideline.objects.get(campaign=draft, language="zh-hans").text == "# 评分\n观看两段视频。"
    )
    assert list(Guideline.objects.filter(campaign=draft, language="en").values("text")) == english
    assert staff_client.get(edit, {"language": "fr"}).status_code == 404
    rater = AssignmentFactory(clip__submission__team__campaign=draft).annotator
    client.force_login(rater)
    page = reverse("guideline", args=[draft.slug])
    assert "<h2>评分</h2>" in client.get(page, HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    assert "评分" not in client.get(page, HTTP_ACCEPT_LANGUAGE="en").content.decode()


# ---- API ----


@pytest.fixture
def api(organizer):
    client = APIClient()
    client.force_authenticate(organizer)
    return client


def test_api_creates_updates_and_moves_a_campaign(api, organizer):
    made = api.post(
        "/api/campaigns/",
        {"slug": "iros", "name": "IROS", "raters_per_cell": 2, "seed": 3},
        format="json",
    )
    assert made.status_code == 201
    assert {k: made.json()[k] for k in ("slug", "state", "raters_per_cell", "seed")} == {
        "slug": "iros",
        "state": "draft",
        "raters_per_cell": 2,
        "seed": 3,
    }
    assert api.post("/api/campaigns/", {"slug": "iros", "name": "Again"}, format="json").json() == {
        "slug": ["a campaign with the slug 'iros' exists"]
    }
    patched = api.patch("/api/campaigns/iros/", {"max_clips_per_rater": 6}, format="json")
    assert patched.status_code == 200 and patched.json()["max_clips_per_rater"] == 6
    assert (
        api.patch("/api/campaigns/iros/", {"raters_per_cell": 0}, format="json").status_code == 400
    )

    opened = api.post("/api/campaigns/iros/state/", {"state": "open"}, format="json")
    assert opened.status_code == 200
    assert {k: opened.json()[k] for k in ("from_state", "to_state", "changed_by")} == {
        "from_state": "draft",
        "to_state": "open",
        "changed_by": organizer.username,
    }
    refused = api.post("/api/campaigns/iros/state/", {"state": "published"}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {
        "state": ["an open campaign cannot become published: it can become locked"]
    }
    history = api.get("/api/campaigns/iros/state/").json()["results"]
    assert [row["to_state"] for row in history] == ["open"]
    assert api.get("/api/campaigns/none/").status_code == 404


def test_api_lists_creates_updates_and_imports_tasks(api, draft):
    TaskFactory(campaign=draft, number=1, key="task1")
    made = api.post(
        f"/api/campaigns/{draft.slug}/tasks/", {"number": 4, "title": "Drawer"}, format="json"
    )
    assert made.status_code == 201 and made.json()["key"] == "task4"
    assert (
        api.post(f"/api/campaigns/{draft.slug}/tasks/", {"number": 4}, format="json").status_code
        == 400
    )
    patched = api.patch(
        f"/api/campaigns/{draft.slug}/tasks/4/", {"instruction": "Close the drawer."}, format="json"
    )
    assert patched.json() == {
        "key": "task4",
        "number": 4,
        "title": "Drawer",
        "instruction": "Close the drawer.",
        "title_zh_hans": "",
        "instruction_zh_hans": "",
    }
    bad = api.post(
        f"/api/campaigns/{draft.slug}/tasks/import/", {"file": SimpleUploadedFile("t.csv", CSV_BAD)}
    )
    assert bad.status_code == 400 and bad.json()["file"][0].startswith("line 3, column task")
    good = api.post(
        f"/api/campaigns/{draft.slug}/tasks/import/",
        {"file": SimpleUploadedFile("t.csv", CSV_GOOD)},
    )
    assert good.json() == {"created": ["task3"], "updated": ["task1"]}
    listed = api.get(f"/api/campaigns/{draft.slug}/tasks/").json()["results"]
    assert [(t["key"], t["title"]) for t in listed] == [
        ("task1", "Towel"),
        ("task3", "Banana"),
        ("task4", "Drawer"),
    ]


def test_api_guideline_reads_for_the_campaigns_people_and_writes_for_organizers(api, draft):
    rater = AssignmentFactory(clip__submission__team__campaign=draft).annotator
    as_rater = APIClient()
    as_rater.force_authenticate(rater)
    assert (
        "insert the ear" in as_rater.get(f"/api/campaigns/{draft.slug}/guideline/").json()["text"]
    )
    assert (
        as_rater.put(
            f"/api/campaigns/{draft.slug}/guideline/", {"text": "x"}, format="json"
        ).status_code
        == 403
    )
    put = api.put(
        f"/api/campaigns/{draft.slug}/guideline/", {"text": "# Rate\nCarefully."}, format="json"
    )
    assert put.json() == {"language": "en", "text": "# Rate\nCarefully."}
    assert (
        as_rater.get(f"/api/campaigns/{draft.slug}/guideline/").json()["text"]
        == "# Rate\nCarefully."
    )
    stranger = APIClient()
    stranger.force_authenticate(UserFactory())
    assert stranger.get(f"/api/campaigns/{draft.slug}/guideline/").status_code == 404


def test_the_new_endpoints_are_in_the_schema_with_their_errors(api):
    schema = api.get("/api/schema/?format=json").json()["paths"]
    expected = {
        "/api/campaigns/{slug}/": {"get", "patch"},
        "/api/campaigns/{slug}/state/": {"get", "post"},
        "/api/campaigns/{slug}/tasks/": {"get", "post"},
        "/api/campaigns/{slug}/tasks/{number}/": {"get", "patch"},
        "/api/campaigns/{slug}/tasks/import/": {"post"},
        "/api/campaigns/{slug}/guideline/": {"get", "put"},
    }
    for path, methods in expected.items():
        assert methods <= set(schema[path]), path
        for method in methods - {"get"}:
            assert {"400", "401", "403", "404"} <= set(schema[path][method]["responses"]), (
                path,
                method,
            )
