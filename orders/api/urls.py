from django.urls import include, path

from orders.api import views

NUMBER = "orders/<str:number>/"

urlpatterns = [
    path("", include("orders.api.group_urls")),
    path("purchases/", views.PurchaseListView.as_view(), name="api-purchase-list"),
    path("purchases/<str:reference>/", views.PurchaseDetailView.as_view(), name="api-purchase-detail"),
    path("orders/", views.OrderListView.as_view(), name="api-order-list"),
    path("disputes/", views.DisputeListView.as_view(), name="api-dispute-list"),
    path(NUMBER, views.OrderDetailView.as_view(), name="api-order-detail"),
    path(f"{NUMBER}accept/", views.OrderAcceptView.as_view(), name="api-order-accept"),
    path(f"{NUMBER}reject/", views.OrderRejectView.as_view(), name="api-order-reject"),
    path(f"{NUMBER}cancel/", views.OrderCancelView.as_view(), name="api-order-cancel"),
    path(f"{NUMBER}mark-paid/", views.OrderMarkPaidView.as_view(), name="api-order-mark-paid"),
    path(f"{NUMBER}dispatch/", views.OrderDispatchView.as_view(), name="api-order-dispatch"),
    path(f"{NUMBER}receipt/", views.OrderReceiptView.as_view(), name="api-order-receipt"),
    path(f"{NUMBER}complete/", views.OrderCompleteView.as_view(), name="api-order-complete"),
    path(f"{NUMBER}dispute/", views.OrderDisputeView.as_view(), name="api-order-dispute"),
    path(f"{NUMBER}resolve/", views.OrderResolveView.as_view(), name="api-order-resolve"),
    path(f"{NUMBER}documents/<str:kind>/", views.OrderDocumentView.as_view(), name="api-order-document"),
    path(f"{NUMBER}evidence/<id:evidence_id>/", views.DisputeEvidenceView.as_view(), name="api-order-evidence"),
]
