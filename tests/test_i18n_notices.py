"""Notices: what the planner, the ingest and the media checks report, kept as a code with
its parameters and said in the reader's language when shown.

A sentence written down once in the language of whoever was there (an import run for a
Chinese-speaking team, say) used to be read in that language by everyone after; now the
code is kept, and each reader reads it in their own. The expected Chinese is written out
here, not read from the catalogue under test.
"""

from __future__ import annotations

import ast
import html
import importlib
import pkgutil
import unicodedata
from io import StringIO
from pathlib import Path

import pytest
from django import forms
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise
from rest_framework.test import APIClient

import annotate
from annotate import forms as annotate_forms
from annotate.models import ImportJob, Team, UserPreference
from annotate.notice import Notice, NoticeError, known_codes
from annotate.notice_text import TEXTS, shown, text
from annotate.planner import CELL_SHORT_OF_RATERS
from annotate.services import (
    assignment_plan_apply,
    import_job_create,
    import_job_run,
    media_asset_prepare,
)
from evaluation.views import raters as raters_views
from tests.annotate.test_assignments_services import build_campaign
from tests.factories import ClipFactory, EpisodeFactory, TaskFactory, UserFactory

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-Hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def folded(value: str) -> str:
    """Entities unescaped and full-width punctuation folded to ASCII, as a reader's eye does."""
    return unicodedata.normalize("NFKC", html.unescape(value))


def page(response) -> str:
    assert response.status_code == 200, response.content[:500]
    return folded(response.content.decode())


# --- the table ----------------------------------------------------------------------------


def _import_every_module() -> None:
    """Every module of the annotate app, so that every code it declares is registered."""
    for info in pkgutil.walk_packages(annotate.__path__, "annotate."):
        if ".migrations" not in info.name:
            importlib.import_module(info.name)


def test_every_code_the_code_base_declares_has_a_sentence_and_none_is_left_over():
    _import_every_module()
    declared = known_codes()
    assert declared - TEXTS.keys() == set(), "codes without a sentence in notice_text.TEXTS"
    assert TEXTS.keys() - declared == set(), "sentences of codes nobody declares"


def test_notices_are_made_from_declared_codes_never_from_a_literal():
    """A code written inline would escape the register the test above compares; each is a
    module constant made by `annotate.notice.code`."""
    _import_every_module()
    makers = {"Notice"} | {kind.__name__ for kind in _subclasses(NoticeError)}
    inline = []
    for path in sorted(Path(annotate.__path__[0]).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) in makers
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                inline.append(f"{path.name}:{node.lineno}")
    assert inline == []


def _subclasses(kind: type) -> set[type]:
    found = set(kind.__subclasses__())
    return found.union(*(_subclasses(sub) for sub in found)) if found else found


def test_every_sentence_is_said_in_chinese_with_the_same_parameters():
    for code, sentence in TEXTS.items():
        english = str(sentence)
        with translation.override("zh-hans"):
            chinese = str(sentence)
        assert chinese != english or english.startswith("%("), code
        if code not in ("import.camera_file",):  # "%(file)s: %(reason)s" stays as it is
            assert any("\u4e00" <= char <= "\u9fff" for char in chinese), (code, chinese)


def test_an_unknown_code_or_parameters_that_do_not_fit_show_the_code_and_never_fail():
    assert text({"code": "no.such.code", "params": {"n": 3}}) == "no.such.code (n=3)"
    assert text(Notice("no.such.code")) == "no.such.code"
    # media.too_big wants a size and a limit; media.too_long numbers.
    assert text({"code": "media.too_big", "params": {"size": 1}}) == "media.too_big (size=1)"
    broken = {"code": "media.too_long", "params": {"duration": "long", "limit": 4}}
    assert text(broken) == "media.too_long (duration=long, limit=4)"
    # A message stored as a sentence before notices existed is shown as it was written.
    assert (
        text("the worker running this import stopped") == "the worker running this import stopped"
    )
    assert text("") == "" and text(None) == ""
    # A notice inside another is said first, in the same language.
    camera = Notice("import.camera_file", {"file": "cam_high.mp4", "reason": Notice("media.empty")})
    assert text(camera) == "cam_high.mp4: empty file"
    with translation.override("zh-hans"):
        assert folded(text(camera)) == folded("cam_high.mp4：空文件")
    assert shown({"a": [camera.as_json()], "b": 2}) == {"a": ["cam_high.mp4: empty file"], "b": 2}


