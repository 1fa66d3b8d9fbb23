from django.urls import path

from marketplace.channels import views

app_name = "channels"

urlpatterns = [
    path("africastalking/<str:secret>/ussd/", views.africastalking_ussd, name="at-ussd"),
    path("africastalking/<str:secret>/sms/inbound/", views.africastalking_sms_inbound, name="at-sms-inbound"),
    path("africastalking/<str:secret>/sms/delivery/", views.africastalking_sms_delivery, name="at-sms-delivery"),
    path("members/<id:farmer_id>/", views.farmer_channel, name="farmer"),
]
