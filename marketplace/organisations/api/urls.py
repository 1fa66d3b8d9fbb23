from django.urls import path

from marketplace.organisations.api.auth import AuthTokenView

urlpatterns = [
    path("auth/token/", AuthTokenView.as_view(), name="api-token"),
]