def test_a_page_with_a_code_it_does_not_know_still_shows(staff_client, campaign):
    job = ImportJob.objects.create(
        campaign=campaign,
        kind=ImportJob.Kind.SUBMISSION,
        team_name="Alpha",
        source="gone.zip",
        status=ImportJob.Status.FAILED,
        error={"code": "import.from_a_newer_release", "params": {"n": 2}},
        report={"rejected": [{"file": "task1/episode_0.mp4", "reason": {"code": "zzz"}}]},
    )
    text_shown = page(
        staff_client.get(reverse("import-detail", args=[campaign.slug, job.pk]), **ZH)
    )
    assert "import.from_a_newer_release (n=2)" in text_shown and ">zzz<" in text_shown


# --- the planner's warnings ---------------------------------------------------------------

# Two annotators for three raters per cell: each of the 3 teams x 2 tasks is short.
SHORT_EN = "team 'plan-team-0', task 'task1': 2 of 3 raters (not enough eligible annotators)"
SHORT_ZH = "队伍 'plan-team-0'、任务 'task1'：评分员 2 / 3 人（符合条件的标注员不足）"


def test_a_planner_warning_on_the_assignment_page_and_in_the_api(staff_client, staff_api):
    built = build_campaign(annotators=2)
    url = reverse("assignments", args=[built.campaign.slug])

    assert folded(SHORT_ZH) in page(staff_client.get(url, **ZH))
    english = page(staff_client.get(url, **EN))
    assert SHORT_EN in english and folded(SHORT_ZH) not in english

    api_url = reverse("api-assignment-preview", args=[built.campaign.slug])
    chinese = staff_api.get(api_url, **ZH).json()["warnings"]
    assert len(chinese) == 6 and folded(SHORT_ZH) in [folded(w) for w in chinese]
    english = staff_api.get(api_url).json()
    assert SHORT_EN in english["warnings"]  # English by default
    # Programs read the codes, the same in every language and in the same order.
    assert english["warning_codes"] == staff_api.get(api_url, **ZH).json()["warning_codes"]
    assert (
        english["warning_codes"][english["warnings"].index(SHORT_EN)] == "plan.cell_short_of_raters"
    )


def test_the_assign_command_says_the_warnings_in_english_unless_its_language_is_set():
    built = build_campaign(annotators=2)
    translation.deactivate()  # a command starts with no language but the default's
    out = StringIO()
    call_command("plan_assignments", built.campaign.slug, "--dry-run", stdout=out)
    assert f"warning: {SHORT_EN}" in out.getvalue()
    with translation.override("zh-hans"):
        call_command(
            "plan_assignments", built.campaign.slug, "--dry-run", stdout=(out := StringIO())
        )
    assert folded(SHORT_ZH) in folded(out.getvalue())


