"""Messages made in Python and in the pages' scripts, in the reader's language.

A service's refusal reaches a page or the API in the language of the request (English
without Accept-Language); figures, stored words and the scripts' catalogue follow it
too. The expected Chinese is written out here, not read from the catalogue under test.
"""

from __future__ import annotations

import json
import unicodedata
import warnings

import pytest
from django.db import OperationalError
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from annotate.models import Campaign
from annotate.services import campaign_state_change
from annotate.words import word
from config.middleware import DatabaseUnavailableMiddleware
from evaluation import figures
from evaluation.scoring.adjudication import ADJUDICATION_RULE
from evaluation.scoring.reliability import CONSENSUS_RULE
from tests.evaluation.test_leaderboard import rated_campaign
from tests.factories import AssignmentFactory, CampaignFactory, UserFactory

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-Hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def folded(text: str) -> str:
    """Full-width punctuation folded to ASCII, as a reader's eye does."""
    return unicodedata.normalize("NFKC", text)


def test_an_annotate_api_refusal_in_the_callers_language():
    """The rating service refuses a locked campaign; the API says so in Chinese to a
    Chinese caller (the campaign's state said in Chinese too), in English otherwise,
    with the body's structure unchanged."""
    annotator = UserFactory(username="ann-zh-api")
    assignment = AssignmentFactory(annotator=annotator)
    campaign = assignment.campaign
    if campaign.state != Campaign.State.OPEN:
        campaign_state_change(campaign=campaign, to_state=Campaign.State.OPEN, by=None)
    campaign_state_change(campaign=campaign, to_state=Campaign.State.LOCKED, by=None)
    api = APIClient()
    api.force_authenticate(annotator)
    url = reverse("api-my-rating", args=[assignment.pk])
    body = {"score": 2, "watched_reference": 1, "watched_generated": 1}

    chinese = api.post(url, body, format="json", **ZH)
    assert chinese.status_code == 400
    assert [folded(m) for m in chinese.json()["detail"]] == [
        folded("评测活动处于“已锁定”状态：不能再提交或修改评分")
    ]
    english = api.post(url, body, format="json")
    assert english.status_code == 400
    assert english.json() == {
        "detail": ["the campaign is locked: ratings can no longer be given or changed"]
    }


def test_an_evaluation_api_refusal_in_the_callers_language(staff_api):
    """The leaderboard's refusal of a campaign without tasks, through the API."""
    campaign = CampaignFactory(slug="bare")
    url = reverse("api-rankings", args=[campaign.slug])

    chinese = staff_api.get(url, **ZH)
    assert chinese.status_code == 400
    assert chinese.json() == {"detail": "评测活动 'bare' 还没有任务"}
    english = staff_api.get(url)
    assert english.status_code == 400
    assert english.json() == {"detail": "campaign 'bare' has no task yet"}


def test_a_figure_in_the_readers_language(staff_client):
    """The raters figure's title, axes and key in Chinese for a Chinese reader, drawn with
    a font that has the characters (a server without one draws it in English)."""
    campaign = rated_campaign(n_teams=2, n_tasks=1, n_episodes=4, n_raters=3, seed=7).campaign
    url = reverse("raters-figure", args=[campaign.slug, "svg"])
    english = staff_client.get(url, **EN).content.decode()
    assert "3 raters" in english and "quadratic-weighted kappa with the consensus" in english

    chinese = staff_client.get(url, **ZH).content.decode()
    if figures.cjk_fonts():
        assert "3 名评分员" in chinese
        assert "与共识的二次加权 kappa" in chinese and "无标记" in chinese
        assert "raters" not in chinese.replace("rater-", "")
        # Each character drawn from a font that has it: no glyph is missing.
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            png = staff_client.get(reverse("raters-figure", args=[campaign.slug, "png"]), **ZH)
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    else:
        assert "3 raters" in chinese, "without a CJK font the figure stays in English"


