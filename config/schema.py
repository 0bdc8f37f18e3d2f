from __future__ import annotations

from drf_spectacular.openapi import AutoSchema


class NestedNameAutoSchema(AutoSchema):
    """Names nested serializers after their view: CampaignListApi.InputSerializer -> CampaignListInput.

    Every API view declares its own InputSerializer/OutputSerializer; without this, their
    schema components would collide.
    """

    def get_serializer_name(self, serializer, direction):
        name = super().get_serializer_name(serializer, direction)
        qualname = type(serializer).__qualname__
        if "." in qualname and not getattr(getattr(serializer, "Meta", None), "ref_name", None):
            owner = qualname.split(".")[-2].removesuffix("Api").removesuffix("View")
            return owner + name
        return name
