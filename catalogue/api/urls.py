from django.urls import path

from catalogue.api import views

ORG = "organisations/<int:organisation_id>"

urlpatterns = [
    path("commodities/", views.CommodityListView.as_view(), name="api-commodity-list"),
    path("packaging/", views.PackagingListView.as_view(), name="api-packaging-list"),
    path("input-products/", views.InputProductListView.as_view(), name="api-input-product-list"),
    path(f"{ORG}/locations/", views.OrganisationLocationsView.as_view(), name="api-organisation-locations"),
    path(
        f"{ORG}/certifications/",
        views.OrganisationCertificationsView.as_view(),
        name="api-organisation-certifications",
    ),
    path(f"{ORG}/deliveries/", views.OrganisationDeliveriesView.as_view(), name="api-organisation-deliveries"),
    path("deliveries/<int:pk>/", views.DeliveryDetailView.as_view(), name="api-delivery-detail"),
    path("deliveries/<int:pk>/reverse/", views.DeliveryReverseView.as_view(), name="api-delivery-reverse"),
    path(f"{ORG}/lots/", views.OrganisationLotsView.as_view(), name="api-organisation-lots"),
    path("lots/merge/", views.LotMergeView.as_view(), name="api-lot-merge"),
    path("lots/<int:pk>/", views.LotDetailView.as_view(), name="api-lot-detail"),
    path("lots/<int:pk>/split/", views.LotSplitView.as_view(), name="api-lot-split"),
    path("lots/<int:pk>/transition/", views.LotTransitionView.as_view(), name="api-lot-transition"),
    path("lots/<int:pk>/move/", views.LotMoveView.as_view(), name="api-lot-move"),
    path("lots/<int:pk>/due-diligence/", views.LotDueDiligenceView.as_view(), name="api-lot-due-diligence"),
    path(
        "orders/<str:number>/due-diligence/",
        views.OrderDueDiligenceView.as_view(),
        name="api-order-due-diligence",
    ),
    path("lots/<int:pk>/eudr-statement/", views.LotStatementView.as_view(), name="api-lot-eudr-statement"),
    path("orders/<str:number>/eudr-statement/", views.OrderStatementView.as_view(), name="api-order-eudr-statement"),
    path(
        "orders/<str:number>/eudr-references/",
        views.OrderStatementReferencesView.as_view(),
        name="api-order-eudr-references",
    ),
    path(f"{ORG}/listings/", views.OrganisationListingsView.as_view(), name="api-organisation-listings"),
    path("listings/", views.ListingSearchView.as_view(), name="api-listing-search"),
    path("listings/<int:pk>/", views.ListingDetailView.as_view(), name="api-listing-detail"),
    path("listings/<int:pk>/transition/", views.ListingTransitionView.as_view(), name="api-listing-transition"),
    path(
        f"{ORG}/input-products/",
        views.OrganisationInputProductsView.as_view(),
        name="api-organisation-input-products",
    ),
    path(f"{ORG}/offers/", views.OrganisationOffersView.as_view(), name="api-organisation-offers"),
    path("offers/", views.OfferSearchView.as_view(), name="api-offer-search"),
    path("offers/<int:pk>/", views.OfferDetailView.as_view(), name="api-offer-detail"),
    path("offers/<int:pk>/transition/", views.OfferTransitionView.as_view(), name="api-offer-transition"),
    path("offers/<int:pk>/quote/", views.OfferQuoteView.as_view(), name="api-offer-quote"),
]
