from django.urls import path

from marketplace.market.api import views

urlpatterns = [
    path("market/series/", views.PriceSeriesView.as_view(), name="api-market-series"),
    path("market/input-prices/", views.InputPriceSeriesView.as_view(), name="api-market-input-prices"),
]
