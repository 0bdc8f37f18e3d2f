"""Organizer API of the automated judge: runs, their progress, cancel/resume, calibration,
the judge-based ranking, and one pair judged on demand."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.api.pagination import PagedListMixin
from annotate.models import Campaign
from config.schema import ErrorDetailSerializer
from evaluation import selectors, services
from evaluation.judges import JudgeVerdict
from evaluation.models import JudgeRun, JudgeVersion
from evaluation.scoring import MAX_RESAMPLES
from evaluation.selectors import judge as judge_selectors
from evaluation.services.judge_calibration import L2_MAX, L2_MIN
from evaluation.services.judge_runs import MAX_CHUNK_SIZE

DEFAULT_PAIR_UPLOAD_BYTES = 64 * 1024 * 1024
FORM_OVERHEAD_BYTES = 64 * 1024  # multipart boundaries and the small form fields


def pair_upload_limit() -> int:
    return int(getattr(settings, "JUDGE_PAIR_MAX_UPLOAD_BYTES", DEFAULT_PAIR_UPLOAD_BYTES))


class PairTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "pair_too_large"


def refuse_oversized_pair(request: Request) -> None:
    """Refuse a pair upload by its Content-Length, before the body is parsed, so that an
    oversized upload is never spooled to disk."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    allowed = 2 * pair_upload_limit() + FORM_OVERHEAD_BYTES
    if length > allowed:
        raise PairTooLarge(f"the request has {length} bytes; at most {allowed} are accepted")


class JudgeRunOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    campaign = serializers.CharField(source="campaign.slug")
    judge = serializers.CharField(source="judge.name")
    version = serializers.CharField(source="judge.version")
    status = serializers.CharField()
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    chunk_size = serializers.IntegerField()
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class JudgeRunListCreateApi(PagedListMixin, APIView):
    """List a campaign's judge runs, newest first (in pages), or launch one (queued on the
    ``judge`` workers)."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        judge = serializers.CharField(default="baseline", help_text="A name from settings.JUDGES.")
        version = serializers.CharField(
            required=False,
            allow_blank=True,
            default="",
            help_text="A stored version (e.g. a calibrated one); empty: as configured now.",
        )
        chunk_size = serializers.IntegerField(min_value=1, max_value=MAX_CHUNK_SIZE, default=8)

    @extend_schema(responses=JudgeRunOutputSerializer(many=True))
    def get(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        runs = judge_selectors.judge_runs(campaign=campaign).select_related("campaign")
        return self.paged(request, runs, JudgeRunOutputSerializer)

    @extend_schema(request=InputSerializer, responses={201: JudgeRunOutputSerializer})
    def post(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = services.judge_run_create(
            campaign=campaign,
            judge_version=services.judge_version_for(
                name=data.validated_data["judge"], version=data.validated_data["version"] or None
            ),
            chunk_size=data.validated_data["chunk_size"],
            user=request.user,
        )
        run.refresh_from_db()
        return Response(JudgeRunOutputSerializer(run).data, status=status.HTTP_201_CREATED)


def _run(run_id: int) -> JudgeRun:
    return get_object_or_404(JudgeRun.objects.select_related("judge", "campaign"), pk=run_id)


class JudgeRunProgressSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    judge = serializers.CharField(help_text="name@version")
    status = serializers.CharField()
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    failed = serializers.IntegerField(help_text="Clips the judge could not judge.")
    percent = serializers.FloatField()
    error = serializers.CharField()
    finished = serializers.BooleanField()
    started_at = serializers.CharField(allow_null=True)
    finished_at = serializers.CharField(allow_null=True)


class JudgeRunDetailApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(responses=JudgeRunProgressSerializer)
    def get(self, request, run_id: int):
        return Response(judge_selectors.judge_run_progress(run=_run(run_id)))


class JudgeRunCancelApi(APIView):
    """Stop a queued or running run; its chunks stand down before each chunk and between pairs."""

    permission_classes = [IsAdminUser]

    @extend_schema(request=None, responses=JudgeRunProgressSerializer)
    def post(self, request, run_id: int):
        run = services.judge_run_cancel(run=_run(run_id))
        return Response(judge_selectors.judge_run_progress(run=run))


class JudgeRunResumeApi(APIView):
    """Queue a cancelled or failed run again: only clips without a verdict are judged."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        chunk_size = serializers.IntegerField(
            min_value=1, max_value=MAX_CHUNK_SIZE, required=False, allow_null=True, default=None
        )

    @extend_schema(request=InputSerializer, responses=JudgeRunProgressSerializer)
    def post(self, request, run_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = services.judge_run_resume(
            run=_run(run_id), chunk_size=data.validated_data["chunk_size"]
        )
        return Response(judge_selectors.judge_run_progress(run=run))


class JudgeRunRankingApi(APIView):
    """Teams ranked by the run's verdicts (same scoring core as humans), beside the human ranks."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        n_boot = serializers.IntegerField(min_value=1, max_value=MAX_RESAMPLES, default=1000)

    class OutputSerializer(serializers.Serializer):
        class RowSerializer(serializers.Serializer):
            team = serializers.CharField()
            judge_rank = serializers.IntegerField()
            judge_score = serializers.FloatField()
            judge_ci_low = serializers.FloatField()
            judge_ci_high = serializers.FloatField()
            human_rank = serializers.IntegerField(allow_null=True)
            human_score = serializers.FloatField(allow_null=True)
            rank_shift = serializers.IntegerField(allow_null=True)

        run_id = serializers.IntegerField()
        rater = serializers.CharField()
        kendall_tau = serializers.FloatField(allow_null=True)
        n_judged = serializers.IntegerField()
        n_human_ratings = serializers.IntegerField()
        rows = RowSerializer(many=True)

    @extend_schema(parameters=[InputSerializer], responses=OutputSerializer)
    def get(self, request, run_id: int):
        data = self.InputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        result = selectors.judge_leaderboard(run=_run(run_id), n_boot=data.validated_data["n_boot"])
        return Response(self.OutputSerializer(result).data)


class AgreementSerializer(serializers.Serializer):
    exact = serializers.FloatField()
    within_one = serializers.FloatField()
    quadratic_kappa = serializers.FloatField()


class JudgeCalibrateApi(APIView):
    """Calibrate a judge on the campaign's human ratings; stores and returns a new version."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        judge = serializers.CharField(default="baseline")
        # The calibration checks the range (0..2**32-1): one place for page, API and command.
        seed = serializers.IntegerField(default=0, help_text="0 to 2**32 - 1.")
        l2 = serializers.FloatField(
            min_value=L2_MIN,
            max_value=L2_MAX,
            required=False,
            allow_null=True,
            default=None,
            help_text=f"Fixes the penalty strength, {L2_MIN:g} to {L2_MAX:g} (the range the "
            "cross-validation chooses from, as the page and the command take); absent or null: "
            "chosen by cross-validation over teams.",
        )

    class OutputSerializer(serializers.Serializer):
        judge = serializers.CharField(source="judge_version.name")
        version = serializers.CharField(source="judge_version.version")
        run_id = serializers.IntegerField(source="run.pk")
        l2 = serializers.FloatField(
            source="judge_version.metrics.l2", help_text="The penalty strength of the stored fit."
        )
        pairs = serializers.IntegerField()
        groups = serializers.IntegerField()
        folds = serializers.IntegerField()
        calibrated = AgreementSerializer(help_text="Held out by team.")
        uncalibrated = AgreementSerializer()
        majority = AgreementSerializer()
        improves = serializers.BooleanField(
            help_text="Calibrated beats uncalibrated held out (quadratic kappa)."
        )

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = services.judge_calibrate(
            campaign=campaign,
            judge_name=data.validated_data["judge"],
            seed=data.validated_data["seed"],
            l2=data.validated_data["l2"],
        )
        return Response(self.OutputSerializer(outcome).data, status=status.HTTP_201_CREATED)


class JudgeVerdictSerializer(serializers.Serializer):
    judge = serializers.CharField()
    score = serializers.IntegerField(allow_null=True)
    expected_score = serializers.FloatField(allow_null=True)
    final_state = serializers.FloatField(allow_null=True)
    clean = serializers.FloatField(allow_null=True)
    motion = serializers.FloatField(allow_null=True)
    confidence = serializers.FloatField(allow_null=True)
    features = serializers.DictField(child=serializers.FloatField())
    error = serializers.CharField(allow_null=True)


def verdict_data(*, judge_version: JudgeVersion, verdict: JudgeVerdict) -> dict:
    """What `JudgeVerdictSerializer` shows: the numbers of a failed verdict mean nothing."""
    ok = verdict.ok
    return {
        "judge": str(judge_version),
        "score": verdict.score if ok else None,
        "expected_score": verdict.expected_score if ok else None,
        "final_state": verdict.final_state if ok else None,
        "clean": verdict.clean if ok else None,
        "motion": verdict.motion if ok else None,
        "confidence": verdict.confidence if ok else None,
        "features": verdict.features if ok else {},
        "error": verdict.error,
    }


class JudgePairApi(APIView):
    """Judge one pair now: two uploaded files, or tokens of stored clips/media.

    ``generated_token`` alone, when it is a clip's token, is judged against its
    episode's reference. Uploads are bounded by ``JUDGE_PAIR_MAX_UPLOAD_BYTES``.
    """

    permission_classes = [IsAdminUser]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    class InputSerializer(serializers.Serializer):
        judge = serializers.CharField(default="baseline")
        version = serializers.CharField(required=False, allow_blank=True, default="")
        reference = serializers.FileField(required=False)
        generated = serializers.FileField(required=False)
        reference_token = serializers.UUIDField(required=False)
        generated_token = serializers.UUIDField(required=False)

        def validate(self, data):
            files = [data.get("reference"), data.get("generated")]
            tokens = [data.get("reference_token"), data.get("generated_token")]
            if any(files) and any(tokens):
                raise serializers.ValidationError(_("send either two files or tokens, not both"))
            if any(files):
                if not all(files):
                    raise serializers.ValidationError(
                        _("send both a reference and a generated file")
                    )
                limit = pair_upload_limit()
                for role, upload in zip(("reference", "generated"), files, strict=True):
                    if upload.size > limit:
                        raise serializers.ValidationError(
                            {
                                role: _("the file has %(size)s bytes; at most %(max)s are accepted")
                                % {"size": upload.size, "max": limit}
                            }
                        )
            elif not tokens[1]:
                raise serializers.ValidationError(
                    _("send two files (reference, generated) or a generated_token")
                )
            return data

    @extend_schema(
        request=InputSerializer, responses={200: JudgeVerdictSerializer, 413: ErrorDetailSerializer}
    )
    def post(self, request):
        refuse_oversized_pair(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        judge_version = services.judge_version_for(
            name=values["judge"], version=values["version"] or None
        )
        if values.get("reference"):
            verdict = services.judge_uploaded_pair(
                judge_version=judge_version,
                reference=values["reference"],
                generated=values["generated"],
            )
        else:
            verdict = services.judge_stored_pair(
                judge_version=judge_version,
                generated_token=values["generated_token"],
                reference_token=values.get("reference_token"),
            )
        return Response(
            JudgeVerdictSerializer(verdict_data(judge_version=judge_version, verdict=verdict)).data
        )
