"""A person's interface language, kept on the server (annotate.models.UserPreference).

The choice follows them to any browser: at login it is put into the session, where
config.i18n.UserLanguageMiddleware reads it on every request without a query.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from annotate.models import UserPreference

# Where the session keeps the person's stored choice ("" for none: the browser's).
SESSION_KEY = "refscore_language"


def supported_language(code: str | None) -> str | None:
    """`code` if it is one of settings.LANGUAGES (case aside), else None."""
    code = (code or "").lower()
    return code if code in dict(settings.LANGUAGES) else None


def stored_language(*, user) -> str:
    """The language the person chose, or "" when they left it to the browser."""
    preference = UserPreference.objects.filter(user=user).only("language").first()
    return (supported_language(preference.language) or "") if preference else ""


def language_store(*, user, language: str) -> UserPreference:
    """Keep `language` as the person's choice: one of settings.LANGUAGES, or "" for none."""
    if language and supported_language(language) is None:
        offered = ", ".join(dict(settings.LANGUAGES))
        raise ValueError(f"{language!r} is not one of {offered}")
    preference, _ = UserPreference.objects.update_or_create(
        user=user, defaults={"language": language.lower()}
    )
    return preference


@receiver(user_logged_in, dispatch_uid="refscore-language-at-login")
def remember_language_at_login(sender, request, user, **kwargs) -> None:
    """Puts the stored choice into the new session (saved with the login anyway)."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = stored_language(user=user)
