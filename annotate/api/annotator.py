"""The annotator's own API: queue, next clip, rating, revision, history. Blind by design.

Nothing here names a team, a submission, a file or an episode key: a clip is known by
its assignment id and the opaque URLs of its two videos.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate import services
from annotate.api.pagination import PagedListMixin
from annotate.marks import MARK_LABELS, MAX_MARKS
from annotate.models import Assignment, Campaign, ProblemReport, Rating
from annotate.services.problems import TEXT_MAX_CHARS, problem_report
from annotate.views.rating import media_info


class MediaSerializer(serializers.Serializer):
    video = serializers.CharField(help_text="Opaque URL of the video (H.264 MP4, Range requests).")
    poster = serializers.CharField(help_text="Opaque URL of a JPEG poster frame, or empty.")
    fps = serializers.FloatField()
    frame_count = serializers.IntegerField()
    duration_s = serializers.FloatField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class MarkSerializer(serializers.Serializer):
    """A break point: where the generated clip departs from the reference."""

    t = serializers.FloatField(
        help_text="Seconds on the generated clip's own timeline, from 0 to its duration."
    )
    label = serializers.ChoiceField(
        choices=["", *MARK_LABELS],
        required=False,
        allow_blank=True,
        allow_null=True,
        default="",
        help_text="What breaks there; empty (or null): no label.",
    )


class RatingOutputSerializer(serializers.ModelSerializer):
    assignment = serializers.IntegerField(source="assignment_id")
    task_number = serializers.IntegerField(source="clip.episode.task.number")
    marks = MarkSerializer(many=True, read_only=True)

    class Meta:
        model = Rating
        fields = [
            "assignment",
            "task_number",
            "score",
            "final_state",
            "clean",
            "motion",
            "comment",
            "marks",
            "time_on_page_s",
            "watched_reference",
            "watched_generated",
            "revision",
            "created_at",
            "updated_at",
        ]


class TaskProgressSerializer(serializers.Serializer):
    task_number = serializers.IntegerField()
    task_title = serializers.CharField()
    task_instruction = serializers.CharField(help_text="What the robot should do.")
    done = serializers.IntegerField()
    total = serializers.IntegerField()


class MyQueueApi(PagedListMixin, APIView):
    """The signed-in annotator's progress per campaign and task."""

    class OutputSerializer(serializers.Serializer):
        slug = serializers.CharField()
        name = serializers.CharField()
        state = serializers.ChoiceField(choices=Campaign.State.choices)
        accepts_ratings = serializers.BooleanField(help_text="Open: ratings are given and revised.")
        has_open_work = serializers.BooleanField()
        done = serializers.IntegerField()
        total = serializers.IntegerField()
        tasks = TaskProgressSerializer(many=True)

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        queues = services.annotator_queue(user=request.user)
        return self.paged(request, queues, self.OutputSerializer)


class AssignmentNextApi(APIView):
    """Resume the clip in progress or take the next one in the annotator's order."""

    class InputSerializer(serializers.Serializer):
        campaign = serializers.SlugField(required=False, help_text="Limit to one campaign.")

    class OutputSerializer(serializers.Serializer):
        assignment = serializers.IntegerField()
        campaign = serializers.CharField()
        task_number = serializers.IntegerField()
        task_title = serializers.CharField()
        task_instruction = serializers.CharField(help_text="What the robot should do.")
        position = serializers.IntegerField(help_text="Place of this clip in its task's queue.")
        total = serializers.IntegerField(help_text="Clips of this task in the queue.")
        require_full_watch = serializers.BooleanField()
        full_watch_min = serializers.FloatField()
        reference = MediaSerializer()
        generated = MediaSerializer()

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            204: OpenApiResponse(description="Nothing left."),
            404: OpenApiResponse(description="No such campaign."),
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        slug = data.validated_data.get("campaign")
        campaign = get_object_or_404(Campaign, slug=slug) if slug else None
        assignment = services.assignment_next(user=request.user, campaign=campaign)
        if assignment is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        position = services.assignment_position(assignment=assignment)
        payload = {
            "assignment": assignment.pk,
            "campaign": assignment.campaign.slug,
            "task_number": position.task_number,
            # In the caller's language (Accept-Language), the other one where it is empty.
            "task_title": assignment.clip.episode.task.localized_title,
            "task_instruction": assignment.clip.episode.task.localized_instruction,
            "position": position.position,
            "total": position.total,
            "require_full_watch": assignment.campaign.require_full_watch,
            "full_watch_min": services.FULL_WATCH_MIN,
            "reference": media_info(assignment.clip.episode.reference),
            "generated": media_info(assignment.clip.asset),
        }
        return Response(self.OutputSerializer(payload).data)


