from django.urls import path

from marketplace.core import views

urlpatterns = [path("", views.health, name="health")]
