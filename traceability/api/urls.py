from django.urls import path

from traceability.api.views import EPCISExportView, PlotImportView, TraceBackwardView, TraceForwardView

urlpatterns = [
    path("traceability/epcis/", EPCISExportView.as_view(), name="traceability-epcis"),
    path("traceability/trace/backward/", TraceBackwardView.as_view(), name="traceability-trace-backward"),
    path("traceability/trace/forward/", TraceForwardView.as_view(), name="traceability-trace-forward"),
    path("plots/import/", PlotImportView.as_view(), name="plots-import"),
]
