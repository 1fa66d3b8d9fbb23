from django.contrib.auth import views as auth_views
from django.urls import path

from marketplace.organisations import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation-accept"),
]
