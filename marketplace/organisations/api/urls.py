from django.urls import path

from marketplace.organisations.api import views
from marketplace.organisations.api.auth import AuthTokenView

urlpatterns = [
    path("auth/token/", AuthTokenView.as_view(), name="api-token"),
    path("me/", views.MeView.as_view(), name="api-me"),
    path("organisations/", views.OrganisationListView.as_view(), name="api-organisation-list"),
    path("organisations/<int:pk>/", views.OrganisationDetailView.as_view(), name="api-organisation-detail"),
    path(
        "organisations/<int:pk>/verification/",
        views.OrganisationVerificationView.as_view(),
        name="api-organisation-verification",
    ),
    path(
        "organisations/<int:organisation_id>/memberships/",
        views.OrganisationMembershipListView.as_view(),
        name="api-organisation-memberships",
    ),
    path(
        "organisations/<int:organisation_id>/invitations/",
        views.OrganisationInvitationListView.as_view(),
        name="api-organisation-invitations",
    ),
    path("memberships/<int:pk>/", views.MembershipDetailView.as_view(), name="api-membership-detail"),
    path("invitations/accept/", views.InvitationAcceptView.as_view(), name="api-invitation-accept"),
    path("invitations/<int:pk>/revoke/", views.InvitationRevokeView.as_view(), name="api-invitation-revoke"),
    path("farmers/", views.FarmerListView.as_view(), name="api-farmer-list"),
    path("farmers/import/", views.FarmerImportView.as_view(), name="api-farmer-import"),
    path("farmers/<int:pk>/", views.FarmerDetailView.as_view(), name="api-farmer-detail"),
    path("farmers/<int:pk>/status/", views.FarmerStatusView.as_view(), name="api-farmer-status"),
    path("farmers/<int:farmer_id>/plots/", views.FarmerPlotListView.as_view(), name="api-farmer-plots"),
    path("plots/<int:pk>/", views.PlotDetailView.as_view(), name="api-plot-detail"),
]
