from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate import selectors, services
from annotate.api.fields import NoticeCodeField, NoticeField, ReportField
from annotate.api.pagination import PagedListMixin
from annotate.models import Campaign, ImportJob, Submission
from annotate.selectors import imports as import_selectors
from annotate.uploads import save_upload


class ImportOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.CharField()
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    error = NoticeField()
    error_code = NoticeCodeField(source="error")
    report = ReportField()


class ImportHistoryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="job.pk")
    kind = serializers.CharField(source="job.kind")
    team_name = serializers.CharField(source="job.team_name")
    origin = serializers.CharField(help_text="page, API, command or demo; empty if unknown")
    by = serializers.CharField(help_text="who started it; empty for a command")
    status = serializers.CharField(source="job.status")
    created_at = serializers.DateTimeField(source="job.created_at")
    finished_at = serializers.DateTimeField(source="job.finished_at", allow_null=True)
    accepted = serializers.IntegerField()
    skipped = serializers.IntegerField()
    rejected = serializers.IntegerField()
    error = NoticeField(source="job.error")
    error_code = NoticeCodeField(source="job.error")


class ImportCreateApi(PagedListMixin, APIView):
    """Upload a zip of reference episodes or of a team's clips; the import runs as a task.
    GET lists every import of the campaign, whatever started it, newest first."""

    permission_classes = [IsAdminUser]
    parser_classes = [MultiPartParser]

    @extend_schema(responses=ImportHistoryOutputSerializer(many=True))
    def get(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        history = import_selectors.import_history(campaign=campaign)
        return self.paged(request, history, ImportHistoryOutputSerializer)

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=ImportJob.Kind.choices)
        team = serializers.CharField(required=False, allow_blank=True, default="")
        archive = serializers.FileField()
        strict = serializers.BooleanField(default=False)
        allow_drop = serializers.BooleanField(
            default=False,
            help_text="Rate the new version at once even if it lacks episodes of the rated "
            "one; otherwise it waits for confirmation.",
        )

        def validate(self, data):
            if data["kind"] == ImportJob.Kind.SUBMISSION and not data["team"].strip():
                raise serializers.ValidationError(
                    {"team": _("a submission import needs the team's name")}
                )
            return data

    @extend_schema(request=InputSerializer, responses={202: ImportOutputSerializer})
    def post(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.import_job_create(
            campaign=campaign,
            kind=data.validated_data["kind"],
            upload=save_upload(data.validated_data["archive"]),
            team_name=data.validated_data["team"],
            strict=data.validated_data["strict"],
            allow_drop=data.validated_data["allow_drop"],
            user=request.user,
            origin=ImportJob.Origin.API,
        )
        job.refresh_from_db()
        progress = selectors.import_job_progress(job=job)
        return Response(ImportOutputSerializer(progress).data, status=status.HTTP_202_ACCEPTED)


class SubmissionConfirmApi(APIView):
    """Make a version that drops episodes of the rated one the rated version."""

    permission_classes = [IsAdminUser]

    class OutputSerializer(serializers.Serializer):
        team = serializers.CharField(source="team.name")
        version = serializers.IntegerField()
        dropped = serializers.ListField(
            child=serializers.CharField(), source="report.dropped", default=list
        )
        confirmed_at = serializers.DateTimeField()

    @extend_schema(request=None, responses=OutputSerializer)
    def post(self, request, slug: str, submission_id: int):
        submission = get_object_or_404(Submission, pk=submission_id, team__campaign__slug=slug)
        submission = services.submission_confirm(submission=submission, user=request.user)
        return Response(self.OutputSerializer(submission).data)


class ImportDetailApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(responses=ImportOutputSerializer)
    def get(self, request, job_id: int):
        job = get_object_or_404(ImportJob, pk=job_id)
        return Response(ImportOutputSerializer(selectors.import_job_progress(job=job)).data)
