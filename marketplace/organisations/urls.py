from django.contrib.auth import views as auth_views
from django.urls import path

from marketplace.organisations import views
from marketplace.organisations.forms import EmailAuthenticationForm

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("organisation/switch/", views.organisation_switch, name="organisation-switch"),
    path("members/", views.member_list, name="member-list"),
    path("members/add/", views.member_add, name="member-add"),
    path("members/<int:farmer_id>/", views.member_detail, name="member-detail"),
    path("members/<int:farmer_id>/plots/add/", views.plot_add, name="plot-add"),
    path("people/", views.people, name="people"),
    path("people/invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation-revoke"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation-accept"),
    path("organisations/", views.organisation_list, name="organisation-list"),
    path(
        "organisations/<int:organisation_id>/verification/",
        views.organisation_verification,
        name="organisation-verification",
    ),
]
