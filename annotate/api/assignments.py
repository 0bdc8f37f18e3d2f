"""Organizer API for assignments: plan preview and apply, roster, moves, reclaims, progress."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate import services
from annotate.api.fields import NoticeCodeField, NoticeField
from annotate.models import Campaign
from annotate.selectors import assignments as assignment_selectors
from annotate.services.assignments import MAX_RECLAIM_MINUTES

User = get_user_model()


def _user(username: str, field: str):
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist as exc:
        raise serializers.ValidationError(
            {field: [_("no user %(user)r") % {"user": username}]}
        ) from exc


class PlannedLoadSerializer(serializers.Serializer):
    annotator = serializers.CharField()
    existing = serializers.IntegerField()
    new = serializers.IntegerField()
    total = serializers.IntegerField()


class PlannedCellSerializer(serializers.Serializer):
    team = serializers.CharField()
    task = serializers.CharField()
    raters = serializers.ListField(child=serializers.CharField())
    new_raters = serializers.ListField(child=serializers.CharField())
    clips = serializers.IntegerField()
    ratings = serializers.IntegerField()


class PlanSummarySerializer(serializers.Serializer):
    new_rows = serializers.IntegerField()
    load_spread = serializers.IntegerField()
    loads = PlannedLoadSerializer(many=True)
    cells = PlannedCellSerializer(many=True)
    warnings = serializers.ListField(child=NoticeField())
    warning_codes = serializers.ListField(child=NoticeCodeField(), source="warnings")


class ApplyResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    warnings = serializers.ListField(child=NoticeField())
    warning_codes = serializers.ListField(child=NoticeCodeField(), source="warnings")


class ProgressRowSerializer(serializers.Serializer):
    label = serializers.CharField()
    done = serializers.IntegerField()
    in_progress = serializers.IntegerField()
    pending = serializers.IntegerField()
    total = serializers.IntegerField()
    percent = serializers.FloatField()


class AssignmentPlanPreviewApi(APIView):
    """The plan that applying would store now; nothing is written."""

    permission_classes = [IsAdminUser]

    @extend_schema(responses=PlanSummarySerializer)
    def get(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        plan = services.assignment_plan_preview(campaign=campaign)
        summary = assignment_selectors.plan_summary(plan=plan)
        return Response(PlanSummarySerializer(summary).data)


class AssignmentPlanApplyApi(APIView):
    """Store the missing rows of the plan; applying twice adds nothing."""

    permission_classes = [IsAdminUser]

    @extend_schema_serializer(component_name="AssignmentPlanApplyInput")
    class InputSerializer(serializers.Serializer):
        annotators = serializers.ListField(
            child=serializers.CharField(),
            required=False,
            default=list,
            help_text="Usernames to put on the roster before planning.",
        )

    @extend_schema(request=InputSerializer, responses={201: ApplyResultSerializer})
    def post(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        users = [_user(name, "annotators") for name in data.validated_data["annotators"]]
        result = services.assignment_plan_apply(campaign=campaign, with_annotators=users)
        return Response(ApplyResultSerializer(result).data, status=status.HTTP_201_CREATED)


class CampaignAnnotatorAddApi(APIView):
    """Put a user on the roster; in a planned campaign, plan what is missing."""

    permission_classes = [IsAdminUser]

    @extend_schema_serializer(component_name="CampaignAnnotatorAddInput")
    class InputSerializer(serializers.Serializer):
        username = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={201: ApplyResultSerializer})
    def post(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = _user(data.validated_data["username"], "username")
        result = services.assignment_annotator_add(campaign=campaign, user=user)
        return Response(ApplyResultSerializer(result).data, status=status.HTTP_201_CREATED)


class CampaignAnnotatorRemoveApi(APIView):
    """Take a user off the roster; refused while they hold open work."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        request=None,
        responses={
            204: None,
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="Refused: open work."),
        },
    )
    def delete(self, request, slug: str, username: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        user = get_object_or_404(User, username=username)
        services.assignment_annotator_remove(campaign=campaign, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AssignmentMoveApi(APIView):
    """Move one annotator's pending clips to another; done and in-progress work stay."""

    permission_classes = [IsAdminUser]

    @extend_schema_serializer(component_name="AssignmentMoveInput")
    class InputSerializer(serializers.Serializer):
        from_annotator = serializers.CharField()
        to_annotator = serializers.CharField()

    @extend_schema_serializer(component_name="AssignmentMoveOutput")
    class OutputSerializer(serializers.Serializer):
        @extend_schema_serializer(component_name="AssignmentMoveBlocked")
        class BlockedSerializer(serializers.Serializer):
            clip = serializers.CharField()
            reason = NoticeField()
            reason_code = NoticeCodeField(source="reason")

        moved = serializers.IntegerField()
        blocked = BlockedSerializer(many=True)

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.assignment_move_pending(
            campaign=campaign,
            from_user=_user(data.validated_data["from_annotator"], "from_annotator"),
            to_user=_user(data.validated_data["to_annotator"], "to_annotator"),
        )
        return Response(self.OutputSerializer(result).data)


class AssignmentReclaimApi(APIView):
    """Return in-progress work idle for longer than the timeout to pending."""

    permission_classes = [IsAdminUser]

    @extend_schema_serializer(component_name="AssignmentReclaimInput")
    class InputSerializer(serializers.Serializer):
        minutes = serializers.IntegerField(
            min_value=0,
            # A century: beyond it the cutoff leaves datetime's range (was a 500).
            max_value=MAX_RECLAIM_MINUTES,
            required=False,
            allow_null=True,
            default=None,
            help_text="Idle time before work is reclaimed; the campaign's setting when absent.",
        )

    @extend_schema_serializer(component_name="AssignmentReclaimOutput")
    class OutputSerializer(serializers.Serializer):
        reclaimed = serializers.IntegerField()
        cutoff = serializers.DateTimeField()
        by_annotator = serializers.DictField(child=serializers.IntegerField())

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.assignment_reclaim_stale(
            campaign=campaign, minutes=data.validated_data["minutes"]
        )
        return Response(self.OutputSerializer(result).data)


class AssignmentProgressApi(APIView):
    """Done of assigned, overall and per team, task and annotator: the protocol's work
    (cells' raters and extra raters). Gold checks score no team and are counted apart."""

    permission_classes = [IsAdminUser]

    @extend_schema_serializer(component_name="AssignmentProgressOutput")
    class OutputSerializer(serializers.Serializer):
        overall = ProgressRowSerializer(help_text="Without gold checks.")
        by_team = ProgressRowSerializer(many=True, help_text="Without gold checks.")
        by_task = ProgressRowSerializer(many=True, help_text="Without gold checks.")
        by_annotator = ProgressRowSerializer(many=True, help_text="Without gold checks.")
        gold = ProgressRowSerializer(help_text="The gold checks in the queues, overall.")
        gold_by_annotator = ProgressRowSerializer(
            many=True, help_text="Each annotator's gold checks."
        )

    @extend_schema(responses=OutputSerializer)
    def get(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        progress = assignment_selectors.assignment_progress(campaign=campaign)
        return Response(self.OutputSerializer(progress).data)
