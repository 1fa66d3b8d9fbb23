from django.urls import path

from traceability import views

urlpatterns = [
    path("plots/import/", views.plot_import, name="plot-import"),
]
