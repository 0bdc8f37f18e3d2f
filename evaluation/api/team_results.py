"""Team API of evaluation: the team's own results once published, and a check of one
pair of its own files against the baseline judge when the organizers allow it."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.access import own_team
from config.schema import ErrorDetailSerializer
from evaluation import services
from evaluation.api.judging import JudgeVerdictSerializer, refuse_oversized_pair, verdict_data
from evaluation.selectors import teams as results


class NotPublished(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The results of this campaign are not published yet."
    default_code = "not_published"


class TaskResultSerializer(serializers.Serializer):
    task = serializers.CharField()
    score = serializers.FloatField(help_text="S: mean over the rated set, missing counts 0")
    ci_low = serializers.FloatField()
    ci_high = serializers.FloatField()
    n3 = serializers.IntegerField()
    n2 = serializers.IntegerField()
    n1 = serializers.IntegerField()
    n0 = serializers.IntegerField()
    n_missing = serializers.IntegerField()
    n_total = serializers.IntegerField()
    reproduces_score = serializers.BooleanField()
    n_ratings = serializers.IntegerField()
    n_expected_ratings = serializers.IntegerField()


class StandingSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    team = serializers.CharField()
    final_score = serializers.FloatField()
    ci_low = serializers.FloatField()
    ci_high = serializers.FloatField()
    rank_probability = serializers.FloatField()
    n_ratings = serializers.IntegerField()
    n_total = serializers.IntegerField()
    coverage_percent = serializers.FloatField()
    tasks = TaskResultSerializer(many=True)


class BreakPointSerializer(serializers.Serializer):
    t = serializers.FloatField(help_text="Seconds on the generated clip's own timeline.")
    label = serializers.CharField(
        help_text="deformation, physics, object_vanished, wrong_motion, or empty."
    )


class ClipResultSerializer(serializers.Serializer):
    task = serializers.CharField()
    episode = serializers.CharField()
    submitted = serializers.BooleanField(help_text="false: not in the rated version, counts 0")
    clip_score = serializers.FloatField(allow_null=True)
    scores = serializers.ListField(child=serializers.IntegerField())
    comments = serializers.ListField(child=serializers.CharField())
    break_points = BreakPointSerializer(
        many=True,
        help_text="Where raters saw the clip break from the reference, every rater's marks "
        "by time, unsigned.",
    )


class TeamResultsSerializer(serializers.Serializer):
    campaign = serializers.CharField()
    team = serializers.CharField()
    n_teams = serializers.IntegerField()
    standing = StandingSerializer(allow_null=True)
    confidence = serializers.FloatField()
    clips = ClipResultSerializer(many=True)


class TeamResultsApi(APIView):
    """The caller's team's results: standing, per-task scores with N-counts and intervals,
    and each rated episode's clip score with the raters' comments and break-point marks
    (raters unnamed).
    409 until the campaign is published."""

    @extend_schema(responses={200: TeamResultsSerializer, 409: OpenApiTypes.OBJECT})
    def get(self, request, slug: str):
        campaign, team = own_team(request, slug)
        if not results.results_released(campaign=campaign):
            raise NotPublished
        found = results.team_results(campaign=campaign, team=team)
        return Response(TeamResultsSerializer(results.team_results_dict(results=found)).data)


class TeamJudgePairApi(APIView):
    """Check one pair of the team's own files (reference, generated) against the baseline
    judge before submitting; only where the organizers allow it (``teams_may_judge``).
    Nothing is stored."""

    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        reference = serializers.FileField()
        generated = serializers.FileField()

    @extend_schema(
        request=InputSerializer, responses={200: JudgeVerdictSerializer, 413: ErrorDetailSerializer}
    )
    def post(self, request, slug: str):
        campaign, _ = own_team(request, slug)
        if not campaign.teams_may_judge:
            raise PermissionDenied("The organizers do not offer the judge to teams here.")
        refuse_oversized_pair(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        judge_version = services.judge_version_for(name="baseline")
        verdict = services.judge_uploaded_pair(
            judge_version=judge_version,
            reference=data.validated_data["reference"],
            generated=data.validated_data["generated"],
        )
        return Response(
            JudgeVerdictSerializer(verdict_data(judge_version=judge_version, verdict=verdict)).data
        )
