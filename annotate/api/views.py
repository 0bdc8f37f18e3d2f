from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate import selectors, services
from annotate.models import Campaign, ImportJob
from annotate.uploads import save_upload


class CampaignListApi(APIView):
    permission_classes = [IsAdminUser]

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = Campaign
            fields = [
                "slug",
                "name",
                "raters_per_cell",
                "max_clips_per_rater",
                "seed",
                "locked",
                "created_at",
            ]

    class InputSerializer(serializers.Serializer):
        slug = serializers.SlugField()
        name = serializers.CharField(max_length=200)
        raters_per_cell = serializers.IntegerField(min_value=1, default=3)
        max_clips_per_rater = serializers.IntegerField(min_value=1, default=10)
        seed = serializers.IntegerField(default=0)

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        return Response(self.OutputSerializer(Campaign.objects.all(), many=True).data)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if Campaign.objects.filter(slug=data.validated_data["slug"]).exists():
            raise serializers.ValidationError({"slug": "a campaign with this slug exists"})
        try:
            campaign = services.campaign_create(**data.validated_data)
        except DjangoValidationError as exc:  # the model's own limits, e.g. a huge cap
            raise serializers.ValidationError(exc.message_dict) from exc
        return Response(self.OutputSerializer(campaign).data, status=status.HTTP_201_CREATED)


class ImportOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.CharField()
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    error = serializers.CharField()
    report = serializers.JSONField()


class ImportCreateApi(APIView):
    """Upload a zip of reference episodes or of a team's clips; the import runs as a task."""

    permission_classes = [IsAdminUser]
    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=ImportJob.Kind.choices)
        team = serializers.CharField(required=False, allow_blank=True, default="")
        archive = serializers.FileField()
        strict = serializers.BooleanField(default=False)

        def validate(self, data):
            if data["kind"] == ImportJob.Kind.SUBMISSION and not data["team"].strip():
                raise serializers.ValidationError(
                    {"team": "a submission import needs the team's name"}
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
            user=request.user,
        )
        job.refresh_from_db()
        return Response(selectors.import_job_progress(job=job), status=status.HTTP_202_ACCEPTED)


class ImportDetailApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(responses=ImportOutputSerializer)
    def get(self, request, job_id: int):
        job = get_object_or_404(ImportJob, pk=job_id)
        return Response(selectors.import_job_progress(job=job))