def test_why_a_clip_stayed_when_work_was_moved_in_the_callers_language(staff_api):
    built = build_campaign(annotators=3, teams=2, tasks=1, episodes=2)
    assignment_plan_apply(campaign=built.campaign)
    giver, receiver = built.users[0], built.users[1]
    # Every clip of the giver is rated by the receiver already (3 raters, 3 annotators).
    url = reverse("api-assignment-move", args=[built.campaign.slug])
    body = {"from_annotator": giver.username, "to_annotator": receiver.username}
    answer = staff_api.post(url, body, format="json", **ZH).json()
    assert answer["moved"] == 0 and answer["blocked"]
    assert {folded(b["reason"]) for b in answer["blocked"]} == {
        folded(f"'{receiver.username}' 已在评这条视频")
    }
    answer = staff_api.post(url, body, format="json").json()
    assert {b["reason"] for b in answer["blocked"]} == {
        f"'{receiver.username}' already rates this clip"
    }
    assert {b["reason_code"] for b in answer["blocked"]} == {"move.receiver_rates_clip"}


# --- an import's rejections, written for a Chinese reader, read by anyone -------------------


@pytest.fixture
def failed_upload(campaign, tmp_path):
    """Team Alpha's upload, run while the language was Chinese: an empty clip of an episode
    the campaign has, a clip of one it lacks and a note; nothing accepted."""
    task = TaskFactory(campaign=campaign, number=1, key="task1")
    EpisodeFactory(task=task, number=0, key="episode_0")
    alice = UserFactory(username="alice")
    Team.objects.create(campaign=campaign, name="Alpha").members.add(alice)
    upload = tmp_path / "upload/test/task1"
    upload.mkdir(parents=True)
    (upload / "episode_0.mp4").write_bytes(b"")
    (upload / "episode_5.mp4").write_bytes(b"not a video")
    (upload.parent / "README.txt").write_text("our model")
    with translation.override("zh-hans"):
        job = import_job_create(
            campaign=campaign,
            kind=ImportJob.Kind.SUBMISSION,
            upload=tmp_path / "upload",
            team_name="Alpha",
            user=alice,
        )
        job = import_job_run(job_id=job.pk)
    return job, alice


REJECTED = {
    "test/task1/episode_0.mp4": ("empty file", "空文件"),
    "test/task1/episode_5.mp4": (
        "no reference episode task1/episode_5 in this campaign",
        "本评测活动中没有参考回合 task1/episode_5",
    ),
}
SKIPPED = ("not a video", "不是视频")
FAILED = ("no file was accepted; nothing was written", "没有接受任何文件；未写入任何内容")


def test_an_import_keeps_codes_never_sentences(failed_upload):
    job, _ = failed_upload
    assert job.status == ImportJob.Status.FAILED
    assert job.error == {"code": "import.nothing_accepted", "params": {}}
    assert {item["file"]: item["reason"] for item in job.report["rejected"]} == {
        "test/task1/episode_0.mp4": {"code": "media.empty", "params": {}},
        "test/task1/episode_5.mp4": {
            "code": "import.no_episode",
            "params": {"episode": "task1/episode_5"},
        },
    }


def test_the_teams_upload_report_in_the_readers_language(client, failed_upload, campaign):
    job, alice = failed_upload
    client.force_login(alice)
    url = reverse("team-portal", args=[campaign.slug]) + f"?upload={job.pk}"

    english = page(client.get(url, **EN))
    for expected, chinese in [*REJECTED.values(), SKIPPED, FAILED]:
        assert expected in english and folded(chinese) not in english
    chinese_page = page(client.get(url, **ZH))
    for english_words, expected in [*REJECTED.values(), SKIPPED, FAILED]:
        assert folded(expected) in chinese_page and english_words not in chinese_page

    # The person's stored choice, without any header.
    UserPreference.objects.create(user=alice, language="zh-hans")
    client.force_login(alice)
    assert folded(FAILED[1]) in page(client.get(url))


