from django.urls import path

from marketplace.decisions.api import views

urlpatterns = [
    path("decisions/", views.DecisionListView.as_view(), name="api-decisions"),
    path("decisions/<id:pk>/", views.DecisionDetailView.as_view(), name="api-decision-detail"),
    path("decisions/<id:pk>/transition/", views.DecisionTransitionView.as_view(), name="api-decision-transition"),
    path("decisions/<id:pk>/votes/", views.VoteView.as_view(), name="api-decision-votes"),
    path("decisions/<id:pk>/hands/", views.ShowOfHandsView.as_view(), name="api-decision-hands"),
    path("decisions/defaults/<id:organisation_id>/", views.DefaultsListView.as_view(), name="api-decision-defaults"),
    path(
        "decisions/defaults/<id:organisation_id>/<slug:kind>/",
        views.DefaultsDetailView.as_view(),
        name="api-decision-defaults-kind",
    ),
    path("decisions/<id:pk>/results/", views.ResultsView.as_view(), name="api-decision-results"),
]
