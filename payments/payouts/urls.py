from django.urls import path

from payments.payouts import views, views_cash

app_name = "payouts"

urlpatterns = [
    path("", views.batch_list, name="list"),
    path("propose/", views.batch_propose, name="propose"),
    path("policy/", views.policy_set, name="policy"),
    path("<id:batch_id>/", views.batch_detail, name="detail"),
    path("<id:batch_id>/move/<str:to_status>/", views.batch_move, name="move"),
    path("<id:batch_id>/retry-failed/", views.batch_retry_failed, name="retry-failed"),
    path("<id:batch_id>/payments.csv", views.batch_csv, name="csv"),
    path("cash/", views_cash.cash_list, name="cash"),
    path("cash/<id:line_id>/", views_cash.cash_confirm, name="cash-confirm"),
    path("cash/<id:line_id>/receipt/", views_cash.cash_receipt, name="cash-receipt"),
    path("members/<id:farmer_id>/statement/", views.member_statement, name="statement"),
    path("members/<id:farmer_id>/statement.pdf", views.member_statement_pdf, name="statement-pdf"),
]
