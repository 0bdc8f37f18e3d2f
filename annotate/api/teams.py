"""Team API: a team member's uploads, their per-file reports and the final version.

Token or session auth; every operation acts on the caller's own team in the campaign,
and a user in no team of it gets 403. Organizers set the submission window here too.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.access import own_team
from annotate.api.fields import NoticeCodeField, NoticeField
from annotate.models import Campaign, ImportJob, Team
from annotate.selectors import teams as team_selectors
from annotate.services.team_portal import (
    submission_window_set,
    team_final_choose,
    team_submission_upload,
)
from annotate.uploads import save_upload, upload_refusal


class FileNoteSerializer(serializers.Serializer):
    file = serializers.CharField()
    reason = NoticeField()
    reason_code = NoticeCodeField(source="reason")


class UploadReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ImportJob.Status.choices)
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    error = NoticeField()
    error_code = NoticeCodeField(source="error")
    created_at = serializers.CharField()
    version = serializers.IntegerField(allow_null=True, help_text="The version it made, if any.")
    accepted = serializers.ListField(child=serializers.CharField())
    skipped = FileNoteSerializer(many=True)
    rejected = FileNoteSerializer(many=True)
    missing = serializers.ListField(
        child=serializers.CharField(),
        help_text="Ground-truth episodes this upload lacks: each counts 0 where it is rated.",
    )
    dropped = serializers.ListField(child=serializers.CharField())
    awaiting_confirmation = serializers.BooleanField()
    final_kept = serializers.IntegerField(
        allow_null=True,
        help_text="The version the team chose as final, which stays rated: this upload's "
        "version counts only once chosen.",
    )


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    n_clips = serializers.IntegerField()
    n_rejected = serializers.IntegerField()
    awaiting_confirmation = serializers.BooleanField()
    is_rated = serializers.BooleanField(help_text="The version that counts now.")
    is_chosen = serializers.BooleanField(help_text="Chosen by the team as final.")


class TeamSubmissionsSerializer(serializers.Serializer):
    team = serializers.CharField()
    window_open = serializers.BooleanField()
    window_message = serializers.CharField()
    closes_at = serializers.DateTimeField(allow_null=True)
    max_upload_bytes = serializers.IntegerField()
    versions = VersionSerializer(many=True)
    uploads = UploadReportSerializer(many=True)


def _submissions_payload(campaign: Campaign, team: Team) -> dict:
    refusal = team_selectors.submission_window_refusal(campaign=campaign)
    return {
        "team": team.name,
        "window_open": not refusal,
        "window_message": refusal,
        "closes_at": campaign.submissions_close_at,
        "max_upload_bytes": settings.INGEST_MAX_ARCHIVE_BYTES,
        "versions": [vars(row) for row in team_selectors.team_versions(team=team)],
        "uploads": [
            team_selectors.team_upload_report(job=job)
            for job in team_selectors.team_uploads(team=team)[:20]
        ],
    }


class TeamSubmissionsApi(APIView):
    """GET: the caller's team, its versions and its latest uploads with their reports.
    POST: upload a zip in the layout `[<split>/]task<K>/episode_<N>.mp4`; the import runs
    on a worker and the answer's `id` is polled at `submissions/uploads/<id>/`."""

    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        archive = serializers.FileField()

    @extend_schema(responses=TeamSubmissionsSerializer)
    def get(self, request, slug: str):
        campaign, team = own_team(request, slug)
        return Response(TeamSubmissionsSerializer(_submissions_payload(campaign, team)).data)

    @extend_schema(request=InputSerializer, responses={202: UploadReportSerializer, 413: None})
    def post(self, request, slug: str):
        campaign, team = own_team(request, slug)
        refusal = team_selectors.submission_window_refusal(campaign=campaign)
        if refusal:  # before reading the archive to disk
            raise serializers.ValidationError({"detail": refusal})
        if too_large := upload_refusal(request):
            return Response({"detail": too_large}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        archive = data.validated_data["archive"]
        if archive.size > settings.INGEST_MAX_ARCHIVE_BYTES:
            raise serializers.ValidationError(
                {
                    "archive": _("%(size)s bytes; at most %(max)s")
                    % {"size": archive.size, "max": settings.INGEST_MAX_ARCHIVE_BYTES}
                }
            )
        job = team_submission_upload(
            campaign=campaign,
            user=request.user,
            upload=save_upload(archive),
            origin=ImportJob.Origin.API,
        )
        job.refresh_from_db()
        report = team_selectors.team_upload_report(job=job)
        return Response(UploadReportSerializer(report).data, status=status.HTTP_202_ACCEPTED)


class TeamUploadApi(APIView):
    """One of the team's uploads: its progress and, once done, what became of each file."""

    @extend_schema(responses=UploadReportSerializer)
    def get(self, request, slug: str, job_id: int):
        team = own_team(request, slug)[1]
        job = team_selectors.team_upload(team=team, job_id=job_id)
        if job is None:
            raise Http404(_("no such upload of your team"))
        return Response(UploadReportSerializer(team_selectors.team_upload_report(job=job)).data)


class TeamFinalApi(APIView):
    """Choose the version that counts (`version`), or `null` for the newest; before the
    window closes only."""

    class InputSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1, allow_null=True)

    @extend_schema(request=InputSerializer, responses=TeamSubmissionsSerializer)
    def put(self, request, slug: str):
        campaign, team = own_team(request, slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        team = team_final_choose(
            team=team, version=data.validated_data["version"], user=request.user
        )
        return Response(TeamSubmissionsSerializer(_submissions_payload(campaign, team)).data)


class TeamFinalOrganizerApi(APIView):
    """Organizers: choose a team's rated version (`version`, or `null` for the newest) at
    any time while the campaign takes submissions, also after the window closed."""

    permission_classes = [IsAdminUser]

    @extend_schema(request=TeamFinalApi.InputSerializer, responses=TeamSubmissionsSerializer)
    def put(self, request, slug: str, team_id: int):
        campaign = get_object_or_404(Campaign, slug=slug)
        team = get_object_or_404(Team, campaign=campaign, pk=team_id)
        data = TeamFinalApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        team = team_final_choose(
            team=team, version=data.validated_data["version"], user=request.user
        )
        return Response(TeamSubmissionsSerializer(_submissions_payload(campaign, team)).data)


class SubmissionWindowApi(APIView):
    """Organizers: when teams may upload, and whether the published leaderboard is public."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        opens_at = serializers.DateTimeField(allow_null=True, required=False, default=None)
        closes_at = serializers.DateTimeField(allow_null=True, required=False, default=None)
        leaderboard_public = serializers.BooleanField(required=False, allow_null=True)
        teams_may_judge = serializers.BooleanField(required=False, allow_null=True)

    class OutputSerializer(serializers.Serializer):
        opens_at = serializers.DateTimeField(source="submissions_open_at", allow_null=True)
        closes_at = serializers.DateTimeField(source="submissions_close_at", allow_null=True)
        leaderboard_public = serializers.BooleanField()
        teams_may_judge = serializers.BooleanField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        return Response(self.OutputSerializer(campaign).data)

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def put(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        campaign = submission_window_set(campaign=campaign, **data.validated_data)
        return Response(self.OutputSerializer(campaign).data)
