from django.urls import path

from marketplace.market import views

app_name = "market"

urlpatterns = [
    path("", views.market_index, name="index"),
    path("ours/", views.our_prices, name="ours"),
    path("alerts/", views.alerts, name="alerts"),
    path("searches/", views.saved_searches, name="searches"),
    path("inputs/", views.input_index, name="inputs"),
    path("inputs/<id:product>/", views.input_detail, name="input-detail"),
    path("inputs/<id:product>/prices.csv", views.input_csv, name="input-csv"),
    path("reports/", views.reports, name="reports"),
    path("reports/<slug:kind>.<slug:fmt>", views.report_download, name="report"),
    path("<slug:commodity>/<str:country>/", views.market_detail, name="detail"),
    path("<slug:commodity>/<str:country>/prices.csv", views.market_csv, name="csv"),
]
