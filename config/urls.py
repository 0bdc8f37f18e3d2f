from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from annotate.views import media as media_views
from config import i18n

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("m/<uuid:token>/<str:kind>", media_views.media_file, name="media"),
    # The header's language switcher; the pages' scripts' translations, as a script URL
    # (the CSP allows no inline script).
    path("i18n/setlang/", i18n.set_language, name="set_language"),
    path(
        "jsi18n/",
        # locale/ and Django's own; not the admin's scripts' strings, which no page uses.
        JavaScriptCatalog.as_view(packages=["annotate", "evaluation"]),
        name="javascript-catalog",
    ),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        # Its start-up script comes as a separate file, not inline (the CSP allows no inline).
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api_docs.html"),
        name="api-docs",
    ),
    path("api/", include("annotate.api.urls")),
    path("api/", include("evaluation.api.urls")),
    path("", include("annotate.urls")),
    path("", include("evaluation.urls")),
]
