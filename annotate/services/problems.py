"""Problem reports: an annotator flags a pair as broken instead of rating it.

A report is not a rating. It takes the clip out of the annotator's way at once (the
queue moves on; :mod:`annotate.services.ratings` hands out no held clip) and puts it on
the organizer's adjudication page. While it is open the clip is held for everybody:
its unrated assignments wait, the planner plans it to no one new and adjudication asks
no extra rater for it (:mod:`annotate.selectors.problems`).

The organizer resolves it one of two ways, for every open report of the clip at once:

- ``fixed``: the clip is handed out again; its unrated assignments start afresh
  (pending, their clocks cleared, as the pair may have changed);
- ``excluded``: the clip stays out of rating. Ratings given before stay as they are;
  a clip left with none counts 0, as a rejected file does.

A resolution can be reopened, with a reason: the reports it closed are open again, so
the clip is held as when it was reported, until the organizer resolves it anew. Nothing
is deleted: every resolution and reopening is a :class:`ProblemReportEvent`. Neither
reporting, resolving nor reopening touches a rating, so the scores and the input hash
never depend on a report.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from annotate.models import Assignment, Campaign, ProblemReport, ProblemReportEvent
from annotate.selectors import current_submissions
from annotate.words import word

TEXT_MAX_CHARS = 2000
RESOLUTIONS = (ProblemReport.Status.FIXED, ProblemReport.Status.EXCLUDED)


class ProblemRefused(ValidationError):
    """A problem report or resolution that cannot be accepted; the message says why."""


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _text(text: str | None, *, what: str) -> str:
    """The text stripped, refused when too long; `what` is "description" or "note"."""
    cleaned = (text or "").strip()
    if len(cleaned) > TEXT_MAX_CHARS:
        refusal = (
            _("the note has %(n)s characters; at most %(max)s")
            if what == "note"
            else _("the description has %(n)s characters; at most %(max)s")
        )
        raise ProblemRefused(refusal % {"n": len(cleaned), "max": TEXT_MAX_CHARS})
    return cleaned


@transaction.atomic
def problem_report(
    *, assignment: Assignment, user, reason: str, text: str = "", now: dt.datetime | None = None
) -> ProblemReport:
    """Report the assignment's pair as broken, with a reason (and words, for "other").

    Refused for someone else's clip, a clip already rated (revise the rating, and say it
    in its comment), a campaign that takes no rating, a clip of a replaced version, and
    a clip the organizer already excluded. Sending the same report twice stores one.
    """
    if assignment.annotator_id != user.pk:
        raise ProblemRefused(_("this clip is not assigned to you"))
    assignment = (
        Assignment.objects.select_for_update().select_related("campaign").get(pk=assignment.pk)
    )
    if reason not in ProblemReport.Reason.values:
        raise ProblemRefused(
            _("reason %(reason)r is not one of %(reasons)s")
            % {"reason": reason, "reasons": ", ".join(ProblemReport.Reason.values)}
        )
    text = _text(text, what="description")
    if reason == ProblemReport.Reason.OTHER and not text:
        raise ProblemRefused(_('say in a few words what is wrong: the reason is "other"'))
    campaign = assignment.campaign
    if not campaign.accepts_ratings:
        raise ProblemRefused(
            _("the campaign is %(state)s: it takes no report now") % {"state": word(campaign.state)}
        )
    if assignment.status == Assignment.Status.DONE:
        raise ProblemRefused(
            _("this clip is rated already: revise the rating and say what is wrong in its comment")
        )
    if not current_submissions().filter(clips=assignment.clip_id).exists():
        raise ProblemRefused(_("this clip belongs to a submission version that was replaced"))
    if ProblemReport.objects.filter(
        clip_id=assignment.clip_id, status=ProblemReport.Status.EXCLUDED
    ).exists():
        raise ProblemRefused(_("this pair was reported before and the organizer left it out"))
    held = ProblemReport.objects.filter(assignment=assignment, status=ProblemReport.Status.OPEN)
    if (existing := held.first()) is not None:
        return existing  # a double click, a resent form: the report stands
    try:
        with transaction.atomic():
            return ProblemReport.objects.create(
                campaign=campaign,
                clip_id=assignment.clip_id,
                assignment=assignment,
                reporter=user,
                reason=reason,
                text=text,
                created_at=_now(now),
            )
    except IntegrityError:  # the same report, stored meanwhile by another request
        return held.get()


@transaction.atomic
def problem_resolve(
    *,
    campaign: Campaign,
    report_id: int,
    resolution: str,
    by,
    note: str = "",
    now: dt.datetime | None = None,
) -> list[ProblemReport]:
    """Resolve an open report, and every other open report of its clip, the same way.

    ``fixed`` hands the clip out again (its unrated work back to pending, clocks
    cleared); ``excluded`` keeps it out of rating and needs a note saying why. Returns
    the reports resolved.
    """
    if resolution not in RESOLUTIONS:
        raise ProblemRefused(
            _("a report is resolved as %(resolutions)s, not %(resolution)r")
            % {"resolutions": " or ".join(RESOLUTIONS), "resolution": resolution}
        )
    note = _text(note, what="note")
    if resolution == ProblemReport.Status.EXCLUDED and not note:
        raise ProblemRefused(_("excluding a clip needs a note saying why"))
    report = _report_locked(campaign=campaign, report_id=report_id)
    if report.status != ProblemReport.Status.OPEN:
        raise ProblemRefused(
            _("this report was resolved already (%(status)s, %(when)s)")
            % {"status": word(report.status), "when": f"{report.resolved_at:%Y-%m-%d %H:%M}"}
        )
    at = _now(now)
    reports = list(
        ProblemReport.objects.select_for_update()
        .filter(clip_id=report.clip_id, status=ProblemReport.Status.OPEN)
        .order_by("pk")
    )
    for each in reports:
        each.status, each.resolved_at, each.resolved_by = resolution, at, by
        each.resolution_note = note
        each.save(update_fields=["status", "resolved_at", "resolved_by", "resolution_note"])
    ProblemReportEvent.objects.bulk_create(
        ProblemReportEvent(report=each, kind=resolution, note=note, by=by, at=at)
        for each in reports
    )
    if resolution == ProblemReport.Status.FIXED:
        Assignment.objects.filter(clip_id=report.clip_id).exclude(
            status=Assignment.Status.DONE
        ).update(status=Assignment.Status.PENDING, started_at=None)
    return reports


def _report_locked(*, campaign: Campaign, report_id: int) -> ProblemReport:
    """The campaign's report `report_id`, locked for the change, or a refusal."""
    is_id = isinstance(report_id, int) and not isinstance(report_id, bool)
    report = (
        ProblemReport.objects.select_for_update().filter(campaign=campaign, pk=report_id).first()
        if is_id
        else None
    )
    if report is None:
        raise ProblemRefused(
            _("campaign %(campaign)r has no problem report %(report)r")
            % {"campaign": campaign.slug, "report": report_id}
        )
    return report


