from django.urls import include, path

from orders import views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="list"),
    path("inbox/", views.inbox, name="inbox"),
    path("disputes/", views.dispute_desk, name="disputes"),
    path("basket/", views.basket, name="basket"),
    path("basket/add/", views.basket_add, name="basket-add"),
    path("basket/remove/", views.basket_remove, name="basket-remove"),
    path("basket/place/", views.basket_place, name="basket-place"),
    path("purchases/<str:reference>/", views.purchase_detail, name="purchase"),
    path("group/", include("orders.group_urls")),
    path("<str:number>/", views.order_detail, name="detail"),
    path("<str:number>/move/<str:to_status>/", views.order_move, name="move"),
    path("<str:number>/documents/<str:kind>.pdf", views.order_document, name="document"),
    path("<str:number>/evidence/<id:evidence_id>/", views.dispute_evidence, name="evidence"),
]
