"""Reads for a campaign's life: its state history, its tasks and its guideline."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from annotate.guideline import DEFAULT_GUIDELINE_EN, DEFAULT_GUIDELINES
from annotate.models import Assignment, Campaign, CampaignStateChange, Guideline, Task


def campaign_state_history(*, campaign: Campaign) -> QuerySet[CampaignStateChange]:
    return campaign.state_changes.select_related("changed_by").order_by("-changed_at", "-pk")


def campaign_tasks(*, campaign: Campaign) -> QuerySet[Task]:
    """The campaign's tasks in order, each with its number of reference episodes."""
    return campaign.tasks.annotate(n_episodes=Count("episodes")).order_by("number")


def guideline_text(*, campaign: Campaign, language: str = Guideline.Language.EN) -> str:
    """The guideline in `language`; else the organizers' English one where they changed it
    (it may say what the protocol's text does not), else the protocol's own text in
    `language`, else in English."""
    stored = {g.language: g.text for g in Guideline.objects.filter(campaign=campaign)}
    english = stored.get(Guideline.Language.EN)
    if stored.get(language):
        return stored[language]
    if english and english != DEFAULT_GUIDELINE_EN:
        return english
    return DEFAULT_GUIDELINES.get(language) or english or DEFAULT_GUIDELINE_EN


def user_may_read_guideline(*, user, campaign: Campaign) -> bool:
    """Organizers, and the campaign's annotators (on its roster or with work in it)."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    if campaign.annotators.filter(pk=user.pk).exists():
        return True
    return Assignment.objects.filter(campaign=campaign, annotator=user).exists()