class AssignmentRatingApi(APIView):
    """POST gives the first rating of a clip; PUT or PATCH revises it (every version is kept)."""

    class InputSerializer(serializers.Serializer):
        score = serializers.IntegerField(min_value=0, max_value=3, required=False, allow_null=True)
        final_state = serializers.BooleanField(required=False, allow_null=True, default=None)
        clean = serializers.BooleanField(required=False, allow_null=True, default=None)
        motion = serializers.BooleanField(required=False, allow_null=True, default=None)
        comment = serializers.CharField(required=False, allow_blank=True, max_length=5000)
        marks = serializers.ListField(
            child=MarkSerializer(),
            required=False,
            allow_null=True,
            max_length=MAX_MARKS,
            help_text=f"Break points, at most {MAX_MARKS}, one per moment. Left out (or null) "
            "on a revision: the rating keeps its marks; [] removes them.",
        )
        time_on_page_s = serializers.FloatField(required=False, min_value=0, default=0)
        watched_reference = serializers.FloatField(
            required=False, min_value=0, max_value=1, default=0
        )
        watched_generated = serializers.FloatField(
            required=False, min_value=0, max_value=1, default=0
        )

    def _assignment(self, request, assignment_id: int) -> Assignment:
        # Another annotator's assignment is a 404: its existence is not confirmed.
        return get_object_or_404(
            Assignment.objects.select_related("campaign"),
            pk=assignment_id,
            annotator=request.user,
        )

    def _input(self, request) -> dict:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values.setdefault("score", None)
        return values

    def _save(self, request, assignment_id: int, *, revise: bool, keep_judgement: bool = False):
        assignment = self._assignment(request, assignment_id)
        key = None if revise else request.headers.get("Idempotency-Key")
        # A retry is answered from the stored rating, whatever its body says (even one
        # that would not validate); a refusal propagates to the API's exception handler.
        rating = services.rating_replayed(
            assignment=assignment, user=request.user, idempotency_key=key
        )
        if rating is None:
            rating = services.rating_save(
                assignment=assignment,
                user=request.user,
                idempotency_key=key,
                revise=revise,
                keep_judgement=keep_judgement,
                **self._input(request),
            ).rating
        answer = status.HTTP_200_OK if revise else status.HTTP_201_CREATED
        return Response(RatingOutputSerializer(rating).data, status=answer)

    @extend_schema(
        request=InputSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="A fresh key per rating (a UUID, say). A retry with the same key "
                "returns the rating that the first request stored, and stores nothing more.",
            )
        ],
        responses={201: RatingOutputSerializer},
    )
    def post(self, request, assignment_id: int):
        return self._save(request, assignment_id, revise=False)

    @extend_schema(request=InputSerializer, responses=RatingOutputSerializer)
    def put(self, request, assignment_id: int):
        return self._save(request, assignment_id, revise=True)

    @extend_schema(request=InputSerializer, responses=RatingOutputSerializer)
    def patch(self, request, assignment_id: int):
        # Without a score or an answer (a comment, say), a PATCH keeps the judgement.
        return self._save(request, assignment_id, revise=True, keep_judgement=True)


class MyRatingsApi(PagedListMixin, APIView):
    """The signed-in annotator's ratings, newest change first."""

    @extend_schema(responses=RatingOutputSerializer(many=True))
    def get(self, request):
        ratings = (
            Rating.objects.filter(annotator=request.user)
            .select_related("clip__episode__task")
            .order_by("-updated_at", "-pk")
        )
        return self.paged(request, ratings, RatingOutputSerializer)


class ProblemReportOutputSerializer(serializers.ModelSerializer):
    assignment = serializers.IntegerField(source="assignment_id")
    # Plain text, not an enum: "status" names other choice sets in the schema already.
    status = serializers.CharField(
        help_text="open: with the organizer; fixed: handed out again; excluded: left out."
    )

    class Meta:
        model = ProblemReport
        fields = ["id", "assignment", "reason", "text", "status", "created_at"]


class AssignmentProblemApi(APIView):
    """Report a clip's pair as broken instead of rating it: it leaves the queue and goes to
    the organizer. Sending the same report again returns the one stored."""

    class InputSerializer(serializers.Serializer):
        reason = serializers.ChoiceField(choices=ProblemReport.Reason.choices)
        text = serializers.CharField(
            required=False,
            allow_blank=True,
            default="",
            max_length=TEXT_MAX_CHARS,
            help_text='What is wrong, in a few words; needed when the reason is "other".',
        )

    @extend_schema(
        request=InputSerializer,
        responses={
            201: ProblemReportOutputSerializer,
            400: OpenApiResponse(description="Refused: the reason is in the body."),
            404: OpenApiResponse(description="Not one of the caller's clips."),
        },
    )
    def post(self, request, assignment_id: int):
        assignment = get_object_or_404(
            Assignment.objects.select_related("campaign"),
            pk=assignment_id,
            annotator=request.user,
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = problem_report(assignment=assignment, user=request.user, **data.validated_data)
        return Response(ProblemReportOutputSerializer(report).data, status=status.HTTP_201_CREATED)