def test_an_agreement_figure_refusal_and_caption_in_chinese():
    report = {"per_task": {}}
    with translation.override("zh-hans"):
        with pytest.raises(figures.FigureError) as refused:
            figures.agreement_figure(report=report, name="task-agreement", fmt="svg")
        assert str(refused.value) == "报告中没有按任务的统计量"
        assert str(figures.FIGURES["task-agreement"][0]) == "各任务的一致性及 95% 区间"
    with translation.override("en"):
        assert str(figures.FIGURES["task-agreement"][0]) == (
            "Agreement per task, with 95% intervals"
        )


def test_stored_words_in_the_readers_language():
    with translation.override("zh-hans"):
        assert word("locked") == "已锁定"
        assert (word("fixed"), word("excluded")) == ("已修复", "已排除")
        # The same word, another sense: a report waits for the organizer.
        assert (word("open"), word("open", "report status")) == ("评分中", "待处理")
        assert word("gold") == "金标准" and word("gold", "rater flag") == "金标准偏差"
        assert word("no variation", "stat reason") == "没有变化"
        assert word("something new") == "something new"
    with translation.override("en"):
        assert word("open", "report status") == "open" and word("fixed") == "fixed"


def test_the_clip_browser_filters_and_statuses_in_chinese(staff_client):
    campaign = rated_campaign(n_teams=2, n_tasks=1, n_episodes=2, seed=4).campaign
    url = reverse("clip-browser", args=[campaign.slug])
    text = folded(staff_client.get(url, **ZH).content.decode())
    for expected in ("全部任务", "全部队伍", "任意状态", "全部已评", "未评分", "导入时被拒绝"):
        assert expected in text, expected
    english = staff_client.get(url, **EN).content.decode()
    assert "all tasks" in english and "fully rated" in english and "任意状态" not in english


def test_pages_state_the_scoring_cores_rules_word_for_word(staff_client):
    """The raters and exports pages write out the consensus and adjudication rules in
    full, so that they can be translated: in English, exactly the core's own words."""
    campaign = rated_campaign(n_teams=2, n_tasks=1, n_episodes=2, seed=2).campaign

    def page(name: str, headers: dict) -> str:
        html = staff_client.get(reverse(name, args=[campaign.slug]), **headers).content.decode()
        return " ".join(html.replace("&#x27;", "'").split())

    assert CONSENSUS_RULE in page("raters", EN)
    assert ADJUDICATION_RULE in page("exports", EN) and ADJUDICATION_RULE in page(
        "adjudication", EN
    )
    assert "排除该评分员本人后的共识" in page("raters", ZH)
    for name in ("exports", "adjudication"):
        assert "裁定分数替换该视频每个计入的评分" in page(name, ZH), name
    # The thresholds' explanations too (the model's help texts).
    assert "goes to adjudication" in page("raters", EN)
    assert "进入仲裁" in page("raters", ZH)


def test_the_database_outage_message_in_the_readers_language():
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    request = RequestFactory().post("/api/me/next/")
    with translation.override("zh-hans"):
        response = middleware.process_exception(request, OperationalError("gone"))
    assert response.status_code == 503 and response["Retry-After"]
    assert folded(json.loads(response.content)["detail"]) == folded(
        "数据库暂时不可用；未保存任何内容。请稍后重试。"
    )
    with translation.override("en"):
        english = middleware.process_exception(request, OperationalError("gone"))
    assert json.loads(english.content)["detail"].startswith(
        "The database is unavailable for a moment"
    )


def test_the_script_catalogue_in_each_language(client):
    """The JavaScript catalog serves the scripts' own strings (djangojs) in the page's
    language: Chinese for a Chinese reader, and the English text for anyone else."""
    url = reverse("javascript-catalog")
    chinese = client.get(url, **ZH).content.decode("utf-8")
    # The catalog is JSON inside the script: non-ASCII characters come \\u-escaped.
    for expected in ("暂停", "提交并继续", "帧", "请选择这对视频的问题。", "排队中"):
        assert json.dumps(expected)[1:-1] in chinese, expected
    english = client.get(url, **EN).content.decode("utf-8")
    assert "django.gettext" in english and json.dumps("暂停")[1:-1] not in english
