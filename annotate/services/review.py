"""Quality review writes: excluding a rater's ratings, and adjudicating a clip.

Nothing here deletes or edits a rating. An exclusion is a row that the readers of
ratings honour (``evaluation.selectors.ratings.scored_ratings``) until it is lifted;
an adjudication is a row per organizer action (one more rater asked, a score decided,
a decision withdrawn). Every row says who, when and why, and is only ever added to
(a lift fills in the lift's who, when and why on its exclusion).

How a decided score counts is the rule of ``evaluation.scoring.adjudication``: it
replaces each counted rating of its clip, so the clip keeps its weight.

Results that teams can see are never changed behind their back: while a campaign is
published, exclusions and decisions are refused (withdraw the publication first, which
is recorded with its reason).
"""

from __future__ import annotations

import datetime as dt
import math

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from annotate import planner
from annotate.models import (
    AdjudicationAction,
    Assignment,
    Campaign,
    Clip,
    RaterExclusion,
    Rating,
    Team,
)
from annotate.selectors import current_clips
from annotate.selectors.problems import held_clip_ids
from annotate.services.assignments import order_key
from annotate.words import word

REASON_MAX_CHARS = 2000
# name: (lowest, highest, integer?) of the campaign's quality-review settings.
THRESHOLD_RANGES: dict[str, tuple[float, float, bool]] = {
    "reliability_min_clips": (1, 1000, True),
    "flag_fast_ratio": (0.0, 100.0, False),
    "flag_min_kappa": (-1.0, 1.0, False),
    "flag_straight_line_share": (0.0, 1.0, False),
    "flag_min_gold_accuracy": (0.0, 1.0, False),
    "flag_gold_min_clips": (1, 1000, True),
    "adjudication_range": (1, 3, True),
}


class ReviewRefused(Exception):
    """A review request that the rules refuse; the message says why, in the reader's language."""


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _reason(text: str, *, missing: str) -> str:
    """The reason stripped; `missing` is the refusal when there is none."""
    reason = (text or "").strip()
    if not reason:
        raise ReviewRefused(missing)
    if len(reason) > REASON_MAX_CHARS:
        raise ReviewRefused(
            _("the reason has %(n)s characters; at most %(max)s")
            % {"n": len(reason), "max": REASON_MAX_CHARS}
        )
    return reason


def _locked(campaign: Campaign) -> Campaign:
    """The campaign re-read under the row lock the planning writes take too."""
    return Campaign.objects.select_for_update(no_key=True).get(pk=campaign.pk)


def _results_may_change(campaign: Campaign) -> None:
    if campaign.state == Campaign.State.PUBLISHED:
        raise ReviewRefused(
            _(
                "campaign %(campaign)r is published: its results are not changed while the "
                "teams see them; withdraw the publication first"
            )
            % {"campaign": campaign.slug}
        )


# --- exclusions ----------------------------------------------------------------------------


