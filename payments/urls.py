from django.urls import path

from payments import views, webhooks

app_name = "payments"

urlpatterns = [
    path("webhooks/stripe/", webhooks.stripe_webhook, name="stripe-webhook"),
    path("orders/<str:number>/", views.order_payment, name="order"),
    path("orders/<str:number>/pay/", views.order_pay, name="pay"),
    path("orders/<str:number>/confirm-received/", views.payment_confirm_received, name="confirm-received"),
    path("orders/<str:number>/resend-transfer/", views.transfer_resend, name="resend-transfer"),
    path("money/", views.money, name="money"),
    path("money/<id:organisation_id>/", views.organisation_money, name="organisation-money"),
    path("money/<id:organisation_id>/payouts/", views.payout_onboarding, name="payout-onboarding"),
    path("ledger/", views.ledger, name="ledger"),
]
