from django.urls import path

from marketplace.decisions import views

app_name = "decisions"
urlpatterns = [
    path("", views.decision_list, name="list"),
    path("new/", views.decision_new, name="new"),
    path("defaults/", views.defaults_edit, name="defaults"),
    path("<id:decision_id>/", views.decision_detail, name="detail"),
    path("<id:decision_id>/transition/", views.decision_transition, name="transition"),
    path("<id:decision_id>/votes/", views.vote_record, name="vote"),
    path("<id:decision_id>/hands/", views.hands_record, name="hands"),
]