@transaction.atomic
def rater_exclude(
    *,
    campaign: Campaign,
    annotator,
    reason: str,
    by,
    since: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> RaterExclusion:
    """Leave ``annotator``'s ratings in ``campaign`` out of its results, all or from ``since``.

    Refused for someone who has no work in the campaign, for a rater already excluded
    (lift that exclusion first, so each one keeps its own reason), and while published.
    """
    campaign = _locked(campaign)
    _results_may_change(campaign)
    reason = _reason(reason, missing=_("an exclusion needs a written reason"))
    if since is not None and timezone.is_naive(since):
        raise ReviewRefused(_("the moment an exclusion starts needs a time zone"))
    if not Assignment.objects.filter(campaign=campaign, annotator=annotator).exists():
        raise ReviewRefused(
            _("%(user)r has no work in campaign %(campaign)r")
            % {"user": annotator.username, "campaign": campaign.slug}
        )
    active = RaterExclusion.objects.filter(
        campaign=campaign, annotator=annotator, lifted_at__isnull=True
    ).first()
    if active is not None:
        raise ReviewRefused(
            _("%(user)r is already excluded (since %(since)s); lift that exclusion first")
            % {"user": annotator.username, "since": f"{active.created_at:%Y-%m-%d %H:%M}"}
        )
    try:
        with transaction.atomic():
            return RaterExclusion.objects.create(
                campaign=campaign,
                annotator=annotator,
                since=since,
                reason=reason,
                created_by=by,
                created_at=_now(now),
            )
    except IntegrityError as exc:  # excluded meanwhile by another request
        raise ReviewRefused(
            _("%(user)r is already excluded") % {"user": annotator.username}
        ) from exc


@transaction.atomic
def rater_exclusion_lift(
    *, exclusion: RaterExclusion, reason: str, by, now: dt.datetime | None = None
) -> RaterExclusion:
    """Count the rater's ratings again; the exclusion stays on record with the lift."""
    campaign = _locked(exclusion.campaign)
    _results_may_change(campaign)
    reason = _reason(reason, missing=_("lifting an exclusion needs a written reason"))
    exclusion = RaterExclusion.objects.select_for_update().get(pk=exclusion.pk)
    if exclusion.lifted_at is not None:
        raise ReviewRefused(
            _("this exclusion of %(user)r was lifted already (%(when)s)")
            % {
                "user": exclusion.annotator.username,
                "when": f"{exclusion.lifted_at:%Y-%m-%d %H:%M}",
            }
        )
    exclusion.lifted_at = _now(now)
    exclusion.lifted_by = by
    exclusion.lift_reason = reason
    exclusion.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
    return exclusion


# --- adjudication --------------------------------------------------------------------------


def _scored_clip(campaign: Campaign, clip_id: int) -> Clip:
    clip = (
        current_clips(campaign=campaign).filter(pk=clip_id, episode__in_rated_set=True).first()
        if isinstance(clip_id, int) and not isinstance(clip_id, bool)
        else None
    )
    if clip is None:
        raise ReviewRefused(
            _(
                "clip %(clip)r is not a scored clip of campaign %(campaign)r "
                "(a team's rated version, of an episode in the rated set)"
            )
            % {"clip": clip_id, "campaign": campaign.slug}
        )
    return clip


def _waiting_extra_rater(clip: Clip) -> Assignment | None:
    return (
        Assignment.objects.filter(adjudication_action__clip=clip, extra_rater=True)
        .exclude(status=Assignment.Status.DONE)
        .select_related("annotator")
        .first()
    )


@transaction.atomic
def adjudication_extra_rater(
    *, campaign: Campaign, clip_id: int, by, reason: str = "", now: dt.datetime | None = None
) -> AdjudicationAction:
    """Ask one more rater for a clip: the planner picks an eligible one and the work is queued.

    Eligible: on the campaign's roster, active, not staff, not a member of the clip's
    team, with no work on this clip (rated or not) and no active exclusion; the least
    busy first (:func:`annotate.planner.pick_extra_rater`). Refused while the campaign
    takes no rating, and while an extra rater already asked has not rated yet.
    """
    campaign = _locked(campaign)
    if not campaign.accepts_ratings:
        raise ReviewRefused(
            _(
                "campaign %(campaign)r is %(state)s: it takes no rating, so no extra rater can "
                "rate; decide a score instead, or re-open it"
            )
            % {"campaign": campaign.slug, "state": word(campaign.state)}
        )
    clip = _scored_clip(campaign, clip_id)
    if held_clip_ids().filter(clip_id=clip.pk).exists():
        raise ReviewRefused(
            _(
                "this pair was reported as broken: resolve the problem report first "
                "(an extra rater would be handed the same broken pair)"
            )
        )
    waiting = _waiting_extra_rater(clip)
    if waiting is not None:
        raise ReviewRefused(
            _("%(user)r was asked to rate this clip and has not yet")
            % {"user": waiting.annotator.username}
        )
    team_name = clip.submission.team.name
    roster = [user for user in campaign.annotators.all() if user.is_active and not user.is_staff]
    teams_of: dict[int, set[str]] = {user.pk: set() for user in roster}
    for user_id, name in Team.members.through.objects.filter(
        team__campaign=campaign, user__in=roster
    ).values_list("user_id", "team__name"):
        teams_of[user_id].add(name)
    holding = set(Assignment.objects.filter(clip=clip).values_list("annotator_id", flat=True))
    excluded = set(
        RaterExclusion.objects.filter(campaign=campaign, lifted_at__isnull=True).values_list(
            "annotator_id", flat=True
        )
    )
    open_work = dict(
        Assignment.objects.filter(campaign=campaign, annotator__in=roster)
        .exclude(status=Assignment.Status.DONE)
        .values_list("annotator__username")
        .annotate(n=Count("pk"))
        .order_by()
    )
    chosen = planner.pick_extra_rater(
        annotators=[
            planner.Annotator(user.username, frozenset(teams_of[user.pk])) for user in roster
        ],
        team=team_name,
        clip=str(clip.pk),
        ineligible=[user.username for user in roster if user.pk in holding | excluded],
        load=open_work,
        seed=campaign.seed,
    )
    if chosen is None:
        raise ReviewRefused(
            _(
                "no eligible rater: everyone on the roster is on the clip's team, has rated or "
                "holds it, or is excluded; add an annotator to the roster first"
            )
        )
    annotator = next(user for user in roster if user.username == chosen)
    at = _now(now)
    assignment = Assignment.objects.create(
        campaign=campaign,
        annotator=annotator,
        clip=clip,
        extra_rater=True,
        order_key=order_key(seed=campaign.seed, annotator_id=annotator.pk, clip_id=clip.pk),
        created_at=at,
    )
    return AdjudicationAction.objects.create(
        campaign=campaign,
        clip=clip,
        kind=AdjudicationAction.Kind.EXTRA_RATER,
        reason=(reason or "").strip()[:REASON_MAX_CHARS],
        assignment=assignment,
        by=by,
        at=at,
    )


def _current_decision(clip: Clip) -> AdjudicationAction | None:
    last = (
        AdjudicationAction.objects.filter(
            clip=clip,
            kind__in=[AdjudicationAction.Kind.DECISION, AdjudicationAction.Kind.WITHDRAWAL],
        )
        .order_by("-at", "-pk")
        .first()
    )
    return last if last is not None and last.kind == AdjudicationAction.Kind.DECISION else None


@transaction.atomic
def adjudication_decide(
    *,
    campaign: Campaign,
    clip_id: int,
    score: int,
    reason: str,
    by,
    now: dt.datetime | None = None,
) -> AdjudicationAction:
    """Decide a clip's score with a written reason; a later decision replaces an earlier one."""
    campaign = _locked(campaign)
    _results_may_change(campaign)
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 3:
        raise ReviewRefused(
            _("a decided score is an integer from 0 to 3, not %(score)r") % {"score": score}
        )
    reason = _reason(reason, missing=_("a decision needs a written reason"))
    clip = _scored_clip(campaign, clip_id)
    if not Rating.objects.filter(clip=clip, assignment__gold=False).exists():
        # A decision replaces ratings (evaluation.scoring.adjudication): with none given,
        # there is nothing to adjudicate yet.
        raise ReviewRefused(_("this clip has no rating yet: there is nothing to adjudicate"))
    return AdjudicationAction.objects.create(
        campaign=campaign,
        clip=clip,
        kind=AdjudicationAction.Kind.DECISION,
        score=score,
        reason=reason,
        by=by,
        at=_now(now),
    )


@transaction.atomic
def adjudication_withdraw(
    *, campaign: Campaign, clip_id: int, reason: str, by, now: dt.datetime | None = None
) -> AdjudicationAction:
    """Withdraw a clip's decision: its raters' scores count again."""
    campaign = _locked(campaign)
    _results_may_change(campaign)
    reason = _reason(reason, missing=_("withdrawing a decision needs a written reason"))
    clip = _scored_clip(campaign, clip_id)
    if _current_decision(clip) is None:
        raise ReviewRefused(_("this clip has no decision to withdraw"))
    return AdjudicationAction.objects.create(
        campaign=campaign,
        clip=clip,
        kind=AdjudicationAction.Kind.WITHDRAWAL,
        reason=reason,
        by=by,
        at=_now(now),
    )


# --- settings -----------------------------------------------------------------------------


@transaction.atomic
def review_settings_update(*, campaign: Campaign, **values: float) -> Campaign:
    """Set the campaign's flag thresholds and adjudication range (names: THRESHOLD_RANGES).

    Checked here, each naming its setting, so a bad value never reaches the database's
    own check. Frozen while the campaign is published, like its other rating settings.
    """
    campaign = _locked(campaign)
    unknown = sorted(set(values) - set(THRESHOLD_RANGES))
    if unknown:
        raise ReviewRefused(_("unknown setting(s): %(names)s") % {"names": ", ".join(unknown)})
    if values and campaign.state == Campaign.State.PUBLISHED:
        raise ReviewRefused(
            _("campaign %(campaign)r is published: its settings are frozen")
            % {"campaign": campaign.slug}
        )
    for name, value in values.items():
        low, high, integer = THRESHOLD_RANGES[name]
        number_ok = not isinstance(value, bool) and isinstance(value, int | float)
        if (
            not number_ok
            or not math.isfinite(value)
            or not low <= value <= high
            or (integer and value != int(value))
        ):
            refusal = (
                _("%(name)s must be an integer from %(low)s to %(high)s, not %(value)r")
                if integer
                else _("%(name)s must be a number from %(low)s to %(high)s, not %(value)r")
            )
            raise ReviewRefused(refusal % {"name": name, "low": low, "high": high, "value": value})
        setattr(campaign, name, int(value) if integer else float(value))
    campaign.save(update_fields=list(values))
    return campaign


__all__ = [
    "REASON_MAX_CHARS",
    "THRESHOLD_RANGES",
    "ReviewRefused",
    "adjudication_decide",
    "adjudication_extra_rater",
    "adjudication_withdraw",
    "rater_exclude",
    "rater_exclusion_lift",
    "review_settings_update",
]
