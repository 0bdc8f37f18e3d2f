"""The interface in Simplified Chinese and English: pages, errors, the choice of language.

Chinese comes from Accept-Language, the header's switcher (a cookie) or the person's
stored choice; English otherwise. The expected Chinese is written out here (the
rubric's copied from the 0-3 protocol), not read from the catalogue under test.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from annotate.models import Guideline, Task, UserPreference
from tests.evaluation.test_leaderboard import rated_campaign
from tests.factories import (
    AssignmentFactory,
    CampaignFactory,
    ClipFactory,
    EpisodeFactory,
    SubmissionFactory,
    TaskFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-Hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}

# The protocol's own Chinese (seeds/protocol-0-3-vla-evaluator.txt), as printed there.
PROTOCOL_ZH = [
    "与参考视频动作一致,物体最终状态一致,过程中物体无明显形变,物理与碰撞无明显异常。",
    "参考:将耳朵插入盒子。待评视频同样完成插入且过程无明显形变 → 3 分。",
    "最终物体状态与参考一致,但过程中出现物体形变、物理或碰撞不真实,或与参考动作不一致。",
    "参考:香蕉放入篮子。待评视频最终香蕉在篮中(状态一致),但过程中香蕉发生形变 → 2 分。",
    "参考:香蕉未放入篮子。待评视频最终也未放入(状态一致),但过程中香蕉与其他物体发生形变 → 2 分。",
    "机械臂整体动作与参考基本一致,但最终物体状态与参考不一致,如成功与失败状态不一致、物体消失等情形。",
    "参考:香蕉未在篮中。待评视频最终香蕉在篮中(状态不符),但整体动作与参考相近 → 1 分。",
    "参考:香蕉在篮中。待评视频虽有抓取,但最终香蕉在篮中消失(状态不符),机械臂动作大体正常 → 1 分。",
    "动作与物体状态均与参考不一致;或画面混乱、机械臂动作与参考严重不符且最终状态也不一致等情形。",
]


def text_of(response) -> str:
    """The page's text as a reader sees it: tags dropped, full-width punctuation folded."""
    html = response.content.decode()
    return unicodedata.normalize("NFKC", re.sub(r"<[^>]+>", "", html))


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


@pytest.fixture
def work(db):
    """An annotator with two clips of task 1, whose title exists in both languages."""
    annotator = UserFactory(username="ann-zh")
    campaign = CampaignFactory(slug="bilingual")
    task = TaskFactory(
        campaign=campaign,
        number=1,
        key="task1",
        title="Banana",
        title_zh_hans="香蕉",
        instruction="Put the banana in the basket.",
        instruction_zh_hans="把香蕉放进篮子。",
    )
    submission = SubmissionFactory(team__campaign=campaign)
    assignments = [
        AssignmentFactory(
            annotator=annotator,
            order_key=n,
            clip=ClipFactory(submission=submission, episode=EpisodeFactory(task=task, number=n)),
        )
        for n in range(2)
    ]
    return {"annotator": annotator, "campaign": campaign, "task": task, "assignments": assignments}


def test_the_languages_are_the_guidelines_languages():
    assert [code for code, _ in settings.LANGUAGES] == list(Guideline.Language.values)
    assert settings.LANGUAGE_CODE == "en"


def test_queue_in_chinese_and_in_english(client, work):
    client.force_login(work["annotator"])
    chinese = client.get(reverse("queue"), **ZH)
    assert html_lang(chinese) == "zh-hans"
    text = text_of(chinese)
    for expected in ("我的队列", "开始评分", "任务 1:0 / 2", "香蕉", "把香蕉放进篮子。"):
        assert expected in text
    assert "My queue" not in text and "Start rating" not in text

    english = client.get(reverse("queue"), **EN)
    assert html_lang(english) == "en"
    text = text_of(english)
    for expected in ("My queue", "Start rating", "0 of 2 in Task 1", "Banana", "in the basket"):
        assert expected in text
    assert "我的队列" not in text

    # No Accept-Language at all: English.
    assert "My queue" in text_of(client.get(reverse("queue")))


def test_rating_page_in_chinese_uses_the_protocols_wording(client, work):
    client.force_login(work["annotator"])
    url = reverse("rate", args=[work["assignments"][0].pk])
    text = text_of(client.get(url, **ZH))
    for sentence in PROTOCOL_ZH:
        assert unicodedata.normalize("NFKC", sentence) in text, sentence
    for expected in (
        "物体最终状态是否与参考视频一致(是否都为成功或都为失败)?",
        "机械臂整体动作是否与参考基本一致?",
        "评分细则(0~3 分)",
        "任务 1 · 第 1 / 2 条视频",
        "任务 1 已评分 0 / 2",
        "提交并继续",
        "香蕉",
    ):
        assert unicodedata.normalize("NFKC", expected) in text, expected
    assert "Does the final object state" not in text

    english = text_of(client.get(url, **EN))
    assert "Does the final object state match the reference" in english
    assert "0 of 2 rated in Task 1" in english and "Banana" in english
    assert "物体" not in english


