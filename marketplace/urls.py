from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerView

from marketplace.core.api.schema_view import CachedSchemaView
from marketplace.market import views as market_views

api_v1 = [
    path("", include("marketplace.organisations.api.urls")),
    path("", include("traceability.api.urls")),
    path("", include("catalogue.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("payments.api.urls")),
    path("", include("payments.payouts.api.urls")),
    path("", include("marketplace.matching.api.urls")),
    path("", include("marketplace.decisions.api.urls")),
    path("", include("marketplace.market.api.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", CachedSchemaView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("health/", include("marketplace.core.urls")),
    path("traceability/", include("traceability.urls")),
    path("catalogue/", include("catalogue.urls")),
    path("orders/", include("orders.urls")),
    path("payments/", include("payments.urls")),
    path("payouts/", include("payments.payouts.urls")),
    path("matching/", include("marketplace.matching.urls")),
    path("decisions/", include("marketplace.decisions.urls")),
    path("channels/", include("marketplace.channels.urls")),
    path("market/", include("marketplace.market.urls")),
    path("", market_views.dashboard, name="dashboard"),
    path("", include("marketplace.organisations.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "marketplace.core.views.not_found"
handler500 = "marketplace.core.views.server_error"
