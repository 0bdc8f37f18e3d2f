"""Organizer API of problem reports: the campaign's reports, and their resolution.

An annotator reports through ``/api/me/assignments/<id>/problem/`` (annotate/api/annotator.py);
organizers read the reports here (team and file named: organizers only), resolve
them and reopen a resolution. A refusal of the service is a ``ValidationError``, answered 400 by
config/api_errors.py.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.models import Campaign, ProblemReport
from annotate.selectors.problems import problem_reports
from annotate.services.problems import (
    RESOLUTIONS,
    TEXT_MAX_CHARS,
    problem_reopen,
    problem_resolve,
)


class ProblemEventSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="fixed, excluded or reopened.")
    by = serializers.CharField(
        help_text="The organizer's username; empty for a command without --by."
    )
    at = serializers.DateTimeField()
    note = serializers.CharField(help_text="The resolution's note, or why it was reopened.")


class ProblemItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    clip = serializers.IntegerField(source="clip_id")
    task = serializers.CharField()
    team = serializers.CharField()
    episode = serializers.CharField()
    source_name = serializers.CharField(help_text="The clip's file in the team's upload.")
    reporter = serializers.CharField(help_text="The annotator's username.")
    reason = serializers.ChoiceField(choices=ProblemReport.Reason.choices)
    text = serializers.CharField()
    # Plain text, not an enum: "status" names other choice sets in the schema already.
    status = serializers.CharField(help_text="open, fixed or excluded.")
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolved_by = serializers.CharField()
    resolution_note = serializers.CharField()
    clip_reports = serializers.IntegerField(help_text="Reports of the same clip.")
    history = ProblemEventSerializer(
        many=True, help_text="Every resolution and reopening of the report, oldest first."
    )
    reopenable = serializers.BooleanField(
        help_text="Closed by the pair's latest resolution, with no open report on the pair: "
        "POST .../reopen/ opens it again."
    )


class ProblemReportsApi(APIView):
    """The campaign's problem reports, open ones first; ``?status=`` keeps one status."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status",
                str,
                required=False,
                description="Only the reports with this status: open, fixed or excluded.",
            )
        ],
        responses=ProblemItemSerializer(many=True),
    )
    def get(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        wanted = request.query_params.get("status") or None
        if wanted is not None and wanted not in ProblemReport.Status.values:
            raise serializers.ValidationError(
                {"status": [f"one of {', '.join(ProblemReport.Status.values)}"]}
            )
        items = problem_reports(campaign=campaign, status=wanted)
        return Response(ProblemItemSerializer(items, many=True).data)


class ProblemResolveApi(APIView):
    """Resolve an open report (and every open report of its clip): ``fixed`` hands the
    pair out again, ``excluded`` leaves it out of rating (a note says why)."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        resolution = serializers.ChoiceField(choices=RESOLUTIONS)
        note = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=TEXT_MAX_CHARS
        )

    class OutputSerializer(serializers.Serializer):
        resolved = serializers.ListField(
            child=serializers.IntegerField(), help_text="Ids of the reports closed."
        )
        resolution = serializers.CharField()

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(description="Refused: the reason is in the body."),
        },
    )
    def post(self, request, slug: str, report_id: int):
        campaign = get_object_or_404(Campaign, slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        resolved = problem_resolve(
            campaign=campaign, report_id=report_id, by=request.user, **data.validated_data
        )
        return Response(
            self.OutputSerializer(
                {
                    "resolved": [report.pk for report in resolved],
                    "resolution": data.validated_data["resolution"],
                }
            ).data
        )


class ProblemReopenApi(APIView):
    """Reopen the resolution (fixed or excluded) that closed a report, with a reason: the
    reports it closed are open again and the pair is out of rating until it is resolved
    anew. Only a pair's latest resolution can be reopened."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=TEXT_MAX_CHARS, help_text="Why (recorded).")

    class OutputSerializer(serializers.Serializer):
        reopened = serializers.ListField(
            child=serializers.IntegerField(), help_text="Ids of the reports open again."
        )

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(description="Refused: the reason is in the body."),
        },
    )
    def post(self, request, slug: str, report_id: int):
        campaign = get_object_or_404(Campaign, slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reopened = problem_reopen(
            campaign=campaign, report_id=report_id, by=request.user, **data.validated_data
        )
        return Response(self.OutputSerializer({"reopened": [r.pk for r in reopened]}).data)
