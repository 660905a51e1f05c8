from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from sandbox.core.health import healthz

# Each app owns its routes; sandbox-scoped ones live under sandboxes/<sandbox_pk>/.
APPS = ["domains", "scenarios", "sandbox.runs", "sandbox.live", "sandbox.ratings",
        "sandbox.audit"]

api_v1 = [
    path("", include("sandbox.core.api.urls")),
    *[path("", include(f"{app}.api_urls")) for app in APPS],
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("sandbox.core.pages.urls")),
    *[path("", include(f"{app}.urls")) for app in APPS],
]