def test_rating_page_shortcuts_are_the_same_in_both_languages(client, work):
    client.force_login(work["annotator"])
    url = reverse("rate", args=[work["assignments"][0].pk])

    def shortcuts(headers) -> list[str]:
        html = client.get(url, **headers).content.decode()
        legend = re.search(r'<section class="legend".*?</section>', html, re.S).group(0)
        return re.findall(r"<kbd>(.*?)</kbd>", legend)

    chinese, english = shortcuts(ZH), shortcuts(EN)
    assert chinese == english
    assert {"Space", "Enter", "0", "3", "y", "n", "?", "c"} <= set(english)


def test_rating_page_loads_the_script_catalogue_by_url_and_runs_no_inline_script(client, work):
    client.force_login(work["annotator"])
    html = client.get(reverse("rate", args=[work["assignments"][0].pk]), **ZH).content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    catalogue = reverse("javascript-catalog")
    assert any(f'src="{catalogue}"' in attributes for attributes, _ in scripts)
    for attributes, body in scripts:
        assert "src=" in attributes or 'type="application/json"' in attributes, attributes
        assert "src=" not in attributes or not body.strip()

    served = client.get(catalogue, **ZH)
    assert served.status_code == 200
    assert served["Content-Type"].startswith("text/javascript")
    assert (
        "django.gettext" in served.content.decode() and "nplurals=1" not in served["Content-Type"]
    )


def test_leaderboard_in_chinese_and_in_english(staff_client):
    rated_campaign(n_teams=2, n_tasks=2, n_episodes=2, seed=3, slug="lang")
    url = reverse("leaderboard", args=["lang"])
    text = text_of(staff_client.get(url, **ZH))
    for expected in ("Lang:排行榜", "名次", "最终得分", "覆盖率", "发布门槛"):
        assert unicodedata.normalize("NFKC", expected) in text, expected
    assert "Release gate" not in text

    text = text_of(staff_client.get(url, **EN))
    for expected in ("Lang: leaderboard", "Rank", "Coverage", "Release gate"):
        assert expected in text
    assert "排行榜" not in text.replace("简体中文", "")


def test_an_error_page_and_a_form_error_in_chinese(client, work):
    client.force_login(work["annotator"])
    forbidden = client.get(reverse("campaign-list"), **ZH)
    assert forbidden.status_code == 403
    assert "您无权访问此页面" in text_of(forbidden)
    assert "You have no access to this page" in text_of(client.get(reverse("campaign-list")))

    client.logout()
    login = {"username": "ann-zh", "password": "wrong password"}
    assert "用户名或密码不正确。" in text_of(client.post(reverse("login"), login, **ZH))
    assert "didn't match" in client.post(reverse("login"), login, **EN).content.decode().replace(
        "&#x27;", "'"
    )


def test_api_errors_are_english_by_default_and_follow_accept_language():
    api = APIClient()
    url = reverse("api-my-next")
    assert api.post(url).json()["detail"] == "Authentication credentials were not provided."
    assert api.post(url, HTTP_ACCEPT_LANGUAGE="zh-Hans").json()["detail"] == "身份认证信息未提供。"
    assert api.post(url, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").json()["detail"] == (
        "身份认证信息未提供。"
    )


def test_the_switcher_keeps_a_signed_in_persons_choice_on_the_server(
    client, work, django_user_model
):
    annotator = work["annotator"]
    client.force_login(annotator)
    response = client.post(
        reverse("set_language"), {"language": "zh-hans", "next": reverse("queue")}, **EN
    )
    assert response.status_code == 302 and response.url == reverse("queue")
    assert UserPreference.objects.get(user=annotator).language == "zh-hans"

    # Another browser: no cookie, an English Accept-Language; the stored choice wins.
    other = type(client)()
    other.force_login(annotator)
    assert "我的队列" in text_of(other.get(reverse("queue"), **EN))

    # An organizer on the same campaign keeps English at the same time.
    organizer = django_user_model.objects.create_user("org-en", is_staff=True)
    staff = type(client)()
    staff.force_login(organizer)
    assert "Campaigns" in text_of(staff.get(reverse("campaign-list"), **EN))

    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert UserPreference.objects.get(user=annotator).language == "en"
    # The switcher's own browser follows at once; another one at its next login.
    assert "My queue" in text_of(client.get(reverse("queue"), **ZH))
    assert "我的队列" in text_of(other.get(reverse("queue"), **EN))
    fresh = type(client)()
    fresh.force_login(annotator)
    assert "My queue" in text_of(fresh.get(reverse("queue"), **ZH))