def test_the_import_api_in_the_callers_language(failed_upload, staff_api):
    job, alice = failed_upload
    url = reverse("api-import-detail", args=[job.pk])

    english = staff_api.get(url).json()
    assert english["error"] == FAILED[0]
    assert english["error_code"] == "import.nothing_accepted"
    assert {r["file"]: r["reason"] for r in english["report"]["rejected"]} == {
        name: said[0] for name, said in REJECTED.items()
    }
    chinese = staff_api.get(url, **ZH).json()
    assert folded(chinese["error"]) == folded(FAILED[1])
    assert {r["file"]: folded(r["reason"]) for r in chinese["report"]["rejected"]} == {
        name: folded(said[1]) for name, said in REJECTED.items()
    }
    history = staff_api.get(reverse("api-import-create", args=[job.campaign.slug]), **ZH).json()
    assert folded(history["results"][0]["error"]) == folded(FAILED[1])
    assert history["results"][0]["error_code"] == "import.nothing_accepted"

    # The team's own API, as the team's client prints it.
    team_api = APIClient()
    team_api.force_authenticate(alice)
    team_url = reverse("api-team-upload", args=[job.campaign.slug, job.pk])
    report = team_api.get(team_url).json()
    assert report["error"] == FAILED[0]
    assert [item["reason"] for item in report["skipped"]] == [SKIPPED[0]]
    assert report["error_code"] == "import.nothing_accepted"
    assert {item["file"]: item["reason_code"] for item in report["rejected"]} == {
        "test/task1/episode_0.mp4": "media.empty",
        "test/task1/episode_5.mp4": "import.no_episode",
    }
    report = team_api.get(team_url, **ZH).json()
    assert [folded(item["reason"]) for item in report["skipped"]] == [folded(SKIPPED[1])]


def test_an_import_message_stored_as_a_sentence_before_codes_still_shows(staff_client, campaign):
    sentence = "the worker running this import stopped; nothing was written"
    job = ImportJob.objects.create(
        campaign=campaign,
        kind=ImportJob.Kind.REFERENCE,
        source="old.zip",
        status=ImportJob.Status.FAILED,
        error=sentence,
        report={"rejected": [{"file": "task1/episode_0.mp4", "reason": "no frames"}]},
    )
    for language in (EN, ZH):
        shown_page = page(
            staff_client.get(reverse("import-detail", args=[campaign.slug, job.pk]), **language)
        )
        assert sentence in shown_page and "no frames" in shown_page


# --- a media error ----------------------------------------------------------------------


def test_a_media_error_on_the_clip_page_in_the_readers_language(staff_client, campaign):
    clip = ClipFactory(submission__team__campaign=campaign)
    original = Path(settings.MEDIA_ROOT) / clip.asset.original
    original.parent.mkdir(parents=True, exist_ok=True)
    original.write_bytes(b"")  # an empty file: no copy can be made of it
    with translation.override("zh-hans"):
        asset = media_asset_prepare(asset_id=clip.asset_id)
    assert asset.error == {"code": "media.empty", "params": {}}
    url = reverse("clip-review", args=[campaign.slug, clip.pk])

    english = page(staff_client.get(url, **EN))
    assert "empty file" in english and "空文件" not in english
    chinese = page(staff_client.get(url, **ZH))
    assert "空文件" in chinese and "empty file" not in chinese

    translation.deactivate()  # a command starts with no language but the default's
    out = StringIO()
    call_command("prepare_media", verbosity=0, stdout=out)
    assert f"failed {asset.sha256[:12]}: empty file" in out.getvalue()


# --- form labels ------------------------------------------------------------------------

THRESHOLDS = {
    "flag_fast_ratio": (
        "Fast: time per clip under (× the pair's duration)",
        "过快：每条视频用时低于（× 该对视频时长）",
    ),
    "adjudication_range": (
        "Adjudication: ratings spanning at least (points)",
        "仲裁：评分差距至少（分）",
    ),
}


def test_the_thresholds_form_on_the_raters_page_in_the_readers_language(staff_client, campaign):
    url = reverse("raters", args=[campaign.slug])
    english, chinese = page(staff_client.get(url, **EN)), page(staff_client.get(url, **ZH))
    for name, (in_english, in_chinese) in THRESHOLDS.items():
        assert f">{name}<" not in english and f">{name}<" not in chinese  # no Python name
        assert folded(in_english) in english and folded(in_chinese) in chinese
    # The help text too (the model's, translated).
    assert folded("disagrees:与其他评分员共识的二次加权 kappa 低于此值。") in chinese


