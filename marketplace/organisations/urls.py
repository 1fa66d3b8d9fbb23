from django.contrib.auth import views as auth_views
from django.urls import path

from marketplace.organisations import views
from marketplace.organisations.forms import EmailAuthenticationForm

urlpatterns = [
    path("accounts/login/", views.SignInView.as_view(authentication_form=EmailAuthenticationForm), name="login"),
    path("language/", views.language_switch, name="language-switch"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("organisation/switch/", views.organisation_switch, name="organisation-switch"),
    path("members/", views.member_list, name="member-list"),
    path("members/add/", views.member_add, name="member-add"),
    path("members/<id:farmer_id>/", views.member_detail, name="member-detail"),
    path("members/<id:farmer_id>/edit/", views.member_edit, name="member-edit"),
    path("members/<id:farmer_id>/plots/add/", views.plot_add, name="plot-add"),
    path("members/<id:farmer_id>/plots/<id:plot_id>/edit/", views.plot_edit, name="plot-edit"),
    path("people/", views.people, name="people"),
    path("people/<id:membership_id>/role/", views.membership_role, name="membership-role"),
    path("people/<id:membership_id>/remove/", views.membership_remove, name="membership-remove"),
    path("people/invitations/<id:invitation_id>/revoke/", views.invitation_revoke, name="invitation-revoke"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation-accept"),
    path("organisations/", views.organisation_list, name="organisation-list"),
    path(
        "organisations/<id:organisation_id>/verification/",
        views.organisation_verification,
        name="organisation-verification",
    ),
]
