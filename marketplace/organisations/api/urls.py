from django.urls import path

from marketplace.organisations.api import views
from marketplace.organisations.api.auth import AuthTokenView

urlpatterns = [
    path("auth/token/", AuthTokenView.as_view(), name="api-token"),
    path("me/", views.MeView.as_view(), name="api-me"),
    path("organisations/", views.OrganisationListView.as_view(), name="api-organisation-list"),
    path("organisations/<id:pk>/", views.OrganisationDetailView.as_view(), name="api-organisation-detail"),
    path(
        "organisations/<id:pk>/verification/",
        views.OrganisationVerificationView.as_view(),
        name="api-organisation-verification",
    ),
    path(
        "organisations/<id:organisation_id>/memberships/",
        views.OrganisationMembershipListView.as_view(),
        name="api-organisation-memberships",
    ),
    path(
        "organisations/<id:organisation_id>/invitations/",
        views.OrganisationInvitationListView.as_view(),
        name="api-organisation-invitations",
    ),
    path("memberships/<id:pk>/", views.MembershipDetailView.as_view(), name="api-membership-detail"),
    path("invitations/accept/", views.InvitationAcceptView.as_view(), name="api-invitation-accept"),
    path("invitations/<id:pk>/revoke/", views.InvitationRevokeView.as_view(), name="api-invitation-revoke"),
    path("farmers/", views.FarmerListView.as_view(), name="api-farmer-list"),
    path("farmers/import/", views.FarmerImportView.as_view(), name="api-farmer-import"),
    path("farmers/<id:pk>/", views.FarmerDetailView.as_view(), name="api-farmer-detail"),
    path("farmers/<id:pk>/status/", views.FarmerStatusView.as_view(), name="api-farmer-status"),
    path("farmers/<id:farmer_id>/plots/", views.FarmerPlotListView.as_view(), name="api-farmer-plots"),
    path("plots/<id:pk>/", views.PlotDetailView.as_view(), name="api-plot-detail"),
    path("plots/<id:pk>/overlaps/", views.PlotOverlapListView.as_view(), name="api-plot-overlaps"),
    path(
        "organisations/<id:organisation_id>/plot-overlaps/",
        views.OrganisationPlotOverlapListView.as_view(),
        name="api-organisation-plot-overlaps",
    ),
]
