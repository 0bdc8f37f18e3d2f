"""Organizer API for a campaign's life: create, options, state, tasks, guideline."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate import services
from annotate.api.pagination import PagedListMixin
from annotate.models import Campaign, CampaignStateChange, Guideline, Task
from annotate.selectors import campaigns as campaign_selectors


class CampaignOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        ref_name = "Campaign"
        fields = [
            "slug",
            "name",
            "description",
            "raters_per_cell",
            "max_clips_per_rater",
            "seed",
            "require_full_watch",
            "state",
            "created_at",
        ]


class CampaignListApi(PagedListMixin, APIView):
    """GET lists the campaigns; POST creates one, in draft, with the protocol's guideline."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        slug = serializers.SlugField(max_length=50)
        name = serializers.CharField(max_length=200)
        description = serializers.CharField(required=False, allow_blank=True, default="")
        raters_per_cell = serializers.IntegerField(min_value=1, max_value=100, default=3)
        max_clips_per_rater = serializers.IntegerField(min_value=1, max_value=1000, default=10)
        seed = serializers.IntegerField(min_value=-(2**31), max_value=2**31 - 1, default=0)
        require_full_watch = serializers.BooleanField(default=True)

    @extend_schema(responses=CampaignOutputSerializer(many=True))
    def get(self, request):
        campaigns = Campaign.objects.order_by("-created_at", "-pk")
        return self.paged(request, campaigns, CampaignOutputSerializer)

    @extend_schema(request=InputSerializer, responses={201: CampaignOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        campaign = services.campaign_create(**data.validated_data)
        return Response(CampaignOutputSerializer(campaign).data, status=status.HTTP_201_CREATED)


class CampaignDetailApi(APIView):
    """GET one campaign; PATCH changes the options given (frozen while locked or published)."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200, required=False)
        description = serializers.CharField(required=False, allow_blank=True)
        raters_per_cell = serializers.IntegerField(min_value=1, max_value=100, required=False)
        max_clips_per_rater = serializers.IntegerField(min_value=1, max_value=1000, required=False)
        seed = serializers.IntegerField(min_value=-(2**31), max_value=2**31 - 1, required=False)
        require_full_watch = serializers.BooleanField(required=False)

    @extend_schema(responses=CampaignOutputSerializer)
    def get(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        return Response(CampaignOutputSerializer(campaign).data)

    @extend_schema(request=InputSerializer, responses=CampaignOutputSerializer)
    def patch(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        campaign = services.campaign_update(campaign=campaign, **data.validated_data)
        return Response(CampaignOutputSerializer(campaign).data)


class CampaignStateApi(PagedListMixin, APIView):
    """Move the campaign: draft → open → locked → published; back needs a reason."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        state = serializers.ChoiceField(choices=Campaign.State.choices)
        reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    class OutputSerializer(serializers.ModelSerializer):
        campaign = serializers.SlugRelatedField(slug_field="slug", read_only=True)
        # None when the change came from a command on the server.
        changed_by = serializers.SlugRelatedField(
            slug_field="username", read_only=True, allow_null=True
        )

        class Meta:
            model = CampaignStateChange
            fields = ["campaign", "from_state", "to_state", "reason", "changed_by", "changed_at"]

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        history = campaign_selectors.campaign_state_history(campaign=campaign)
        return self.paged(request, history, self.OutputSerializer)

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = services.campaign_state_change(
            campaign=campaign,
            to_state=data.validated_data["state"],
            reason=data.validated_data.get("reason", ""),
            by=request.user,
        )
        return Response(self.OutputSerializer(change).data)


class TaskOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Task
        ref_name = "Task"
        fields = ["key", "number", "title", "instruction", "title_zh_hans", "instruction_zh_hans"]


class TaskListApi(PagedListMixin, APIView):
    """GET the campaign's tasks; POST adds one (key task<K>) before or after its episodes."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        number = serializers.IntegerField(min_value=1, max_value=1_000_000)
        title = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
        instruction = serializers.CharField(
            required=False, allow_blank=True, max_length=5000, default=""
        )
        # The same in Simplified Chinese: each reader sees their language, else the other.
        title_zh_hans = serializers.CharField(
            required=False, allow_blank=True, max_length=200, default=""
        )
        instruction_zh_hans = serializers.CharField(
            required=False, allow_blank=True, max_length=5000, default=""
        )

    @extend_schema(responses=TaskOutputSerializer(many=True))
    def get(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        tasks = campaign_selectors.campaign_tasks(campaign=campaign)
        return self.paged(request, tasks, TaskOutputSerializer)

    @extend_schema(request=InputSerializer, responses={201: TaskOutputSerializer})
    def post(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = services.task_create(campaign=campaign, **data.validated_data)
        return Response(TaskOutputSerializer(task).data, status=status.HTTP_201_CREATED)


class TaskDetailApi(APIView):
    """GET one task; PATCH its title or instruction."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        title = serializers.CharField(required=False, allow_blank=True, max_length=200)
        instruction = serializers.CharField(required=False, allow_blank=True, max_length=5000)
        title_zh_hans = serializers.CharField(required=False, allow_blank=True, max_length=200)
        instruction_zh_hans = serializers.CharField(
            required=False, allow_blank=True, max_length=5000
        )

    @extend_schema(responses=TaskOutputSerializer)
    def get(self, request, slug: str, number: int):
        return Response(
            TaskOutputSerializer(get_object_or_404(Task, campaign__slug=slug, number=number)).data
        )

    @extend_schema(request=InputSerializer, responses=TaskOutputSerializer)
    def patch(self, request, slug: str, number: int):
        task = get_object_or_404(Task, campaign__slug=slug, number=number)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = services.task_update(task=task, **data.validated_data)
        return Response(TaskOutputSerializer(task).data)


class TasksImportApi(APIView):
    """Create or update tasks from a CSV `task,title,instruction` (optionally with
    `title_zh_hans,instruction_zh_hans`): all rows or none."""

    permission_classes = [IsAdminUser]
    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(
            help_text=(
                "UTF-8 CSV with the header task,title,instruction, optionally with "
                "title_zh_hans,instruction_zh_hans."
            )
        )

    class OutputSerializer(serializers.Serializer):
        created = serializers.ListField(child=serializers.CharField())
        updated = serializers.ListField(child=serializers.CharField())

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            result = services.tasks_import(
                campaign=campaign, data=data.validated_data["file"].read()
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"file": exc.messages}) from exc
        return Response(self.OutputSerializer(result).data)


class GuidelineApi(APIView):
    """GET the guideline (organizers and the campaign's annotators); PUT replaces it."""

    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        text = serializers.CharField(max_length=50_000)
        language = serializers.ChoiceField(
            choices=Guideline.Language.choices, default=Guideline.Language.EN
        )

    class OutputSerializer(serializers.Serializer):
        language = serializers.CharField()
        text = serializers.CharField(help_text="Plain text; # and ## headings, - list items.")

    def get_permissions(self):
        return [IsAdminUser()] if self.request.method == "PUT" else [IsAuthenticated()]

    @extend_schema(responses=OutputSerializer)
    def get(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        if not campaign_selectors.user_may_read_guideline(user=request.user, campaign=campaign):
            raise Http404
        text = campaign_selectors.guideline_text(campaign=campaign)
        return Response({"language": Guideline.Language.EN, "text": text})

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def put(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        guideline = services.guideline_save(
            campaign=campaign,
            text=data.validated_data["text"],
            language=data.validated_data["language"],
            by=request.user,
        )
        return Response({"language": guideline.language, "text": guideline.text})