def _forms_of(module) -> list[type[forms.Form]]:
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, forms.Form)
        and value.__module__ == module.__name__
    ]


def test_every_field_of_the_organizers_forms_has_a_label_in_the_readers_language(campaign):
    """Django's default label is the field's Python name in English ("Flag fast ratio")."""
    unlabelled = []
    for form_class in _forms_of(annotate_forms) + _forms_of(raters_views):
        kwargs = {"campaign": campaign} if form_class is raters_views.ThresholdsForm else {}
        for name, field in form_class(**kwargs).fields.items():
            if not isinstance(field.label, Promise):
                unlabelled.append(f"{form_class.__name__}.{name}")
    assert unlabelled == []


# --- the migration ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_errors_stored_as_sentences_are_kept_by_the_migration_and_back():
    before, after = (
        [("annotate", "0015_team_final_chosen_by")],
        [("annotate", "0016_stored_messages")],
    )

    def migrate(targets):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)
        return executor.loader.project_state(targets).apps

    old = migrate(before)
    OldCampaign = old.get_model("annotate", "Campaign")
    OldJob, OldAsset = (
        old.get_model("annotate", "ImportJob"),
        old.get_model("annotate", "MediaAsset"),
    )
    campaign = OldCampaign.objects.create(slug="kept", name="Kept")
    failed = OldJob.objects.create(
        campaign=campaign, kind="reference", source="a.zip", error="no frames"
    )
    fine = OldJob.objects.create(campaign=campaign, kind="reference", source="b.zip", error="")
    asset = OldAsset.objects.create(
        sha256="f" * 64,
        original="x.mp4",
        size_bytes=1,
        codec="h264",
        width=16,
        height=16,
        fps=1.0,
        frame_count=1,
        duration_s=1.0,
        status="failed",
        error="empty file",
    )
    try:
        new = migrate(after)
        Job, Asset = new.get_model("annotate", "ImportJob"), new.get_model("annotate", "MediaAsset")
        assert Job.objects.get(pk=failed.pk).error == "no frames"
        assert Job.objects.get(pk=fine.pk).error == ""
        Job.objects.filter(pk=fine.pk).update(error=Notice("media.no_frames").as_json())
        assert Asset.objects.get(pk=asset.pk).error == "empty file"
        # And back: sentences as they were, a notice as its JSON text.
        old = migrate(before)
        OldJob = old.get_model("annotate", "ImportJob")
        assert OldJob.objects.get(pk=failed.pk).error == "no frames"
        assert OldJob.objects.get(pk=fine.pk).error == '{"code": "media.no_frames", "params": {}}'
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def test_a_notice_is_a_plain_value_that_survives_json():
    """Equal by code and parameters, usable in a set (the move page joins distinct reasons)."""
    notice = Notice(CELL_SHORT_OF_RATERS, {"team": "t", "task": "k", "raters": 1, "wanted": 3})
    assert notice == Notice(CELL_SHORT_OF_RATERS, dict(notice.params))
    assert len({notice, Notice(CELL_SHORT_OF_RATERS, dict(notice.params))}) == 1
    assert Notice.from_json(notice.as_json()) == notice
    nested = Notice("import.camera_file", {"file": "a.mp4", "reason": Notice("media.empty")})
    assert Notice.from_json(nested.as_json()) == nested


def test_the_admin_says_a_stored_error_too(failed_upload, admin_client):
    job, _ = failed_upload
    url = reverse("admin:annotate_importjob_change", args=[job.pk])
    assert FAILED[0] in page(admin_client.get(url, **EN))
    assert folded(FAILED[1]) in page(admin_client.get(url, **ZH))
