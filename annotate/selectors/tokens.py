"""Reads for the API token page: who holds a token, and since when (never the key)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model

User = get_user_model()


@dataclass(frozen=True)
class TokenHolder:
    username: str
    is_staff: bool
    has_token: bool
    created: datetime | None


def api_token_holders() -> list[TokenHolder]:
    """Every active user, organizers first, with whether they hold a token."""
    users = (
        User.objects.filter(is_active=True)
        .select_related("auth_token")
        .order_by("-is_staff", "username")
    )
    holders = []
    for user in users:
        token = getattr(user, "auth_token", None)
        holders.append(
            TokenHolder(
                username=user.username,
                is_staff=user.is_staff,
                has_token=token is not None,
                created=token.created if token is not None else None,
            )
        )
    return holders