@transaction.atomic
def problem_reopen(
    *,
    campaign: Campaign,
    report_id: int,
    by,
    reason: str,
    now: dt.datetime | None = None,
) -> list[ProblemReport]:
    """Open again the resolution (fixed or excluded) that closed a report, with a reason.

    Every report that resolution closed is open again (as in :func:`problem_resolve`,
    a resolution is one per pair), so the pair is held as when it was reported: out of
    every queue, rated by nobody, planned to no one new, until the organizer resolves it
    anew. Only the pair's latest resolution can be reopened, and not while the pair has
    an open report. Returns the reports reopened.
    """
    reason = _text(reason, what="note")
    if not reason:
        raise ProblemRefused(_("reopening a report needs a reason"))
    report = _report_locked(campaign=campaign, report_id=report_id)
    if report.status == ProblemReport.Status.OPEN:
        raise ProblemRefused(_("this report is open: there is nothing to reopen"))
    reports_of_pair = list(
        ProblemReport.objects.select_for_update().filter(clip_id=report.clip_id).order_by("pk")
    )
    if any(each.status == ProblemReport.Status.OPEN for each in reports_of_pair):
        raise ProblemRefused(
            _("this pair has an open report: it is out of rating until that one is resolved")
        )
    latest = max(
        (each for each in reports_of_pair if each.resolved_at is not None),
        key=lambda each: (each.resolved_at, each.pk),
    )
    if (latest.resolved_at, latest.status) != (report.resolved_at, report.status):
        raise ProblemRefused(
            _(
                "a later resolution of this pair stands (%(status)s, %(when)s): "
                "reopen that one (report %(report)s)"
            )
            % {
                "status": word(latest.status),
                "when": f"{latest.resolved_at:%Y-%m-%d %H:%M}",
                "report": latest.pk,
            }
        )
    # The reports that resolution closed: one per assignment (the newest), since an
    # assignment holds at most one open report.
    closed_together: dict[int, ProblemReport] = {}
    for each in reports_of_pair:
        if (each.resolved_at, each.status) == (report.resolved_at, report.status):
            closed_together[each.assignment_id] = each
    reopened = sorted(closed_together.values(), key=lambda each: each.pk)
    at = _now(now)
    ProblemReportEvent.objects.bulk_create(
        ProblemReportEvent(
            report=each, kind=ProblemReportEvent.Kind.REOPENED, note=reason, by=by, at=at
        )
        for each in reopened
    )
    for each in reopened:
        each.status, each.resolved_at, each.resolved_by = ProblemReport.Status.OPEN, None, None
        each.resolution_note = ""
        each.save(update_fields=["status", "resolved_at", "resolved_by", "resolution_note"])
    return reopened


__all__ = [
    "RESOLUTIONS",
    "TEXT_MAX_CHARS",
    "ProblemRefused",
    "problem_reopen",
    "problem_report",
    "problem_resolve",
]
