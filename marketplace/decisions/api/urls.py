from django.urls import path

from marketplace.decisions.api import views

urlpatterns = [
    path("decisions/", views.DecisionListView.as_view(), name="api-decisions"),
    path("decisions/<int:pk>/", views.DecisionDetailView.as_view(), name="api-decision-detail"),
    path("decisions/<int:pk>/transition/", views.DecisionTransitionView.as_view(), name="api-decision-transition"),
    path("decisions/<int:pk>/votes/", views.VoteView.as_view(), name="api-decision-votes"),
    path("decisions/<int:pk>/hands/", views.ShowOfHandsView.as_view(), name="api-decision-hands"),
    path("decisions/<int:pk>/results/", views.ResultsView.as_view(), name="api-decision-results"),
]
