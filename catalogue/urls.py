from django.urls import path

from catalogue import views

urlpatterns = [
    path("", views.listing_search, name="catalogue-listings"),
    path("listings/<int:listing_id>/", views.listing_detail, name="catalogue-listing-detail"),
    path("offers/", views.offer_search, name="catalogue-offers"),
    path("offers/<int:offer_id>/", views.offer_detail, name="catalogue-offer-detail"),
    path("deliveries/", views.delivery_list, name="catalogue-deliveries"),
    path("deliveries/new/", views.delivery_new, name="catalogue-delivery-new"),
    path("collection-points/new/", views.collection_point_new, name="catalogue-collection-point-new"),
    path("deliveries/<int:delivery_id>/", views.delivery_detail, name="catalogue-delivery-detail"),
    path("deliveries/<int:delivery_id>/reverse/", views.delivery_reverse, name="catalogue-delivery-reverse"),
    path("lots/", views.lot_list, name="catalogue-lots"),
    path("lots/bulk/", views.lot_bulk, name="catalogue-lot-bulk"),
    path("lots/merge/", views.lot_merge, name="catalogue-lot-merge"),
    path("lots/<int:lot_id>/", views.lot_detail, name="catalogue-lot-detail"),
    path("lots/<int:lot_id>/label/", views.lot_label, name="catalogue-lot-label"),
    path("trace/<uuid:public_id>/", views.lot_trace_public, name="catalogue-lot-trace"),
    path("trace-settings/", views.trace_settings, name="catalogue-trace-settings"),
    path("lots/<int:lot_id>/eudr.json", views.lot_due_diligence, name="catalogue-lot-due-diligence"),
    path("lots/<int:lot_id>/split/", views.lot_split, name="catalogue-lot-split"),
    path("lots/<int:lot_id>/move/", views.lot_move, name="catalogue-lot-move"),
    path("lots/<int:lot_id>/transition/", views.lot_transition, name="catalogue-lot-transition"),
    path("my-listings/", views.my_listings, name="catalogue-my-listings"),
    path("my-listings/new/", views.listing_new, name="catalogue-listing-new"),
    path("my-listings/<int:listing_id>/transition/", views.listing_transition, name="catalogue-listing-transition"),
    path("supplier/offers/", views.supplier_offers, name="catalogue-supplier-offers"),
    path("supplier/offers/new/", views.offer_new, name="catalogue-offer-new"),
    path("supplier/offers/<int:offer_id>/", views.offer_edit, name="catalogue-offer-edit"),
    path("supplier/offers/<int:offer_id>/transition/", views.offer_transition, name="catalogue-offer-transition"),
    path("supplier/products/new/", views.product_new, name="catalogue-product-new"),
]
