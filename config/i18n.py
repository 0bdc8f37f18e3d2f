"""The interface language: the browser's, the switcher's, or the signed-in person's own.

Django's LocaleMiddleware picks the language from the language cookie (set by the
header's switcher), else from Accept-Language, else English. A signed-in person who
chose a language keeps it in ``annotate.models.UserPreference``: it wins over both,
in every browser they sign in from. It is put into the session at login
(``annotate.languages``), so a page costs no query for it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseBase
from django.utils import translation
from django.views import i18n as django_i18n
from django.views.decorators.http import require_POST

from annotate.languages import SESSION_KEY, language_store, stored_language, supported_language


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
            if language is None:  # a session begun before the choice was kept in it
                language = request.session[SESSION_KEY] = stored_language(user=user)
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
