"""Organizer API for people: list, invite, import a CSV, reset, (de)activate, set a team.

A campaign's annotators are added and removed through `campaigns/<slug>/annotators/`.
An organizer acting on an administrator's account gets 403 (Django's PermissionDenied,
which DRF answers as such).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate import services
from annotate.api.pagination import PagedListMixin
from annotate.forms import MAX_CSV_BYTES
from annotate.models import Campaign
from annotate.selectors import people as people_selectors
from annotate.services.people import ROLES

User = get_user_model()

REFUSED = OpenApiResponse(OpenApiTypes.OBJECT, description="Refused: {'detail': why}.")


class InvitationLinkSerializer(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.CharField()
    kind = serializers.CharField()
    url = serializers.CharField()
    expires_at = serializers.DateTimeField()
    emailed = serializers.BooleanField()


class PersonSerializer(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    team = serializers.CharField()
    is_active = serializers.BooleanField()
    last_login = serializers.DateTimeField(allow_null=True)
    invitation = serializers.ChoiceField(choices=["none", "pending", "expired", "used"])
    invitation_expires_at = serializers.DateTimeField(allow_null=True)


def _no_store(response: Response) -> Response:
    response["Cache-Control"] = "no-store"  # it carries a link that sets a password
    return response


class PeopleApi(PagedListMixin, APIView):
    """Everyone with their roles in the campaign; POST invites one new person."""

    permission_classes = [IsAdminUser]

    @extend_schema_serializer(component_name="PersonInviteInput")
    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        email = serializers.EmailField(required=False, allow_blank=True, default="")
        role = serializers.ChoiceField(choices=ROLES)
        team = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)

    @extend_schema(responses=PersonSerializer(many=True))
    def get(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        people = people_selectors.campaign_people(campaign=campaign)
        return self.paged(request, people, PersonSerializer)

    @extend_schema(
        request=InputSerializer,
        responses={201: InvitationLinkSerializer, 400: OpenApiResponse(OpenApiTypes.OBJECT)},
    )
    def post(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            link = services.person_invite(
                campaign=campaign,
                by=request.user,
                base_url=request.build_absolute_uri("/"),
                **data.validated_data,
            )
        except services.PeopleError as exc:
            raise serializers.ValidationError(
                {p.column or "detail": [p.message] for p in exc.problems}
            ) from exc
        data = InvitationLinkSerializer(link).data
        return _no_store(Response(data, status=status.HTTP_201_CREATED))


class PeopleImportApi(APIView):
    """Import a CSV `username,email,role,team` in one transaction; `dry_run` writes nothing."""

    permission_classes = [IsAdminUser]
    parser_classes = [MultiPartParser]

    @extend_schema_serializer(component_name="PeopleImportInput")
    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()
        dry_run = serializers.BooleanField(default=False)

        def validate_file(self, upload) -> str:
            if upload.size > MAX_CSV_BYTES:
                raise serializers.ValidationError(
                    _("larger than %(limit)s KiB") % {"limit": MAX_CSV_BYTES // 1024}
                )
            try:
                return upload.read().decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise serializers.ValidationError(
                    _("not UTF-8 text (byte %(byte)s)") % {"byte": exc.start}
                ) from exc

    @extend_schema_serializer(component_name="PeopleImportOutput")
    class OutputSerializer(serializers.Serializer):
        @extend_schema_serializer(component_name="PersonImported")
        class PersonSerializer(serializers.Serializer):
            line = serializers.IntegerField()
            username = serializers.CharField()
            email = serializers.CharField()
            role = serializers.CharField()
            team = serializers.CharField()
            created = serializers.BooleanField()
            link = InvitationLinkSerializer(allow_null=True)

        people = PersonSerializer(many=True)
        teams_created = serializers.ListField(child=serializers.CharField())
        dry_run = serializers.BooleanField()

    @extend_schema_serializer(component_name="PeopleImportProblems")
    class ProblemsSerializer(serializers.Serializer):
        @extend_schema_serializer(component_name="PeopleImportProblem")
        class ProblemSerializer(serializers.Serializer):
            line = serializers.IntegerField(allow_null=True)
            column = serializers.CharField()
            message = serializers.CharField()

        errors = ProblemSerializer(many=True)

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Problems in the file as {'errors': [{line, column, message}]} "
                "(nothing was written), or invalid fields as {field: [message]}.",
            ),
        },
    )
    def post(self, request, slug: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            result = services.people_import(
                campaign=campaign,
                csv_text=data.validated_data["file"],
                dry_run=data.validated_data["dry_run"],
                by=request.user,
                base_url=request.build_absolute_uri("/"),
            )
        except services.PeopleError as exc:
            body = self.ProblemsSerializer({"errors": exc.problems}).data
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return _no_store(Response(self.OutputSerializer(result).data))


class PersonPasswordResetApi(APIView):
    """Void the person's password and earlier links; the new link is in this response only."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        request=None,
        responses={201: InvitationLinkSerializer, 400: REFUSED},
    )
    def post(self, request, username: str):
        user = get_object_or_404(User, username=username)
        link = services.person_password_reset(
            user=user, by=request.user, base_url=request.build_absolute_uri("/")
        )
        data = InvitationLinkSerializer(link).data
        return _no_store(Response(data, status=status.HTTP_201_CREATED))


class PersonActiveApi(APIView):
    """Deactivate (sessions, API token and links stop working) or reactivate an account."""

    permission_classes = [IsAdminUser]

    @extend_schema_serializer(component_name="PersonActiveInput")
    class InputSerializer(serializers.Serializer):
        is_active = serializers.BooleanField()

    @extend_schema(
        request=InputSerializer,
        responses={204: None, 400: REFUSED},
    )
    def put(self, request, username: str):
        user = get_object_or_404(User, username=username)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = (
            services.person_reactivate
            if data.validated_data["is_active"]
            else services.person_deactivate
        )
        change(user=user, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PersonTeamApi(APIView):
    """Make the person a member of that team of the campaign only ('' for none)."""

    permission_classes = [IsAdminUser]

    @extend_schema_serializer(component_name="PersonTeamInput")
    class InputSerializer(serializers.Serializer):
        team = serializers.CharField(allow_blank=True, max_length=100)

    @extend_schema_serializer(component_name="PersonTeamOutput")
    class OutputSerializer(serializers.Serializer):
        team = serializers.CharField()
        team_created = serializers.BooleanField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer, 400: REFUSED})
    def put(self, request, slug: str, username: str):
        campaign = get_object_or_404(Campaign, slug=slug)
        user = get_object_or_404(User, username=username)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        team = data.validated_data["team"].strip()
        created = services.person_team_set(campaign=campaign, user=user, team=team, by=request.user)
        return Response(self.OutputSerializer({"team": team, "team_created": created}).data)
