from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import _PATH_PARAMETER_COMPONENT_RE
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorDetailSerializer(serializers.Serializer):
    """DRF's body for 401, 403 and 404 (and for refusals raised with a single ``detail``)."""

    detail = serializers.CharField()


_DETAIL = OpenApiResponse(ErrorDetailSerializer)
# A 400 maps field names (or "detail", "non_field_errors") to messages: a free-form object.
_VALIDATION = OpenApiResponse(OpenApiTypes.OBJECT, description="Invalid input, per field.")
_WRITES = {"POST", "PUT", "PATCH"}
# What Django's path converters accept: a value outside it never reaches the view (an HTML
# 404 from the resolver), so the schema must not promise it.
_CONVERTER_SCHEMAS = {
    "slug": ("string", {"pattern": r"^[-a-zA-Z0-9_]+$"}),
    "str": ("string", {"pattern": r"^[^/]+$"}),
    "int": ("integer", {"minimum": 0}),
}


class NestedNameAutoSchema(AutoSchema):
    """Names nested serializers after their view, and declares the errors every view can give.

    Naming: CampaignListApi.InputSerializer -> CampaignListInput. Every API view declares
    its own InputSerializer/OutputSerializer; without this, their schema components would
    collide.

    Path parameters: narrowed to what their converter accepts.

    Errors: a client must find every status the server sends in the schema (schemathesis
    checks it), so 401/403 for authenticated views, 404 where a path names an object, 400
    where input is validated and 415 where a body is parsed are added unless the view declared them itself.
    """

    def get_serializer_name(self, serializer, direction):
        name = super().get_serializer_name(serializer, direction)
        qualname = type(serializer).__qualname__
        if "." in qualname and not getattr(getattr(serializer, "Meta", None), "ref_name", None):
            owner = qualname.split(".")[-2].removesuffix("Api").removesuffix("View")
            return owner + name
        return name

    def _resolve_path_parameters(self, variables):
        parameters = super()._resolve_path_parameters(variables)
        converters = {
            match.group("parameter"): match.group("converter")
            for match in _PATH_PARAMETER_COMPONENT_RE.finditer(self.path_regex)
        }
        for parameter in parameters:
            kind, narrowing = _CONVERTER_SCHEMAS.get(converters.get(parameter["name"]), (None, {}))
            schema = parameter["schema"]
            if schema.get("type") == kind and "enum" not in schema:
                schema.update(narrowing)
        return parameters

    def _error_responses(self) -> dict:
        errors = {}
        if self.method in _WRITES or self.get_override_parameters():
            errors["400"] = _VALIDATION
        if self.method in _WRITES:
            # DRF's parsers refuse a body they cannot read as its declared media type.
            errors["415"] = _DETAIL
        if any(p is not AllowAny for p in getattr(self.view, "permission_classes", [])):
            errors["401"] = _DETAIL
            errors["403"] = _DETAIL
        if "{" in self.path:
            errors["404"] = _DETAIL
        return errors

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, response in self._error_responses().items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, None, direction)
        return responses
