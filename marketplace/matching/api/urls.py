from django.urls import path

from marketplace.matching.api import views

urlpatterns = [
    path("matching/requests/", views.BuyerRequestListView.as_view(), name="api-matching-request-list"),
    path("matching/requests/<id:request_id>/", views.BuyerRequestDetailView.as_view(),
         name="api-matching-request-detail"),
    path("matching/requests/<id:request_id>/withdraw/", views.BuyerRequestWithdrawView.as_view(),
         name="api-matching-request-withdraw"),
    path("matching/open-requests/", views.OpenRequestListView.as_view(), name="api-matching-open-requests"),
    path("matching/proposals/", views.ProposalListView.as_view(), name="api-matching-proposal-list"),
    path("matching/proposals/<id:proposal_id>/", views.ProposalDetailView.as_view(),
         name="api-matching-proposal-detail"),
    path("matching/proposals/<id:pk>/accept/", views.ProposalAcceptView.as_view(),
         name="api-matching-proposal-accept"),
    path("matching/proposals/<id:pk>/decline/", views.ProposalDeclineView.as_view(),
         name="api-matching-proposal-decline"),
    path("matching/proposals/<id:pk>/counter/", views.ProposalCounterView.as_view(),
         name="api-matching-proposal-counter"),
    path("matching/parts/<id:pk>/accept/", views.PartAcceptView.as_view(), name="api-matching-part-accept"),
    path("matching/parts/<id:pk>/decline/", views.PartDeclineView.as_view(), name="api-matching-part-decline"),
    path("matching/parts/<id:pk>/counter/", views.PartCounterView.as_view(), name="api-matching-part-counter"),
]  # fmt: skip
