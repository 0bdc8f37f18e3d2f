"""A campaign's life: creation, options, the state machine, tasks and their CSV, guideline."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from annotate.guideline import DEFAULT_GUIDELINE_EN, render_guideline
from annotate.models import Campaign, CampaignStateChange, Guideline, Rating, Task
from annotate.selectors.campaigns import guideline_text, user_may_read_guideline
from annotate.services import (
    CampaignRefused,
    RatingRefused,
    campaign_create,
    campaign_state_change,
    campaign_transitions,
    campaign_update,
    guideline_save,
    rating_revise,
    rating_submit,
    task_create,
    task_update,
    tasks_import,
)
from tests.factories import AssignmentFactory, CampaignFactory, TaskFactory, UserFactory

pytestmark = pytest.mark.django_db

DRAFT, OPEN, LOCKED, PUBLISHED = "draft", "open", "locked", "published"
WATCHED = {"watched_reference": 1.0, "watched_generated": 1.0}
NOW = dt.datetime(2026, 5, 1, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def draft():
    return campaign_create(slug="cvpr26", name="CVPR 2026", raters_per_cell=2, seed=5)


def move(campaign, *states, by=None, reason=""):
    for state in states:
        campaign_state_change(campaign=campaign, to_state=state, by=by, reason=reason)


# ---- creation and options ----


def test_a_new_campaign_is_a_draft_with_its_options_and_the_protocols_guideline(draft):
    draft.refresh_from_db()
    assert (draft.state, draft.raters_per_cell, draft.max_clips_per_rater, draft.seed) == (
        DRAFT,
        2,
        10,
        5,
    )
    assert draft.require_full_watch and not draft.accepts_ratings
    stored = Guideline.objects.get(campaign=draft)
    assert stored.language == "en"
    # The protocol's own words for its examples, in English only.
    assert "insert the ear into the box" in stored.text
    assert "banana disappears from the basket" in stored.text
    assert "香蕉" not in stored.text


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"slug": "cvpr26"}, "slug"),  # taken
        ({"slug": "new"}, "slug"),  # the create page's own path
        ({"slug": "bad slug"}, "slug"),
        ({"slug": "x", "raters_per_cell": 0}, "raters_per_cell"),
        ({"slug": "x", "max_clips_per_rater": 0}, "max_clips_per_rater"),
        ({"slug": "x", "name": ""}, "name"),
    ],
)
def test_bad_options_are_refused_naming_the_field_and_nothing_is_written(draft, kwargs, field):
    before = Campaign.objects.count()
    with pytest.raises(CampaignRefused) as refused:
        campaign_create(**{"name": "Another", **kwargs})
    assert field in refused.value.message_dict
    assert Campaign.objects.count() == before


def test_options_change_while_draft_or_open_and_freeze_once_locked(draft):
    campaign_update(campaign=draft, raters_per_cell=3, seed=9, require_full_watch=False)
    draft.refresh_from_db()
    assert (draft.raters_per_cell, draft.seed, draft.require_full_watch) == (3, 9, False)
    move(draft, OPEN, LOCKED)
    with pytest.raises(CampaignRefused, match="re-open it to change seed"):
        campaign_update(campaign=draft, seed=10)
    # The name is no plan option: it may still change, and the same seed is no change.
    campaign_update(campaign=draft, name="CVPR 2026 track", seed=9)
    draft.refresh_from_db()
    assert (draft.name, draft.seed) == ("CVPR 2026 track", 9)


# ---- the state machine ----


def test_the_forward_path_is_recorded_with_who_when_and_why(draft):
    organizer = UserFactory(is_staff=True)
    change = campaign_state_change(campaign=draft, to_state=OPEN, by=organizer, now=NOW)
    assert draft.state == OPEN and Campaign.objects.get().state == OPEN
    assert (change.from_state, change.to_state, change.changed_by, change.changed_at) == (
        DRAFT,
        OPEN,
        organizer,
        NOW,
    )
    move(draft, LOCKED, PUBLISHED)
    history = list(CampaignStateChange.objects.order_by("pk").values_list("from_state", "to_state"))
    assert history == [(DRAFT, OPEN), (OPEN, LOCKED), (LOCKED, PUBLISHED)]


@pytest.mark.parametrize(
    ("path", "refused", "message"),
    [
        ((), LOCKED, "a draft campaign cannot become locked: it can become open"),
        ((), PUBLISHED, "cannot become published"),
        ((), DRAFT, "already draft"),
        ((OPEN,), DRAFT, "cannot become draft"),
        ((OPEN,), PUBLISHED, "cannot become published: it can become locked"),
        ((OPEN, LOCKED), DRAFT, "cannot become draft"),
        ((OPEN, LOCKED, PUBLISHED), OPEN, "cannot become open: it can become locked"),
        ((), "archived", "not a state"),
    ],
)
def test_moves_off_the_path_are_refused_with_the_allowed_ones_and_not_recorded(
    draft, path, refused, message
):
    move(draft, *path)
    with pytest.raises(CampaignRefused, match=message):
        campaign_state_change(campaign=draft, to_state=refused, by=None)
    assert Campaign.objects.get().state == (path[-1] if path else DRAFT)
    assert CampaignStateChange.objects.count() == len(path)


@pytest.mark.parametrize(
    ("path", "back"), [((OPEN, LOCKED), OPEN), ((OPEN, LOCKED, PUBLISHED), LOCKED)]
)
def test_going_back_needs_a_reason_which_is_kept(draft, path, back):
    move(draft, *path)
    with pytest.raises(CampaignRefused, match="needs a reason"):
        campaign_state_change(campaign=draft, to_state=back, by=None, reason="  ")
    change = campaign_state_change(
        campaign=draft, to_state=back, by=None, reason="a rater's clips were mixed up"
    )
    assert Campaign.objects.get().state == back
    assert change.reason == "a rater's clips were mixed up"


def test_each_state_lists_its_moves():
    assert campaign_transitions(state=DRAFT) == [(OPEN, False)]
    assert campaign_transitions(state=OPEN) == [(LOCKED, False)]
    assert campaign_transitions(state=LOCKED) == [(OPEN, True), (PUBLISHED, False)]
    assert campaign_transitions(state=PUBLISHED) == [(LOCKED, True)]


# ---- ratings follow the state ----


@pytest.fixture
def assignment():
    return AssignmentFactory(clip__submission__team__campaign=CampaignFactory(state=DRAFT))


def _rate(assignment):
    return rating_submit(
        assignment=assignment, user=assignment.annotator, score=2, now=NOW, **WATCHED
    )


def test_a_draft_campaign_takes_no_rating(assignment):
    with pytest.raises(RatingRefused, match="not open yet"):
        _rate(assignment)
    assert not Rating.objects.exists()


def test_an_open_campaign_takes_ratings_and_revisions_a_locked_one_neither(assignment):
    campaign = assignment.campaign
    move(campaign, OPEN)
    assert _rate(assignment).score == 2
    move(campaign, LOCKED)
    with pytest.raises(RatingRefused, match="campaign is locked"):
        rating_revise(assignment=assignment, user=assignment.annotator, score=3)
    move(campaign, PUBLISHED)
    with pytest.raises(RatingRefused, match="campaign is published"):
        rating_revise(assignment=assignment, user=assignment.annotator, score=3)
    move(campaign, LOCKED, reason="a late correction")
    campaign_state_change(campaign=campaign, to_state=OPEN, by=None, reason="one more pass")
    assert rating_revise(assignment=assignment, user=assignment.annotator, score=3).revision == 2


# ---- tasks ----


def test_tasks_are_created_with_the_layouts_key_and_edited(draft):
    task = task_create(campaign=draft, number=3, title="Banana", instruction=" Put it in. ")
    assert (task.key, task.number, task.title, task.instruction) == (
        "task3",
        3,
        "Banana",
        "Put it in.",
    )
    with pytest.raises(CampaignRefused, match="already has task3"):
        task_create(campaign=draft, number=3)
    with pytest.raises(CampaignRefused, match="positive"):
        task_create(campaign=draft, number=0)
    task_update(task=task, instruction="Put the banana in the basket.")
    task.refresh_from_db()
    assert (task.title, task.instruction) == ("Banana", "Put the banana in the basket.")
    with pytest.raises(CampaignRefused, match="at most 200"):
        task_update(task=task, title="x" * 201)


def test_a_tasks_csv_creates_missing_tasks_and_updates_existing_ones(draft):
    TaskFactory(campaign=draft, number=2, key="task2", title="old", instruction="old")
    TaskFactory(campaign=draft, number=5, key="task5", title="Same", instruction="Same.")
    data = (
        "\ufefftask,title,instruction\r\n"  # Excel's byte-order mark and line ends
        'task1,Towel,"Fold the towel, then\nplace it on the left."\r\n'
        "2,Banana,Put the banana in the basket.\r\n"
        "\r\n"
        "task5,Same,Same.\r\n"
    ).encode()
    result = tasks_import(campaign=draft, data=data)
    assert (result.created, result.updated) == (["task1"], ["task2"])
    rows = list(
        Task.objects.filter(campaign=draft).values_list("key", "number", "title", "instruction")
    )
    assert rows == [
        ("task1", 1, "Towel", "Fold the towel, then\nplace it on the left."),
        ("task2", 2, "Banana", "Put the banana in the basket."),
        ("task5", 5, "Same", "Same."),
    ]


def test_a_tasks_csv_carries_the_chinese_texts_in_optional_columns_in_any_order(draft):
    TaskFactory(
        campaign=draft,
        number=2,
        key="task2",
        title="Banana",
        instruction="Put the banana in the basket.",
        title_zh_hans="香蕉",
        instruction_zh_hans="把香蕉放进篮子。",
    )
    data = (
        "instruction_zh_hans,task,title,instruction,title_zh_hans\n"
        "叠好毛巾。,1,Towel,Fold the towel.,毛巾\n"
        ",2,Banana,Put the banana in the basket.,香蕉\n"
    ).encode()
    result = tasks_import(campaign=draft, data=data)
    # Task 2's Chinese instruction is emptied by its empty cell: a change.
    assert (result.created, result.updated) == (["task1"], ["task2"])
    texts = list(
        Task.objects.filter(campaign=draft).values_list(
            "key", "title", "instruction", "title_zh_hans", "instruction_zh_hans"
        )
    )
    assert texts == [
        ("task1", "Towel", "Fold the towel.", "毛巾", "叠好毛巾。"),
        ("task2", "Banana", "Put the banana in the basket.", "香蕉", ""),
    ]
    # A file without the Chinese columns keeps the Chinese texts.
    result = tasks_import(
        campaign=draft, data=b"task,title,instruction\n1,Towel,Fold the towel twice.\n"
    )
    assert result.updated == ["task1"]
    task = Task.objects.get(campaign=draft, key="task1")
    assert (task.instruction, task.title_zh_hans, task.instruction_zh_hans) == (
        "Fold the towel twice.",
        "毛巾",
        "叠好毛巾。",
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("", "line 1: the file is empty"),
        ("task,name,instruction\n", "line 1: the header must be task,title,instruction"),
        ("task,title,instruction\n1,A,a\nthree,B,b\n", "line 3, column task"),
        ("task,title,instruction\n1,A,a\ntask0,B,b\n", "line 3, column task"),
        ("task,title,instruction\n1,A,a\n2,B\n", "line 3: 3 columns expected, 2 found"),
        (
            "task,title,instruction\n1,A,a\n2,B,b\ntask1,C,c\n",
            "line 4, column task: task1 also appears on line 2",
        ),
        ("task,title,instruction\n1,A,a\n2," + "x" * 201 + ",b\n", "line 3, column title"),
        ("task,title,instruction\n1,A,a\n2,B," + "x" * 5001 + "\n", "line 3, column instruction"),
        ("task,title,instruction,title\n", "line 1: the header must be"),
        ("task,title,instruction,notes\n", "line 1: the header must be"),
        ("task,title_zh_hans,instruction_zh_hans\n", "line 1: the header must be"),
        (
            "task,title,instruction,title_zh_hans\n1,A,a,甲\n2,B,b\n",
            "line 3: 4 columns expected, 3 found",
        ),
        (
            "task,title,instruction,title_zh_hans\n1,A,a,甲\n2,B,b," + "乙" * 201 + "\n",
            "line 3, column title_zh_hans: at most 200",
        ),
        # A quoted cell over two lines: the row is reported at the line it ends on.
        ('task,title,instruction\n1,A,"two\nlines"\nx,B,b\n', "line 4, column task"),
    ],
)
def test_a_bad_tasks_csv_names_line_and_column_and_writes_nothing(draft, text, where):
    TaskFactory(campaign=draft, number=1, key="task1", title="kept", instruction="kept")
    with pytest.raises(CampaignRefused) as refused:
        tasks_import(campaign=draft, data=text.encode())
    assert refused.value.messages[0].startswith(where)
    assert list(Task.objects.filter(campaign=draft).values_list("number", "title")) == [(1, "kept")]


def test_a_tasks_file_that_is_not_utf8_names_its_line(draft):
    data = "task,title,instruction\n1,Café,ok\n".encode("latin-1")
    with pytest.raises(CampaignRefused, match="line 2: the file is not UTF-8"):
        tasks_import(campaign=draft, data=data)
    assert not Task.objects.exists()


# ---- the guideline ----


def test_the_guideline_is_edited_per_language_and_falls_back_to_english(draft):
    organizer = UserFactory(is_staff=True)
    guideline_save(campaign=draft, text="# Rate\nWatch both.", by=organizer)
    assert guideline_text(campaign=draft) == "# Rate\nWatch both."
    assert guideline_text(campaign=draft, language="zh-hans") == "# Rate\nWatch both."
    guideline_save(campaign=draft, text="观看两段视频。", by=organizer, language="zh-hans")
    assert guideline_text(campaign=draft, language="zh-hans") == "观看两段视频。"
    with pytest.raises(CampaignRefused, match="cannot be empty"):
        guideline_save(campaign=draft, text="  ", by=organizer)
    with pytest.raises(CampaignRefused, match="not one of"):
        guideline_save(campaign=draft, text="x", by=organizer, language="fr")
    # A campaign from before guidelines existed reads the protocol's text.
    assert guideline_text(campaign=CampaignFactory()) == DEFAULT_GUIDELINE_EN


def test_the_guideline_renders_escaped_with_headings_lists_and_line_breaks():
    html = render_guideline(
        "# Scores\n## 3 points\nAll <b>good</b>\nstill this paragraph\n\n- one & two\n- <script>x</script>\nafter"
    )
    assert html == (
        "<h2>Scores</h2>\n<h3>3 points</h3>\n"
        "<p>All &lt;b&gt;good&lt;/b&gt;<br>still this paragraph</p>\n"
        "<ul><li>one &amp; two</li><li>&lt;script&gt;x&lt;/script&gt;</li></ul>\n"
        "<p>after</p>"
    )
    assert "<script>" not in render_guideline(DEFAULT_GUIDELINE_EN)


def test_the_guideline_is_for_the_campaigns_people(draft):
    member, roster, stranger = UserFactory(), UserFactory(), UserFactory()
    AssignmentFactory(clip__submission__team__campaign=draft, annotator=member)
    draft.annotators.add(roster)
    assert user_may_read_guideline(user=member, campaign=draft)
    assert user_may_read_guideline(user=roster, campaign=draft)
    assert user_may_read_guideline(user=UserFactory(is_staff=True), campaign=draft)
    assert not user_may_read_guideline(user=stranger, campaign=draft)


# ---- the commands ----


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_commands_create_a_campaign_import_its_tasks_and_move_it(tmp_path):
    said = run(
        "campaign_create", "iros", "--name", "IROS", "--raters", "2", "--cap", "6", "--seed", "4"
    )
    assert "created in draft" in said
    campaign = Campaign.objects.get(slug="iros")
    assert (campaign.raters_per_cell, campaign.max_clips_per_rater, campaign.seed) == (2, 6, 4)

    csv_file = tmp_path / "tasks.csv"
    csv_file.write_text("task,title,instruction\n1,Towel,Fold it.\n2,Banana,Basket.\n")
    assert "2 tasks created, 0 updated" in run("tasks_import", "iros", str(csv_file))
    assert list(campaign.tasks.values_list("key", "title")) == [
        ("task1", "Towel"),
        ("task2", "Banana"),
    ]

    assert "draft -> open" in run("campaign_state", "iros", "open")
    assert "open -> locked" in run("campaign_state", "iros", "locked")
    with pytest.raises(CommandError, match="needs a reason"):
        run("campaign_state", "iros", "open")
    assert "locked -> open" in run("campaign_state", "iros", "open", "--reason", "late rater")
    change = CampaignStateChange.objects.filter(campaign=campaign).first()
    assert (change.to_state, change.reason, change.changed_by) == (OPEN, "late rater", None)


def test_the_commands_refuse_clearly(tmp_path):
    with pytest.raises(CommandError, match="raters_per_cell"):
        run("campaign_create", "iros", "--name", "IROS", "--raters", "0")
    with pytest.raises(CommandError, match="no campaign 'nope'"):
        run("campaign_state", "nope", "open")
    run("campaign_create", "iros", "--name", "IROS")
    with pytest.raises(CommandError, match="cannot become published"):
        run("campaign_state", "iros", "published")
    bad = tmp_path / "tasks.csv"
    bad.write_text("task,title,instruction\n1,Towel,Fold it.\nx,Banana,Basket.\n")
    with pytest.raises(CommandError, match="line 3, column task.*nothing was imported"):
        run("tasks_import", "iros", str(bad))
    assert not Task.objects.exists()
    with pytest.raises(CommandError, match="cannot read"):
        run("tasks_import", "iros", str(tmp_path / "missing.csv"))
