"""Quality control API: examples, pass mark, gold rate, qualifications, gold accuracy
(organizers), and the practice round (annotators).

The annotator's side names no team and no gold: a practice pair is known by its step and
the opaque URLs of its two videos, as on the practice page. A service's refusal is a
``ValidationError``, answered 400 by config/api_errors.py.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.api.annotator import MediaSerializer
from annotate.api.fields import NoticeCodeField, NoticeField
from annotate.models import Campaign, PracticePassMode, QualityExample
from annotate.selectors import quality as selectors
from annotate.services import quality as services
from annotate.views.rating import media_info

User = get_user_model()


def _campaign(slug: str) -> Campaign:
    return get_object_or_404(Campaign, slug=slug)


# --- organizers ---------------------------------------------------------------------------


class QualitySettingsSerializer(serializers.Serializer):
    practice_pass_count = serializers.IntegerField(
        min_value=0,
        max_value=services.PASS_COUNT_MAX,
        required=False,
        help_text="Right practice answers needed to pass; 0: all of them.",
    )
    practice_pass_mode = serializers.ChoiceField(
        choices=PracticePassMode.choices,
        required=False,
        help_text="exact: the expected score; within_one: one point off at most.",
    )
    gold_every = serializers.IntegerField(
        min_value=0,
        max_value=services.GOLD_EVERY_MAX,
        required=False,
        help_text="One gold clip per this many clips of real work in each queue; 0: none.",
    )


class QualitySettingsApi(APIView):
    """GET the pass mark and the gold rate; PUT changes the fields given."""

    permission_classes = [IsAdminUser]

    @extend_schema(responses=QualitySettingsSerializer)
    def get(self, request, slug: str):
        return Response(QualitySettingsSerializer(_campaign(slug)).data)

    @extend_schema(request=QualitySettingsSerializer, responses=QualitySettingsSerializer)
    def put(self, request, slug: str):
        data = QualitySettingsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        campaign = services.quality_settings_update(campaign=_campaign(slug), **data.validated_data)
        return Response(QualitySettingsSerializer(campaign).data)


class QualityExampleSerializer(serializers.Serializer):
    clip = serializers.IntegerField(source="example.clip_id")
    kind = serializers.CharField(source="example.kind")
    score = serializers.IntegerField(source="example.score")
    explanation = serializers.CharField(source="example.explanation")
    task = serializers.CharField(source="example.clip.episode.task.key")
    episode = serializers.CharField(source="example.clip.episode.key")
    team = serializers.CharField(source="example.clip.submission.team.name")
    version = serializers.IntegerField(source="example.clip.submission.version")
    answers = serializers.IntegerField(help_text="Practice answers given to it.")
    answers_right = serializers.IntegerField(help_text="Of which exactly right.")
    gold_rows = serializers.IntegerField(help_text="Queues it sits in as gold.")
    gold_ratings = serializers.IntegerField(help_text="Gold ratings given to it.")
    reported = serializers.CharField(
        allow_null=True,
        help_text="A gold clip reported as broken: open (the report waits) or excluded; "
        "no queue receives it then. Null otherwise.",
    )


class QualityExamplesApi(APIView):
    """GET the practice and gold examples; POST marks a clip (or changes its marking)."""

    permission_classes = [IsAdminUser]

    @extend_schema_serializer(component_name="QualityExampleMarkInput")
    class InputSerializer(serializers.Serializer):
        clip = serializers.IntegerField(help_text="The clip's id (clip browser, exports).")
        kind = serializers.ChoiceField(choices=QualityExample.Kind.choices)
        score = serializers.IntegerField(min_value=0, max_value=3, help_text="The true score.")
        explanation = serializers.CharField(
            required=False,
            allow_blank=True,
            default="",
            max_length=services.EXPLANATION_MAX,
            help_text="Shown after a practice answer; needed for practice.",
        )

    @extend_schema(responses=QualityExampleSerializer(many=True))
    def get(self, request, slug: str):
        rows = selectors.examples_overview(campaign=_campaign(slug))
        return Response(QualityExampleSerializer(rows, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: QualityExampleSerializer})
    def post(self, request, slug: str):
        campaign = _campaign(slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        example = services.quality_example_mark(
            campaign=campaign,
            clip_id=values["clip"],
            kind=values["kind"],
            score=values["score"],
            explanation=values["explanation"],
            by=request.user,
        )
        row = next(
            row
            for row in selectors.examples_overview(campaign=campaign)
            if row.example.pk == example.pk
        )
        return Response(QualityExampleSerializer(row).data, status=status.HTTP_201_CREATED)


class QualityExampleApi(APIView):
    """DELETE: the clip is an example no more (unopened gold rows of it are taken back)."""

    permission_classes = [IsAdminUser]

    class OutputSerializer(serializers.Serializer):
        gold_rows_removed = serializers.IntegerField()

    @extend_schema(
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(
                description="Refused (not an example): the reason is in the body."
            ),
        }
    )
    def delete(self, request, slug: str, clip_id: int):
        removed = services.quality_example_unmark(campaign=_campaign(slug), clip_id=clip_id)
        return Response({"gold_rows_removed": removed})


class QualityExamplesImportApi(APIView):
    """Mark examples from a CSV, all or nothing; a bad row names its line and column."""

    permission_classes = [IsAdminUser]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(help_text=f"CSV with {services.EXAMPLES_CSV_HELP}.")

    class OutputSerializer(serializers.Serializer):
        created = serializers.ListField(child=serializers.IntegerField(), help_text="Clip ids.")
        updated = serializers.ListField(child=serializers.IntegerField(), help_text="Clip ids.")

    @extend_schema(request={"multipart/form-data": InputSerializer}, responses=OutputSerializer)
    def post(self, request, slug: str):
        campaign = _campaign(slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.examples_import(
            campaign=campaign, data=data.validated_data["file"].read(), by=request.user
        )
        return Response(self.OutputSerializer(result).data)


class PracticeAnswerSerializer(serializers.Serializer):
    step = serializers.IntegerField()
    score = serializers.IntegerField(help_text="The answer given.")
    true_score = serializers.IntegerField(help_text="The example's score, as shown then.")
    explanation = serializers.CharField()
    answered_at = serializers.DateTimeField()


class AttemptSerializer(serializers.Serializer):
    started_at = serializers.DateTimeField(source="attempt.started_at")
    finished_at = serializers.DateTimeField(source="attempt.finished_at", allow_null=True)
    passed = serializers.BooleanField(source="attempt.passed", allow_null=True)
    reset_at = serializers.DateTimeField(
        source="attempt.reset_at", allow_null=True, help_text="When a retry was allowed."
    )
    pass_count = serializers.IntegerField(source="score.needed")
    pass_mode = serializers.CharField(source="attempt.pass_mode")
    right = serializers.IntegerField(source="score.right")
    answers = PracticeAnswerSerializer(many=True)


class QualificationSerializer(serializers.Serializer):
    username = serializers.CharField()
    status = serializers.ChoiceField(choices=selectors.QUALIFICATION_STATUSES)
    on_roster = serializers.BooleanField()
    attempts = AttemptSerializer(many=True, help_text="Newest first; reset ones included.")


class QualificationsApi(APIView):
    """Who passed the practice round, when, with which answers; every attempt is kept."""

    permission_classes = [IsAdminUser]

    @extend_schema(responses=QualificationSerializer(many=True))
    def get(self, request, slug: str):
        rows = selectors.qualification_overview(campaign=_campaign(slug))
        return Response(QualificationSerializer(rows, many=True).data)


class QualificationResetApi(APIView):
    """Allow a retry: the current attempt is closed (and kept); the practice round starts over."""

    permission_classes = [IsAdminUser]

    @extend_schema(request=None, responses=AttemptSerializer)
    def post(self, request, slug: str, username: str):
        campaign = _campaign(slug)
        user = get_object_or_404(User, username=username)
        attempt = services.qualification_reset(campaign=campaign, user=user, by=request.user)
        answers = list(attempt.answers.all())
        record = selectors.AttemptRecord(
            attempt, answers, selectors.practice_score(attempt=attempt, answers=answers)
        )
        return Response(AttemptSerializer(record).data)


class GoldApplyApi(APIView):
    """Bring every queue to its share of gold clips now (applying the plan does it too)."""

    permission_classes = [IsAdminUser]

    class OutputSerializer(serializers.Serializer):
        added = serializers.IntegerField()
        removed = serializers.IntegerField()
        warnings = serializers.ListField(child=NoticeField())
        warning_codes = serializers.ListField(child=NoticeCodeField(), source="warnings")

    @extend_schema(request=None, responses=OutputSerializer)
    def post(self, request, slug: str):
        result = services.gold_plan_apply(campaign=_campaign(slug))
        return Response(self.OutputSerializer(result).data)


class GoldAccuracyApi(APIView):
    """Per annotator: gold clips rated in their queue, exactly right, and within one point."""

    permission_classes = [IsAdminUser]

    class OutputSerializer(serializers.Serializer):
        username = serializers.CharField()
        n = serializers.IntegerField()
        exact = serializers.IntegerField()
        within_one = serializers.IntegerField()
        exact_share = serializers.FloatField(allow_null=True)
        within_one_share = serializers.FloatField(allow_null=True)

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request, slug: str):
        accuracy = selectors.gold_accuracy(campaign=_campaign(slug))
        names = dict(User.objects.filter(pk__in=accuracy).values_list("pk", "username"))
        rows = [
            {
                "username": names[user_id],
                "n": row.n,
                "exact": row.exact,
                "within_one": row.within_one,
                "exact_share": row.exact_share,
                "within_one_share": row.within_one_share,
            }
            for user_id, row in sorted(accuracy.items(), key=lambda item: names[item[0]])
        ]
        return Response(self.OutputSerializer(rows, many=True).data)


# --- annotators ---------------------------------------------------------------------------


class PracticeFeedbackSerializer(serializers.Serializer):
    step = serializers.IntegerField()
    total = serializers.IntegerField()
    score = serializers.IntegerField(help_text="Your answer.")
    true_score = serializers.IntegerField(help_text="The score the example deserves.")
    explanation = serializers.CharField(help_text="Why.")
    right = serializers.BooleanField(help_text="By the campaign's pass mode.")
    finished = serializers.BooleanField()
    passed = serializers.BooleanField(allow_null=True, help_text="Empty until finished.")
    right_so_far = serializers.IntegerField()
    needed = serializers.IntegerField(help_text="Right answers needed to pass.")


class PracticeStepSerializer(serializers.Serializer):
    step = serializers.IntegerField()
    total = serializers.IntegerField()
    task_number = serializers.IntegerField()
    task_title = serializers.CharField()
    task_instruction = serializers.CharField()
    reference = MediaSerializer()
    generated = MediaSerializer()


class PracticeStatusSerializer(serializers.Serializer):
    campaign = serializers.CharField()
    status = serializers.ChoiceField(choices=selectors.QUALIFICATION_STATUSES)
    examples = serializers.IntegerField(help_text="Practice pairs in the round.")
    pass_count = serializers.IntegerField(help_text="Right answers needed to pass.")
    pass_mode = serializers.CharField()
    right = serializers.IntegerField(allow_null=True)
    current = PracticeStepSerializer(allow_null=True, help_text="The pair to answer now.")
    answers = PracticeAnswerSerializer(many=True)


def _practice_campaign(request, slug: str) -> Campaign:
    campaign = _campaign(slug)
    if not selectors.takes_part(campaign=campaign, user=request.user):
        raise Http404("No practice round of yours here.")
    return campaign


def _practice_status(campaign: Campaign, user) -> dict:
    qualification = selectors.qualification_of(campaign=campaign, user=user)
    attempt = qualification.attempt
    n_examples = selectors.practice_examples(campaign=campaign).count()
    current = None
    answers: list = []
    if attempt is not None:
        steps = selectors.attempt_steps(attempt=attempt)
        answers = [step.answer for step in steps if step.answer is not None]
        following = selectors.next_step(steps=steps)
        if following is not None and following.example is not None:
            clip = following.example.clip
            task = clip.episode.task
            current = {
                "step": following.step,
                "total": following.total,
                "task_number": task.number,
                "task_title": task.title,
                "task_instruction": task.instruction,
                "reference": media_info(clip.episode.reference),
                "generated": media_info(clip.asset),
            }
    return {
        "campaign": campaign.slug,
        "status": qualification.status.value,
        "examples": len(attempt.examples) if attempt is not None else n_examples,
        "pass_count": qualification.score.needed
        if qualification.score is not None
        else min(campaign.practice_pass_count or n_examples, n_examples),
        "pass_mode": attempt.pass_mode if attempt is not None else campaign.practice_pass_mode,
        "right": qualification.score.right if qualification.score is not None else None,
        "current": current,
        "answers": answers,
    }


class PracticeApi(APIView):
    """Where the signed-in annotator stands with the campaign's practice round, and the
    pair to answer now (its videos' opaque URLs)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={
            200: PracticeStatusSerializer,
            404: OpenApiResponse(description="No such campaign, or not one you rate in."),
        }
    )
    def get(self, request, slug: str):
        campaign = _practice_campaign(request, slug)
        return Response(PracticeStatusSerializer(_practice_status(campaign, request.user)).data)


