from django.urls import path

from orders import group_views as views

urlpatterns = [
    path("windows/", views.window_list, name="group-windows"),
    path("windows/<id:window_id>/", views.window_detail, name="group-window"),
    path("windows/<id:window_id>/request/", views.window_request, name="group-window-request"),
    path("windows/<id:window_id>/plan/", views.window_plan, name="group-window-plan"),
    path("windows/<id:window_id>/move/<str:to_status>/", views.window_move, name="group-window-move"),
    path("windows/<id:window_id>/place-orders/", views.window_place_orders, name="group-window-place-orders"),
    path("orders/", views.group_order_inbox, name="group-orders"),
    path("orders/<id:group_order_id>/", views.group_order_detail, name="group-order"),
    path("allocations/<id:allocation_id>/hand-over/", views.allocation_hand_over, name="group-hand-over"),
]
