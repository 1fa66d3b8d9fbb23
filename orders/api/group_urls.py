from django.urls import path

from orders.api import group_views as views

WINDOW = "group/windows/<id:window_id>/"

urlpatterns = [
    path("group/windows/", views.WindowListView.as_view(), name="api-window-list"),
    path(WINDOW, views.WindowDetailView.as_view(), name="api-window-detail"),
    path(f"{WINDOW}move/", views.WindowMoveView.as_view(), name="api-window-move"),
    path(f"{WINDOW}requests/", views.RequestListView.as_view(), name="api-window-requests"),
    path(f"{WINDOW}plan/", views.WindowPlanView.as_view(), name="api-window-plan"),
    path(f"{WINDOW}place-orders/", views.WindowPlaceOrdersView.as_view(), name="api-window-place-orders"),
    path("group/orders/", views.GroupOrderListView.as_view(), name="api-group-order-list"),
    path("group/orders/<id:group_order_id>/", views.GroupOrderDetailView.as_view(), name="api-group-order-detail"),
    path("group/orders/<id:group_order_id>/move/", views.GroupOrderMoveView.as_view(), name="api-group-order-move"),
    path(f"{WINDOW}products/<id:product_id>/offer/", views.WindowOfferChoiceView.as_view(), name="api-window-offer"),
    path(
        "group/orders/<id:group_order_id>/allocations/",
        views.GroupOrderAllocationsView.as_view(),
        name="api-group-order-allocations",
    ),
    path(
        "group/allocations/<id:allocation_id>/hand-over/",
        views.AllocationHandOverView.as_view(),
        name="api-allocation-hand-over",
    ),
]