class PracticeStartApi(APIView):
    """Begin the practice round (the current attempt, if any, carries on)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={201: PracticeStatusSerializer})
    def post(self, request, slug: str):
        campaign = _practice_campaign(request, slug)
        services.practice_start(campaign=campaign, user=request.user)
        return Response(
            PracticeStatusSerializer(_practice_status(campaign, request.user)).data,
            status=status.HTTP_201_CREATED,
        )


class PracticeAnswerApi(APIView):
    """Answer the current practice pair; the answer comes back with its true score and why."""

    permission_classes = [IsAuthenticated]

    @extend_schema_serializer(component_name="PracticeAnswerInput")
    class InputSerializer(serializers.Serializer):
        step = serializers.IntegerField(min_value=1, help_text="The pair's step, from 1.")
        score = serializers.IntegerField(min_value=0, max_value=3)

    @extend_schema(request=InputSerializer, responses={201: PracticeFeedbackSerializer})
    def post(self, request, slug: str):
        campaign = _practice_campaign(request, slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        feedback = services.practice_answer(
            campaign=campaign,
            user=request.user,
            step=data.validated_data["step"],
            score=data.validated_data["score"],
        )
        return Response(PracticeFeedbackSerializer(feedback).data, status=status.HTTP_201_CREATED)
