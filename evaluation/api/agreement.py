"""Organizer API of agreement: the report of a campaign (and a judge run), and its figures."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.models import Campaign
from evaluation import figures
from evaluation.models import JudgeRun
from evaluation.selectors import agreement as agreement_selectors

HUMANS_ONLY = "humans"
DATA_HASH_HEADER = "X-Refscore-Data-Hash"


class AgreementQuerySerializer(serializers.Serializer):
    run = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        help_text=(
            f"A completed judge run id of the campaign, {HUMANS_ONLY!r} for the humans alone; "
            "empty: the newest completed run, or the humans alone when there is none."
        ),
    )
    bootstrap = serializers.IntegerField(
        min_value=0,
        max_value=agreement_selectors.MAX_RESAMPLES,
        default=agreement_selectors.DEFAULT_RESAMPLES,
    )
    with_excluded = serializers.BooleanField(
        default=False, help_text="Put the excluded raters' ratings back in."
    )
    with_gold = serializers.BooleanField(
        default=False, help_text="Put the gold checks' ratings in (never scored for teams)."
    )

    def validate_run(self, value: str) -> str:
        value = value.strip()
        if value not in ("", HUMANS_ONLY) and not value.isdigit():
            raise serializers.ValidationError(
                _("a judge run id or %(humans)r") % {"humans": HUMANS_ONLY}
            )
        return value


def _report(request, campaign: Campaign) -> agreement_selectors.CampaignAgreement:
    query = AgreementQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    run_param = query.validated_data["run"]
    run: JudgeRun | None = (
        None
        if run_param == HUMANS_ONLY
        else agreement_selectors.judge_run_of(
            campaign=campaign, run_id=int(run_param) if run_param else None
        )
    )
    result = agreement_selectors.campaign_agreement(
        campaign=campaign,
        run=run,
        n_boot=query.validated_data["bootstrap"],
        with_excluded=query.validated_data["with_excluded"],
        with_gold=query.validated_data["with_gold"],
    )
    assert result is not None  # computed on demand
    return result


class AgreementReportApi(APIView):
    """Agreement of the human raters, and of a judge run with them, at clip, task and team level.

    ``report`` has the shape of ``manage.py agreement --output report.json``: flat dotted
    keys (``raters.*``, ``video.*``, ``team.*``, ``team_task.*``), each statistic an
    object ``{value, ci_low, ci_high, n}`` plus ``reason`` when it is undefined; then
    ``per_rater``, ``per_task``, ``teams``, ``rank_changes`` and ``largest_disagreements``.
    """

    permission_classes = [IsAdminUser]

    class InputSerializer(AgreementQuerySerializer):
        pass

    class OutputSerializer(serializers.Serializer):
        campaign = serializers.CharField()
        run = serializers.IntegerField(allow_null=True)
        judge = serializers.CharField(allow_null=True, help_text="name@version of the judge.")
        n_boot = serializers.IntegerField()
        seed = serializers.IntegerField()
        data_hash = serializers.CharField(
            help_text="sha256 of the ratings, verdicts and rated set."
        )
        figures = serializers.ListField(
            child=serializers.CharField(), help_text="Figures this report can draw."
        )
        report = serializers.DictField()
        with_excluded = serializers.BooleanField(help_text="Excluded raters were put back in.")
        with_gold = serializers.BooleanField(help_text="Gold checks were put in.")
        excluded_raters = serializers.ListField(
            child=serializers.CharField(), help_text="Raters excluded now, by pseudonym."
        )

    @extend_schema(parameters=[InputSerializer], responses=OutputSerializer)
    def get(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        result = _report(request, campaign)
        data = {
            "campaign": result.campaign_slug,
            "run": result.run_id,
            "judge": result.judge,
            "n_boot": result.n_boot,
            "seed": result.seed,
            "data_hash": result.data_hash,
            "figures": figures.available_figures(report=result.report),
            "report": result.report,
            "with_excluded": result.with_excluded,
            "with_gold": result.with_gold,
            "excluded_raters": list(result.excluded_raters),
        }
        response = Response(self.OutputSerializer(data).data)
        response[DATA_HASH_HEADER] = result.data_hash
        return response


class _AnyRenderer(DefaultContentNegotiation):
    """The figure's format comes from the path; an image Accept header must not be refused."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AgreementFigureApi(APIView):
    """One figure of the agreement report, as PNG or SVG."""

    permission_classes = [IsAdminUser]
    content_negotiation_class = _AnyRenderer

    class InputSerializer(AgreementQuerySerializer):
        pass

    @extend_schema(
        parameters=[
            InputSerializer,
            OpenApiParameter("name", str, OpenApiParameter.PATH, enum=list(figures.FIGURES)),
            OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=list(figures.FIGURE_FORMATS)),
        ],
        responses={
            (200, "image/png"): OpenApiTypes.BINARY,
            (200, "image/svg+xml"): OpenApiTypes.BINARY,
        },
    )
    def get(self, request, slug: str, name: str, fmt: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        result = _report(request, campaign)
        content = figures.agreement_figure(report=result.report, name=name, fmt=fmt)
        response = HttpResponse(
            content, content_type="image/png" if fmt == "png" else "image/svg+xml"
        )
        response[DATA_HASH_HEADER] = result.data_hash
        return response
