"""The annotator's own API: queue, next clip, rating, revision, history. Blind by design.

Nothing here names a team, a submission, a file or an episode key: a clip is known by
its assignment id and the opaque URLs of its two videos.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate import services
from annotate.models import Assignment, Campaign, Rating
from annotate.rating_views import media_info
from annotate.selectors import rating_of


def _refused(exc: services.RatingRefused) -> ValidationError:
    return ValidationError({"detail": exc.messages})


class MediaSerializer(serializers.Serializer):
    video = serializers.CharField(help_text="Opaque URL of the video (H.264 MP4, Range requests).")
    poster = serializers.CharField(help_text="Opaque URL of a JPEG poster frame, or empty.")
    fps = serializers.FloatField()
    frame_count = serializers.IntegerField()
    duration_s = serializers.FloatField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class RatingOutputSerializer(serializers.ModelSerializer):
    assignment = serializers.IntegerField(source="assignment_id")
    task_number = serializers.IntegerField(source="clip.episode.task.number")

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


class MyQueueApi(APIView):
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
        return Response(self.OutputSerializer(queues, many=True).data)


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
            "task_title": assignment.clip.episode.task.title,
            "task_instruction": assignment.clip.episode.task.instruction,
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
        assignment = self._assignment(request, assignment_id)
        key = request.headers.get("Idempotency-Key")
        try:
            # A retry is answered from the stored rating, whatever its body says.
            rating = services.rating_replayed(
                assignment=assignment, user=request.user, idempotency_key=key
            ) or services.rating_submit(
                assignment=assignment,
                user=request.user,
                idempotency_key=key,
                **self._input(request),
            )
        except services.RatingRefused as exc:
            raise _refused(exc) from exc
        return Response(RatingOutputSerializer(rating).data, status=status.HTTP_201_CREATED)

    def _revise(self, request, assignment_id: int, *, partial: bool):
        assignment = self._assignment(request, assignment_id)
        values = self._input(request)
        rating = rating_of(assignment=assignment)
        answered = {"final_state", "clean", "motion"} & set(request.data)
        if partial and rating is not None and values["score"] is None and not answered:
            # PATCH without a score or an answer (a comment, say) keeps the judgement.
            values["score"] = rating.score
        try:
            rating = services.rating_revise(assignment=assignment, user=request.user, **values)
        except services.RatingRefused as exc:
            raise _refused(exc) from exc
        return Response(RatingOutputSerializer(rating).data)

    @extend_schema(request=InputSerializer, responses=RatingOutputSerializer)
    def put(self, request, assignment_id: int):
        return self._revise(request, assignment_id, partial=False)

    @extend_schema(request=InputSerializer, responses=RatingOutputSerializer)
    def patch(self, request, assignment_id: int):
        return self._revise(request, assignment_id, partial=True)


class MyRatingsApi(APIView):
    """The signed-in annotator's ratings, newest change first."""

    @extend_schema(responses=RatingOutputSerializer(many=True))
    def get(self, request):
        ratings = (
            Rating.objects.filter(annotator=request.user)
            .select_related("clip__episode__task")
            .order_by("-updated_at")
        )
        return Response(RatingOutputSerializer(ratings, many=True).data)
