"""API tokens for scripts, beside sessions: organizers issue, rotate and revoke them.

One token per user (DRF's `authtoken` model). The key is shown once, when issued; a
rotation replaces the row, so the old key stops working at once. A command run from the
server's shell passes `by=None`: shell access already outranks any web role.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from rest_framework.authtoken.models import Token


def _require_staff(*, by: AbstractBaseUser | None, user: AbstractBaseUser) -> None:
    if by is None:
        return
    if not (by.is_active and by.is_staff):
        raise PermissionDenied("only organizers may issue or revoke API tokens")
    # A token acts as its user: an organizer must not mint one that outranks them.
    if user.is_superuser and not by.is_superuser:
        raise PermissionDenied("only an administrator may issue or revoke an administrator's token")


@transaction.atomic
def api_token_issue(*, user: AbstractBaseUser, by: AbstractBaseUser | None) -> str:
    """Create the user's token, or replace the one they have; returns the new key."""
    _require_staff(by=by, user=user)
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user).key


def api_token_revoke(*, user: AbstractBaseUser, by: AbstractBaseUser | None) -> bool:
    """Delete the user's token; returns whether there was one."""
    _require_staff(by=by, user=user)
    deleted, _ = Token.objects.filter(user=user).delete()
    return bool(deleted)
