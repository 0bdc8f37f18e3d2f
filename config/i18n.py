"""The interface language: a signed-in person's own choice, kept on the server.

Django's LocaleMiddleware picks the language from the language cookie (set by the
header's switcher), else from Accept-Language, else English. A signed-in person who
chose a language keeps it in ``annotate.models.UserPreference``: it wins over both,
in every browser they sign in from. The choice is read once per session and kept in
it, so a page costs no query for it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseBase
from django.utils import translation
from django.views import i18n as django_i18n
from django.views.decorators.http import require_POST

from annotate.models import UserPreference

# Where the session keeps the person's stored choice ("" for none).
SESSION_KEY = "refscore_language"


def supported_language(code: str) -> str | None:
    """`code` if it is one of settings.LANGUAGES (case aside), else None."""
    code = (code or "").lower()
    return code if code in dict(settings.LANGUAGES) else None


def stored_language(user) -> str:
    """The language the person chose, or "" when they left it to the browser."""
    preference = UserPreference.objects.filter(user=user).only("language").first()
    return supported_language(preference.language) or "" if preference else ""


def language_store(*, user, language: str) -> UserPreference:
    """Keep `language` as the person's choice (a supported code, or "" for the browser's)."""
    if language and supported_language(language) is None:
        raise ValueError(f"{language!r} is not one of {', '.join(dict(settings.LANGUAGES))}")
    preference, _ = UserPreference.objects.update_or_create(
        user=user, defaults={"language": language.lower()}
    )
    return preference


class UserLanguageMiddleware:
    """Activates the signed-in person's stored language, after LocaleMiddleware's own pick.

    Sits after AuthenticationMiddleware. Requests signed by an API token are not known
    here (DRF authenticates them in the view): they follow Accept-Language.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language = request.session.get(SESSION_KEY)
            if language is None:
                language = stored_language(user)
                request.session[SESSION_KEY] = language
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language (the cookie, then back to `next`), also kept for the person.

    Only the site's languages: Django's own view would set the cookie to any language
    Django itself speaks, which the site then ignores.
    """
    language = supported_language(request.POST.get("language", ""))
    if language is None:
        offered = ", ".join(dict(settings.LANGUAGES))
        return HttpResponseBadRequest(f"language: one of {offered}", content_type="text/plain")
    response = django_i18n.set_language(request)
    if request.user.is_authenticated:
        language_store(user=request.user, language=language)
        request.session[SESSION_KEY] = language
    return response
