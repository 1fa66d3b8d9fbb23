from django.urls import path

from marketplace.market.api import views

urlpatterns = [
    path("market/series/", views.PriceSeriesView.as_view(), name="api-market-series"),
    path("market/input-prices/", views.InputPriceSeriesView.as_view(), name="api-market-input-prices"),
    path("market/saved-searches/", views.SavedSearchListView.as_view(), name="api-market-saved-searches"),
    path(
        "market/saved-searches/<id:search_id>/", views.SavedSearchDetailView.as_view(), name="api-market-saved-search"
    ),
]