def test_the_switcher_without_an_account_sets_the_cookie_only(client):
    response = client.post(
        reverse("set_language"), {"language": "zh-hans", "next": "/accounts/login/"}
    )
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert not UserPreference.objects.exists()
    assert "登录" in text_of(client.get(reverse("login"), **EN))
    # A language the site does not offer is refused, and changes nothing.
    refused = client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert refused.status_code == 400 and b"en, zh-hans" in refused.content
    assert "登录" in text_of(client.get(reverse("login")))


def test_task_text_falls_back_to_the_other_language():
    task = Task(title="Banana", instruction="", title_zh_hans="", instruction_zh_hans="放进篮子")
    assert task.title_in("zh-hans") == "Banana"  # no Chinese title: the English one
    assert task.instruction_in("en") == "放进篮子"  # no English instruction: the Chinese one
    assert task.instruction_in("zh-hans") == "放进篮子" and task.title_in("en") == "Banana"


def test_organizers_enter_task_texts_in_both_languages(staff_client, work):
    campaign, task = work["campaign"], work["task"]
    page = staff_client.get(reverse("tasks", args=[campaign.slug]), **ZH)
    assert "标题(简体中文)" in text_of(page) and 'value="香蕉"' in page.content.decode()
    staff_client.post(
        reverse("task-edit", args=[campaign.slug, task.number]),
        {
            "title": "Banana",
            "instruction": "Into the basket.",
            "title_zh_hans": "香蕉入篮",
            "instruction_zh_hans": "放进篮子。",
        },
    )
    task.refresh_from_db()
    assert (task.title_zh_hans, task.instruction_zh_hans) == ("香蕉入篮", "放进篮子。")
    assert (task.title, task.instruction) == ("Banana", "Into the basket.")


def test_exports_keep_english_column_names_in_chinese(staff_client, organizer):
    rated_campaign(n_teams=2, n_tasks=1, n_episodes=2, seed=5, slug="cols")
    UserPreference.objects.create(user=organizer, language="zh-hans")
    url = reverse("api-exports", args=["cols"])
    chinese = staff_client.get(url, {"what": "ratings", "format": "csv"}, **ZH)
    english = staff_client.get(url, {"what": "ratings", "format": "csv"}, **EN)
    header = next(csv.reader(io.StringIO(chinese.content.decode("utf-8-sig"))))
    assert header == next(csv.reader(io.StringIO(english.content.decode("utf-8-sig"))))
    assert {"task", "team", "episode", "rater", "score"} <= set(header)
    assert all(column.isascii() for column in header)


def test_the_guideline_in_the_readers_language(client, work):
    from annotate.services import campaign_create, guideline_save

    campaign = campaign_create(slug="guided", name="Guided")
    AssignmentFactory(
        annotator=work["annotator"],
        campaign=campaign,
        clip=ClipFactory(submission__team__campaign=campaign),
    )
    client.force_login(work["annotator"])
    url = reverse("guideline", args=["guided"])
    # The protocol's text, in Chinese for a Chinese reader.
    chinese = text_of(client.get(url, **ZH))
    for sentence in PROTOCOL_ZH:
        assert unicodedata.normalize("NFKC", sentence) in chinese.replace("\n", ""), sentence
    assert "How to rate" in text_of(client.get(url, **EN))

    # The organizers rewrote the English one: a Chinese reader gets it rather than the
    # protocol's, until they write a Chinese one too.
    guideline_save(campaign=campaign, text="# Campaign rules\nRate the grasp only.", by=None)
    assert "Rate the grasp only." in text_of(client.get(url, **ZH))
    guideline_save(campaign=campaign, text="# 规则\n只评抓取。", by=None, language="zh-hans")
    assert "只评抓取。" in text_of(client.get(url, **ZH))
    assert "Rate the grasp only." in text_of(client.get(url, **EN))


def test_the_annotator_api_gives_the_task_in_the_callers_language(work):
    api = APIClient()
    api.force_authenticate(work["annotator"])
    chinese = api.post(reverse("api-my-next"), HTTP_ACCEPT_LANGUAGE="zh-Hans").json()
    assert (chinese["task_title"], chinese["task_instruction"]) == ("香蕉", "把香蕉放进篮子。")
    english = api.post(reverse("api-my-next")).json()
    assert english["task_title"] == "Banana"
