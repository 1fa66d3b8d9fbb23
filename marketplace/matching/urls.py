from django.urls import path

from marketplace.matching import views

app_name = "matching"

urlpatterns = [
    path("", views.home, name="home"),
    path("requests/new/", views.request_new, name="request-new"),
    path("requests/<id:pk>/", views.request_detail, name="request"),
    path("requests/<id:pk>/edit/", views.request_edit, name="request-edit"),
    path("requests/<id:pk>/withdraw/", views.request_withdraw, name="request-withdraw"),
    path("proposals/<id:pk>/", views.proposal_detail, name="proposal"),
    path("proposals/<id:pk>/<str:action>/", views.proposal_answer, name="proposal-answer"),
]
