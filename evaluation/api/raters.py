"""Organizer API of quality review: rater reliability, exclusions, adjudication.

Each view parses its input, calls one selector or service, and answers. A service's
refusal (``annotate.services.review.ReviewRefused``) propagates to the project's
exception handler, which answers 400 with its message.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.models import Campaign, RaterExclusion
from annotate.services import review
from evaluation.scoring.adjudication import ADJUDICATION_RULE
from evaluation.selectors import adjudication as adjudication_selectors
from evaluation.selectors import reliability as selectors

# --- rater reliability ---------------------------------------------------------------------


class RaterRowSerializer(serializers.Serializer):
    rater = serializers.CharField(help_text="The pseudonym of the ratings export.")
    excluded = serializers.BooleanField(help_text="An active exclusion leaves ratings out.")
    excluded_since = serializers.DateTimeField(allow_null=True)
    n_clips = serializers.IntegerField()
    n_counted = serializers.IntegerField()
    n_compared = serializers.IntegerField(help_text="Ratings with a consensus of others.")
    kappa = serializers.FloatField(
        allow_null=True, help_text="Quadratic-weighted kappa with the leave-out consensus."
    )
    exact = serializers.FloatField(allow_null=True)
    bias = serializers.FloatField(
        allow_null=True, help_text="Mean of score - the others' median, in points."
    )
    gold_n = serializers.IntegerField()
    gold_exact = serializers.FloatField(allow_null=True)
    gold_within_one = serializers.FloatField(allow_null=True)
    n_timed = serializers.IntegerField()
    median_seconds = serializers.FloatField(
        allow_null=True, help_text="Server-measured seconds per clip."
    )
    median_page_seconds = serializers.FloatField(allow_null=True)
    median_duration_s = serializers.FloatField(allow_null=True)
    time_ratio = serializers.FloatField(
        allow_null=True, help_text="Median of server seconds / the pair's duration."
    )
    modal_score = serializers.IntegerField(allow_null=True)
    straight_line = serializers.FloatField(allow_null=True)
    flags = serializers.ListField(child=serializers.CharField())


class ExclusionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    rater = serializers.CharField()
    since = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField()
    excluded_by = serializers.CharField()
    excluded_at = serializers.DateTimeField()
    lifted_at = serializers.DateTimeField(allow_null=True)
    lifted_by = serializers.CharField()
    lift_reason = serializers.CharField(allow_blank=True)


def _exclusion_data(note: selectors.ExclusionNote) -> dict:
    return note.as_json()


class RaterReportApi(APIView):
    """Every rater: agreement with the leave-out consensus, bias, gold, time per clip,
    straight-lining and flags, with the campaign's thresholds."""

    permission_classes = [IsAdminUser]

    @extend_schema_serializer(component_name="RaterReport")
    class OutputSerializer(serializers.Serializer):
        campaign = serializers.CharField()
        generated_at = serializers.DateTimeField()
        consensus = serializers.CharField()
        flags = serializers.ListField(child=serializers.CharField())
        thresholds = serializers.DictField()
        gold_available = serializers.BooleanField()
        time_per_clip = serializers.CharField()
        excluded_raters = ExclusionSerializer(many=True)
        rows = RaterRowSerializer(many=True)

    @extend_schema(responses=OutputSerializer)
    def get(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        report = selectors.rater_report(campaign=campaign)
        data = {**report.meta(), "rows": [row.as_json() for row in report.rows]}
        return Response(self.OutputSerializer(data).data)


class ThresholdsApi(APIView):
    """The campaign's flag thresholds and adjudication range; PATCH any of them."""

    permission_classes = [IsAdminUser]

    class ThresholdsSerializer(serializers.Serializer):
        reliability_min_clips = serializers.IntegerField(min_value=1, max_value=1000)
        flag_fast_ratio = serializers.FloatField(min_value=0.0, max_value=100.0)
        flag_min_kappa = serializers.FloatField(min_value=-1.0, max_value=1.0)
        flag_straight_line_share = serializers.FloatField(min_value=0.0, max_value=1.0)
        flag_min_gold_accuracy = serializers.FloatField(min_value=0.0, max_value=1.0)
        flag_gold_min_clips = serializers.IntegerField(min_value=1, max_value=1000)
        adjudication_range = serializers.IntegerField(min_value=1, max_value=3)

    @extend_schema(responses=ThresholdsSerializer)
    def get(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        return Response(self.ThresholdsSerializer(campaign).data)

    @extend_schema(request=ThresholdsSerializer, responses=ThresholdsSerializer)
    def patch(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        data = self.ThresholdsSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        campaign = review.review_settings_update(campaign=campaign, **data.validated_data)
        return Response(self.ThresholdsSerializer(campaign).data)


class ExclusionsApi(APIView):
    """Exclusions of raters' ratings, newest first (GET); exclude a rater (POST)."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        rater = serializers.CharField(help_text="Username or pseudonym of a rater of the campaign.")
        reason = serializers.CharField(max_length=review.REASON_MAX_CHARS)
        since = serializers.DateTimeField(
            required=False,
            allow_null=True,
            default=None,
            help_text="Leave out ratings last changed from this moment; empty: all of them.",
        )

    @extend_schema(responses=ExclusionSerializer(many=True))
    def get(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        notes = selectors.exclusion_notes(campaign=campaign)
        return Response(ExclusionSerializer([_exclusion_data(n) for n in notes], many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ExclusionSerializer})
    def post(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = selectors.rater_user(campaign=campaign, name=data.validated_data["rater"].strip())
        if user is None:
            raise serializers.ValidationError(
                {"rater": [_("Nobody with work in this campaign has this name.")]}
            )
        exclusion = review.rater_exclude(
            campaign=campaign,
            annotator=user,
            reason=data.validated_data["reason"],
            since=data.validated_data["since"],
            by=request.user,
        )
        note = next(n for n in selectors.exclusion_notes(campaign=campaign) if n.id == exclusion.pk)
        return Response(
            ExclusionSerializer(_exclusion_data(note)).data, status=status.HTTP_201_CREATED
        )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=review.REASON_MAX_CHARS)


class ExclusionLiftApi(APIView):
    """Lift an exclusion: the rater's ratings count again; the exclusion stays on record."""

    permission_classes = [IsAdminUser]

    @extend_schema(request=ReasonSerializer, responses=ExclusionSerializer)
    def post(self, request, slug: str, exclusion_id: int):
        campaign = get_object_or_404(Campaign, slug=slug)
        exclusion = get_object_or_404(RaterExclusion, campaign=campaign, pk=exclusion_id)
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review.rater_exclusion_lift(
            exclusion=exclusion, reason=data.validated_data["reason"], by=request.user
        )
        note = next(n for n in selectors.exclusion_notes(campaign=campaign) if n.id == exclusion_id)
        return Response(ExclusionSerializer(_exclusion_data(note)).data)


# --- adjudication --------------------------------------------------------------------------


class QueueRatingSerializer(serializers.Serializer):
    rater = serializers.CharField()
    score = serializers.IntegerField()
    counted = serializers.BooleanField()
    extra = serializers.BooleanField(help_text="Given by an extra rater asked for here.")


class ActionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["extra_rater", "decision", "withdrawal"])
    score = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    by = serializers.CharField(allow_blank=True)
    at = serializers.DateTimeField()
    extra_rater = serializers.CharField(allow_null=True)
    extra_rater_score = serializers.IntegerField(allow_null=True)


class QueueItemSerializer(serializers.Serializer):
    clip = serializers.IntegerField()
    task = serializers.CharField()
    team = serializers.CharField()
    episode = serializers.CharField()
    status = serializers.CharField(
        help_text="open, waiting (an extra rater has not rated yet), rated_again or decided."
    )
    reasons = serializers.ListField(child=serializers.CharField())
    low = serializers.IntegerField(allow_null=True)
    high = serializers.IntegerField(allow_null=True)
    mean = serializers.FloatField(allow_null=True)
    decided_score = serializers.IntegerField(allow_null=True)
    ratings = QueueRatingSerializer(many=True)
    actions = ActionSerializer(many=True)


class AdjudicationQueueApi(APIView):
    """Clips whose counted ratings span the campaign's range or whose rater is excluded."""

    permission_classes = [IsAdminUser]

    @extend_schema_serializer(component_name="AdjudicationQueue")
    class OutputSerializer(serializers.Serializer):
        campaign = serializers.CharField()
        adjudication_range = serializers.IntegerField()
        adjudication_rule = serializers.CharField()
        items = QueueItemSerializer(many=True)

    @extend_schema(responses=OutputSerializer)
    def get(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        queue = adjudication_selectors.adjudication_queue(campaign=campaign)
        data = {
            "campaign": campaign.slug,
            "adjudication_range": campaign.adjudication_range,
            "adjudication_rule": ADJUDICATION_RULE,
            "items": [item.as_json() for item in queue],
        }
        return Response(self.OutputSerializer(data).data)


class AdjudicationActionsApi(APIView):
    """The record of every adjudication action, oldest first (who, when, what, why)."""

    permission_classes = [IsAdminUser]

    class RecordSerializer(serializers.Serializer):
        at = serializers.DateTimeField()
        kind = serializers.CharField()
        task = serializers.CharField()
        team = serializers.CharField()
        episode = serializers.CharField()
        score = serializers.IntegerField(allow_null=True)
        reason = serializers.CharField(allow_blank=True)
        by = serializers.CharField(allow_blank=True)
        extra_rater = serializers.CharField(allow_blank=True)
        extra_rater_score = serializers.IntegerField(allow_null=True)

    @extend_schema(responses=RecordSerializer(many=True))
    def get(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        frame = adjudication_selectors.adjudication_actions_frame(campaign=campaign)
        rows = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        return Response(self.RecordSerializer(rows, many=True).data)


def _created(action) -> Response:
    data = {
        "id": action.pk,
        "clip": action.clip_id,
        "kind": action.kind,
        "score": action.score,
        "reason": action.reason,
        "at": action.at,
        "extra_rater": (
            selectors.rater_pseudonym(
                user_id=action.assignment.annotator_id, campaign_slug=action.campaign.slug
            )
            if action.assignment_id
            else None
        ),
    }
    return Response(CreatedActionSerializer(data).data, status=status.HTTP_201_CREATED)


class CreatedActionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    clip = serializers.IntegerField()
    kind = serializers.CharField()
    score = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    at = serializers.DateTimeField()
    extra_rater = serializers.CharField(
        allow_null=True, help_text="Pseudonym of the rater asked, for an extra rater."
    )


class ExtraRaterApi(APIView):
    """Ask one more rater for a clip; the planner picks an eligible one."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(
            max_length=review.REASON_MAX_CHARS, required=False, allow_blank=True, default=""
        )

    @extend_schema(request=InputSerializer, responses={201: CreatedActionSerializer})
    def post(self, request, slug: str, clip_id: int):
        campaign = get_object_or_404(Campaign, slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        action = review.adjudication_extra_rater(
            campaign=campaign,
            clip_id=clip_id,
            reason=data.validated_data["reason"],
            by=request.user,
        )
        return _created(action)


class DecisionApi(APIView):
    """Decide a clip's score with a written reason; it replaces each counted rating."""

    permission_classes = [IsAdminUser]

    class InputSerializer(ReasonSerializer):
        score = serializers.IntegerField(min_value=0, max_value=3)

    @extend_schema(request=InputSerializer, responses={201: CreatedActionSerializer})
    def post(self, request, slug: str, clip_id: int):
        campaign = get_object_or_404(Campaign, slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        action = review.adjudication_decide(
            campaign=campaign,
            clip_id=clip_id,
            score=data.validated_data["score"],
            reason=data.validated_data["reason"],
            by=request.user,
        )
        return _created(action)


class WithdrawalApi(APIView):
    """Withdraw a clip's decision with a written reason: its ratings count again."""

    permission_classes = [IsAdminUser]

    @extend_schema(request=ReasonSerializer, responses={201: CreatedActionSerializer})
    def post(self, request, slug: str, clip_id: int):
        campaign = get_object_or_404(Campaign, slug=slug)
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        action = review.adjudication_withdraw(
            campaign=campaign,
            clip_id=clip_id,
            reason=data.validated_data["reason"],
            by=request.user,
        )
        return _created(action)
