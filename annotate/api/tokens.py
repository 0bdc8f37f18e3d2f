"""Organizer API for script tokens: issue or rotate one user's token, revoke it."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate import services

User = get_user_model()


class ApiTokenIssueApi(APIView):
    """Create the user's token, or rotate it; the key is in this response only."""

    permission_classes = [IsAdminUser]

    @extend_schema_serializer(component_name="ApiTokenIssueInput")
    class InputSerializer(serializers.Serializer):
        username = serializers.CharField()

    @extend_schema_serializer(component_name="ApiTokenIssueOutput")
    class OutputSerializer(serializers.Serializer):
        username = serializers.CharField()
        key = serializers.CharField()
        created = serializers.DateTimeField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        username = data.validated_data["username"]
        try:
            user = User.objects.get(username=username, is_active=True)
        except User.DoesNotExist as exc:
            raise serializers.ValidationError(
                {"username": [_("no user %(user)r") % {"user": username}]}
            ) from exc
        key = services.api_token_issue(user=user, by=request.user)
        token = Token.objects.get(key=key)
        payload = {"username": user.username, "key": key, "created": token.created}
        response = Response(self.OutputSerializer(payload).data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response


class ApiTokenRevokeApi(APIView):
    """Delete the user's token; a script using it gets 401 from now on."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        request=None,
        responses={
            204: OpenApiResponse(description="Revoked, or there was no token."),
            404: OpenApiResponse(description="No such user."),
        },
    )
    def delete(self, request, username: str):
        user = get_object_or_404(User, username=username)
        services.api_token_revoke(user=user, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
