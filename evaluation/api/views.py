"""Organizer API of scoring: rankings, export files and the paired comparison of two teams."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.models import Campaign
from evaluation import exports, selectors
from evaluation.scoring import MAX_RESAMPLES
from evaluation.views.exports import export_response


class ScoringParametersSerializer(serializers.Serializer):
    n_boot = serializers.IntegerField()
    seed = serializers.IntegerField()
    confidence = serializers.FloatField()


class TaskStandingSerializer(serializers.Serializer):
    task = serializers.CharField()
    score = serializers.FloatField()
    ci_low = serializers.FloatField()
    ci_high = serializers.FloatField()
    n3 = serializers.IntegerField()
    n2 = serializers.IntegerField()
    n1 = serializers.IntegerField()
    n0 = serializers.IntegerField()
    n_clips_rated = serializers.IntegerField()
    n_expected_clips = serializers.IntegerField(help_text="|E(task)|: the denominator.")
    n_ratings = serializers.IntegerField()
    n_expected_ratings = serializers.IntegerField(
        help_text="The team's clips in E(task) x raters per cell."
    )
    n_missing = serializers.IntegerField(
        help_text="Ratings counting 0: episodes not submitted, rejected or not rated yet."
    )
    n_total = serializers.IntegerField(
        help_text="N_total of (3·N3 + 2·N2 + N1) / N_total: |E(task)| x raters per cell."
    )


class TeamStandingSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    team = serializers.CharField()
    final_score = serializers.FloatField()
    ci_low = serializers.FloatField()
    ci_high = serializers.FloatField()
    rank_probability = serializers.FloatField()
    rank_distribution = serializers.DictField(child=serializers.FloatField())
    n_ratings = serializers.IntegerField()
    n_expected_ratings = serializers.IntegerField()
    n_total = serializers.IntegerField(help_text="The tasks' N_total, summed.")
    coverage = serializers.FloatField(help_text="n_ratings / n_total, as in the rankings export.")
    tasks = TaskStandingSerializer(many=True)


def _rankings_data(result: selectors.CampaignLeaderboard) -> dict:
    return {
        "campaign": result.campaign_slug,
        "input_hash": result.input_hash,
        "parameters": result.parameters,
        "tasks": result.board.tasks,
        "n_ratings": result.n_ratings,
        "teams_without_ratings": result.teams_without_ratings,
        "teams": selectors.standing_rows(result),
    }


class RankingsApi(APIView):
    """Ranked teams with bootstrap intervals, rank probabilities, per-task scores and counts."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        bootstrap = serializers.IntegerField(min_value=1, max_value=MAX_RESAMPLES, default=1000)
        confidence = serializers.FloatField(min_value=0.5, max_value=0.999, default=0.95)

    @extend_schema_serializer(component_name="Rankings")
    class OutputSerializer(serializers.Serializer):
        campaign = serializers.CharField()
        input_hash = serializers.CharField()
        parameters = ScoringParametersSerializer()
        tasks = serializers.ListField(child=serializers.CharField())
        n_ratings = serializers.IntegerField()
        teams_without_ratings = serializers.ListField(child=serializers.CharField())
        teams = TeamStandingSerializer(many=True)

    @extend_schema(parameters=[InputSerializer], responses=OutputSerializer)
    def get(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        data = self.InputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        parameters = selectors.ScoringParameters.for_campaign(
            campaign=campaign,
            n_boot=data.validated_data["bootstrap"],
            confidence=data.validated_data["confidence"],
        )
        result = selectors.campaign_leaderboard(campaign=campaign, parameters=parameters)
        response = Response(self.OutputSerializer(_rankings_data(result)).data)
        response[exports.INPUT_HASH_HEADER] = result.input_hash
        return response


class _IgnoreFormatParameter(DefaultContentNegotiation):
    """``?format=`` names the export's file format here, not a DRF renderer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ExportApi(APIView):
    """One export as a file; the X-Refscore-Input-Hash header carries the input hash."""

    permission_classes = [IsAdminUser]
    content_negotiation_class = _IgnoreFormatParameter

    class InputSerializer(serializers.Serializer):
        what = serializers.ChoiceField(choices=exports.EXPORT_KINDS)
        format = serializers.ChoiceField(choices=exports.EXPORT_FORMATS, default="csv")

    @extend_schema(
        parameters=[
            InputSerializer,
            OpenApiParameter(
                "format",
                enum=list(exports.EXPORT_FORMATS),
                description="File format of the export.",
            ),
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, exports.CONTENT_TYPES["xlsx"]): OpenApiTypes.BINARY,
        },
    )
    def get(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        data = self.InputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        file = exports.campaign_export(
            campaign=campaign,
            what=data.validated_data["what"],
            fmt=data.validated_data["format"],
        )
        return export_response(file)


class CompareApi(APIView):
    """Release gate: is the candidate better than the incumbent by at least the margin?"""

    permission_classes = [IsAdminUser]

    @extend_schema_serializer(component_name="CompareInput")
    class InputSerializer(serializers.Serializer):
        candidate = serializers.CharField()
        incumbent = serializers.CharField()
        margin = serializers.FloatField(min_value=0.0, max_value=3.0, default=0.0)
        bootstrap = serializers.IntegerField(min_value=1, max_value=MAX_RESAMPLES, default=2000)
        confidence = serializers.FloatField(min_value=0.5, max_value=0.999, default=0.95)

    @extend_schema_serializer(component_name="CompareResult")
    class OutputSerializer(serializers.Serializer):
        candidate = serializers.CharField()
        incumbent = serializers.CharField()
        margin = serializers.FloatField()
        confidence = serializers.FloatField()
        n_boot = serializers.IntegerField()
        candidate_score = serializers.FloatField()
        incumbent_score = serializers.FloatField()
        difference = serializers.FloatField()
        ci_low = serializers.FloatField()
        ci_high = serializers.FloatField()
        p_value_two_sided = serializers.FloatField()
        p_value_one_sided = serializers.FloatField()
        beats_incumbent = serializers.BooleanField()
        verdict = serializers.ChoiceField(choices=["pass", "fail"])
        summary = serializers.CharField()
        task_differences = serializers.DictField(child=serializers.FloatField())
        input_hash = serializers.CharField()

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = selectors.campaign_comparison(
            campaign=campaign,
            candidate=data.validated_data["candidate"],
            incumbent=data.validated_data["incumbent"],
            margin=data.validated_data["margin"],
            n_boot=data.validated_data["bootstrap"],
            confidence=data.validated_data["confidence"],
        )
        return Response(self.OutputSerializer(_comparison_data(result)).data)


def _comparison_data(result: selectors.CampaignComparison) -> dict:
    comparison = result.comparison
    return {
        "candidate": comparison.candidate,
        "incumbent": comparison.incumbent,
        "margin": comparison.margin,
        "confidence": comparison.confidence,
        "n_boot": comparison.n_boot,
        "candidate_score": comparison.candidate_score,
        "incumbent_score": comparison.incumbent_score,
        "difference": comparison.difference,
        "ci_low": comparison.ci_low,
        "ci_high": comparison.ci_high,
        "p_value_two_sided": comparison.p_value_two_sided,
        "p_value_one_sided": comparison.p_value_one_sided,
        "beats_incumbent": comparison.beats_incumbent,
        "verdict": comparison.verdict,
        "summary": comparison.summary,
        "task_differences": comparison.task_differences,
        "input_hash": result.input_hash,
    }
