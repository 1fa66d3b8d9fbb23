from django.urls import path

from payments.api import views

urlpatterns = [
    path("payments/", views.PaymentListView.as_view(), name="api-payment-list"),
    path("payments/ledger/", views.LedgerView.as_view(), name="api-payment-ledger"),
    path("payments/<id:payment_id>/", views.PaymentDetailView.as_view(), name="api-payment-detail"),
    path("payments/<id:payment_id>/offline-pay/", views.OfflinePayView.as_view(), name="api-payment-offline-pay"),
    path("payments/<id:payment_id>/confirm-received/", views.OfflineConfirmView.as_view(), name="api-payment-confirm"),
    path("payments/orders/<str:number>/", views.OrderMoneyView.as_view(), name="api-payment-order"),
    path("payments/orders/<str:number>/release/", views.OrderReleaseView.as_view(), name="api-payment-release"),
    path("payments/orders/<str:number>/refunds/", views.OrderRefundView.as_view(), name="api-payment-refund"),
    path("payments/transfers/<id:transfer_id>/resend/", views.TransferResendView.as_view(), name="api-transfer-resend"),
    path(
        "payments/organisations/<id:organisation_id>/money/",
        views.OrganisationMoneyView.as_view(),
        name="api-payment-money",
    ),
    path(
        "payments/organisations/<id:organisation_id>/payout-onboarding/",
        views.PayoutOnboardingView.as_view(),
        name="api-payment-onboarding",
    ),
]
