from django.urls import path

from payments.payouts.api import views

BATCH = "payout-batches/<id:pk>/"

urlpatterns = [
    path("payout-batches/", views.PayoutBatchListView.as_view(), name="api-payout-batch-list"),
    path(BATCH, views.PayoutBatchDetailView.as_view(), name="api-payout-batch-detail"),
    path(f"{BATCH}approve/", views.PayoutBatchApproveView.as_view(), name="api-payout-batch-approve"),
    path(f"{BATCH}execute/", views.PayoutBatchExecuteView.as_view(), name="api-payout-batch-execute"),
    path(f"{BATCH}retry-failed/", views.PayoutBatchRetryFailedView.as_view(), name="api-payout-batch-retry"),
    path(f"{BATCH}cancel/", views.PayoutBatchCancelView.as_view(), name="api-payout-batch-cancel"),
    path(f"{BATCH}csv/", views.PayoutBatchCsvView.as_view(), name="api-payout-batch-csv"),
    path("payout-candidates/", views.PayoutCandidateListView.as_view(), name="api-payout-candidates"),
    path(
        "organisations/<id:organisation_id>/payout-policy/",
        views.PayoutPolicyView.as_view(),
        name="api-payout-policy",
    ),
    path("farmers/<id:farmer_id>/statement/", views.MemberStatementView.as_view(), name="api-member-statement"),
    path(
        "farmers/<id:farmer_id>/statement/pdf/",
        views.MemberStatementPdfView.as_view(),
        name="api-member-statement-pdf",
    ),
]
