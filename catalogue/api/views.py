"""The catalogue API: parse the request, call one selector or service, render (house rules 1 and 2).

Records of an organisation (locations, certificates, deliveries, lots and member shares, its own listings and
offers in every status) live under /organisations/{id}/ and answer only its members; ids of another
organisation's records answer 404. Reference data, live listings and live offers are public.
"""

from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from catalogue import selectors, services
from catalogue.api import serializers as s
from catalogue.api.serializers import grams
from catalogue.pagination import CappedPageNumberPagination
from catalogue.parsing import listing_search_arguments, offer_search_arguments, parse_money
from catalogue.services import RegionInput, TierInput
from marketplace.core.api.fields import ID_SCHEMA
from marketplace.core.api.parsers import SafeJSONParser
from marketplace.core.api.schema import error_responses
from marketplace.core.errors import ValidationFailed

ERROR_DESCRIPTIONS = {
    400: "The input is invalid; `message` and `fields` say what to fix. Nothing was written.",
    403: "Your role in the organisation does not allow this.",
    404: "No such object, or it belongs to an organisation you cannot see.",
    409: "The object's state does not allow this (e.g. a transition, or not enough left).",
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return error_responses(ERROR_DESCRIPTIONS, *codes)


class CatalogueView(GenericAPIView):
    """Views call selectors and services themselves; no generic filtering or ordering on top."""

    filter_backends: list = []

    def page(self, queryset, serializer_class, **context) -> Response:
        page = self.paginate_queryset(queryset)
        data = serializer_class(page, many=True, context={"request": self.request, **context}).data
        return self.get_paginated_response(data)

    def query(self, serializer_class) -> dict:
        params = serializer_class(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return params.validated_data


# --- Reference data -----------------------------------------------------------------------


class CommodityListView(CatalogueView):
    permission_classes = [AllowAny]
    pagination_class = None

    @extend_schema(
        summary="Commodities and their grades",
        description="Each commodity with its HS code, EUDR relevance, default display unit and its grades, best "
        "first, with their quality limits.",
        responses={200: s.CommoditySerializer(many=True)},
        tags=["catalogue: reference"],
    )
    def get(self, request):
        return Response(s.CommoditySerializer(selectors.commodity_list(viewer=request.user), many=True).data)


class PackagingListView(CatalogueView):
    permission_classes = [AllowAny]
    pagination_class = None

    @extend_schema(
        summary="Packaging: bags and units with their declared net content",
        responses={200: s.PackagingSerializer(many=True)},
        tags=["catalogue: reference"],
    )
    def get(self, request):
        return Response(s.PackagingSerializer(selectors.packaging_list(viewer=request.user), many=True).data)


class InputProductListView(CatalogueView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Input products (seed, fertiliser, crop protection, tools)",
        parameters=[s.InputProductQuerySerializer],
        responses={200: s.InputProductSerializer(many=True)},
        tags=["catalogue: offers"],
    )
    def get(self, request):
        kind = self.query(s.InputProductQuerySerializer).get("kind", "")
        return self.page(selectors.input_product_list(viewer=request.user, kind=kind), s.InputProductSerializer)


# --- An organisation's locations and certificates -----------------------------------------


class OrganisationLocationsView(CatalogueView):
    @extend_schema(
        summary="The organisation's collection points and warehouses",
        responses={200: s.LocationSerializer(many=True), **errors(404)},
        tags=["catalogue: records"],
    )
    def get(self, request, organisation_id: int):
        queryset = selectors.location_list(viewer=request.user, organisation_id=organisation_id)
        return self.page(queryset, s.LocationSerializer)

    @extend_schema(
        summary="Add a collection point or warehouse (managers)",
        request=s.LocationCreateSerializer,
        responses={201: s.LocationSerializer, **errors(400, 403, 404)},
        tags=["catalogue: records"],
    )
    def post(self, request, organisation_id: int):
        payload = s.LocationCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        location = services.location_create(actor=request.user, organisation_id=organisation_id,
                                            **payload.validated_data)  # fmt: skip
        return Response(s.LocationSerializer(location).data, status=status.HTTP_201_CREATED)


class OrganisationCertificationsView(CatalogueView):
    @extend_schema(
        summary="The organisation's certificates",
        responses={200: s.CertificationSerializer(many=True), **errors(404)},
        tags=["catalogue: records"],
    )
    def get(self, request, organisation_id: int):
        queryset = selectors.certification_list(viewer=request.user, organisation_id=organisation_id)
        return self.page(queryset, s.CertificationSerializer)

    @extend_schema(
        summary="Record a certificate the organisation holds (managers)",
        request=s.CertificationCreateSerializer,
        responses={201: s.CertificationSerializer, **errors(400, 403, 404)},
        tags=["catalogue: records"],
    )
    def post(self, request, organisation_id: int):
        payload = s.CertificationCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        certification = services.certification_create(
            actor=request.user, organisation_id=organisation_id, **payload.validated_data
        )
        return Response(s.CertificationSerializer(certification).data, status=status.HTTP_201_CREATED)


# --- Deliveries ---------------------------------------------------------------------------


class OrganisationDeliveriesView(CatalogueView):
    @extend_schema(
        summary="The cooperative's member deliveries and reversals, newest first",
        description="`farmer`, `commodity` and `bulkable=true` (not yet in a lot, not reversed) narrow the list.",
        parameters=[s.DeliveryListQuerySerializer],
        responses={200: s.DeliverySerializer(many=True), **errors(400, 404)},
        tags=["catalogue: deliveries"],
    )
    def get(self, request, organisation_id: int):
        params = self.query(s.DeliveryListQuerySerializer)
        queryset = selectors.delivery_list(
            viewer=request.user,
            organisation_id=organisation_id,
            farmer_id=params.get("farmer"),
            commodity_id=params.get("commodity"),
            bulkable=params["bulkable"],
        )
        return self.page(queryset, s.DeliverySerializer)

    @extend_schema(
        summary="Record a member's delivery (clerks and up)",
        description="Give `net_weight_kg`, or `bags` with a `packaging` whose declared net mass gives the weight. "
        "Moisture above the grade's limit is refused unless `downgrade_to` names a lower grade that allows it. "
        "The member gets an SMS receipt. Sending the same `client_reference` again returns the first delivery "
        "(200) instead of recording it twice (201).",
        request=s.DeliveryCreateSerializer,
        responses={201: s.DeliverySerializer, 200: s.DeliverySerializer, **errors(400, 403, 404, 409)},
        tags=["catalogue: deliveries"],
    )
    def post(self, request, organisation_id: int):
        payload = s.DeliveryCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        delivery = services.delivery_record(
            actor=request.user, organisation_id=organisation_id, **payload.service_fields()
        )
        replayed = getattr(delivery, "replayed", False)
        delivery = selectors.delivery_get(viewer=request.user, delivery_id=delivery.pk)
        return Response(
            s.DeliverySerializer(delivery).data, status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED
        )


class DeliveryDetailView(CatalogueView):
    @extend_schema(
        summary="A delivery or reversal", responses={200: s.DeliverySerializer, **errors(404)},
        tags=["catalogue: deliveries"],
    )  # fmt: skip
    def get(self, request, pk: int):
        return Response(s.DeliverySerializer(selectors.delivery_get(viewer=request.user, delivery_id=pk)).data)


class DeliveryReverseView(CatalogueView):
    @extend_schema(
        summary="Reverse a mistaken delivery (clerks and up)",
        description="Records an entry with the negated quantities that names the original and the reason. "
        "A delivery that is already in a lot cannot be reversed.",
        request=s.DeliveryReverseSerializer,
        responses={201: s.DeliverySerializer, **errors(400, 403, 404, 409)},
        tags=["catalogue: deliveries"],
    )
    def post(self, request, pk: int):
        payload = s.DeliveryReverseSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        reversal = services.delivery_reverse(
            actor=request.user, delivery_id=pk, reason=payload.validated_data["reason"]
        )
        reversal = selectors.delivery_get(viewer=request.user, delivery_id=reversal.pk)
        return Response(s.DeliverySerializer(reversal).data, status=status.HTTP_201_CREATED)


# --- Lots ---------------------------------------------------------------------------------


class OrganisationLotsView(CatalogueView):
    @extend_schema(
        summary="The cooperative's lots, newest first (members only)",
        description="`status` narrows the list. Unlisted lots are visible to the cooperative's members only.",
        parameters=[s.LotListQuerySerializer],
        responses={200: s.LotSerializer(many=True), **errors(400, 404)},
        tags=["catalogue: lots"],
    )
    def get(self, request, organisation_id: int):
        status_filter = self.query(s.LotListQuerySerializer).get("status", "")
        queryset = selectors.lot_list(viewer=request.user, organisation_id=organisation_id, status=status_filter)
        return self.page(queryset, s.LotSerializer)

    @extend_schema(
        summary="Bulk deliveries into a new lot (managers)",
        description="The deliveries must be of one commodity and grade, not reversed and not yet in a lot. "
        "Each becomes a member share of the lot.",
        request=s.LotBulkSerializer,
        responses={201: s.LotDetailSerializer, **errors(400, 403, 404)},
        tags=["catalogue: lots"],
    )
    def post(self, request, organisation_id: int):
        payload = s.LotBulkSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        lot = services.lot_bulk(
            actor=request.user,
            organisation_id=organisation_id,
            delivery_ids=payload.validated_data["deliveries"],
            storage_location_id=payload.validated_data["storage_location"],
        )
        return _lot_response(request, lot.pk, status.HTTP_201_CREATED)


def _lot_response(request, lot_id: int, code: int = status.HTTP_200_OK) -> Response:
    return Response(s.LotDetailSerializer(selectors.lot_get(viewer=request.user, lot_id=lot_id)).data, status=code)


class LotDetailView(CatalogueView):
    @extend_schema(
        summary="A lot with its member shares, lineage and listings (members only)",
        responses={200: s.LotDetailSerializer, **errors(404)},
        tags=["catalogue: lots"],
    )
    def get(self, request, pk: int):
        return _lot_response(request, pk)


# More than 0 and at most 100,000,000 kg (KilogramField's bounds), up to 3 decimals.
POSITIVE_KG = r"^(?:[1-9]\d{0,7}(?:\.\d{1,3})?|100000000(?:\.0{1,3})?|0\.(?:[1-9]\d{0,2}|0[1-9]\d?|00[1-9]))$"


def _lot_split_schema() -> dict:
    """LotSplitSerializer as the schema states it, with what the split needs on top: at least one part, each more
    than 0 kg. That the parts add up to at most the lot's weight depends on the lot."""
    fields = s.LotSplitSerializer().fields
    schema = {
        "type": "object",
        "required": ["parts_kg"],
        "properties": {
            "parts_kg": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "string",
                    "format": "decimal",
                    "pattern": POSITIVE_KG,
                },
                "description": str(fields["parts_kg"].help_text),
            },
            "storage_locations": {
                "type": "array",
                "maxItems": fields["storage_locations"].max_length,
                "items": {**ID_SCHEMA, "format": "int64", "nullable": True},
                "description": str(fields["storage_locations"].help_text),
            },
        },
    }
    return dict.fromkeys(("application/json", "application/x-www-form-urlencoded", "multipart/form-data"), schema)


LOT_SPLIT = _lot_split_schema()


class LotSplitView(CatalogueView):
    pagination_class = None

    @extend_schema(
        summary="Split an open lot (managers)",
        description="Makes a new lot per part (and one for the rest, if the parts add up to less); member shares "
        "follow exactly, by largest remainder where a part cuts a share. The lot is closed.",
        request=LOT_SPLIT,
        responses={201: s.LotDetailSerializer(many=True), **errors(400, 403, 404, 409)},
        tags=["catalogue: lots"],
    )
    def post(self, request, pk: int):
        payload = s.LotSplitSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        parts = services.lot_split(
            actor=request.user,
            lot_id=pk,
            parts_grams=[grams(part) for part in payload.validated_data["parts_kg"]],
            storage_location_ids=payload.validated_data.get("storage_locations"),
        )
        data = [s.LotDetailSerializer(selectors.lot_get(viewer=request.user, lot_id=p.pk)).data for p in parts]
        return Response(data, status=status.HTTP_201_CREATED)


class LotMergeView(CatalogueView):
    @extend_schema(
        summary="Merge open lots of one commodity and grade (managers)",
        description="Makes one lot; member shares add up per delivery. The source lots are closed.",
        request=s.LotMergeSerializer,
        responses={201: s.LotDetailSerializer, **errors(400, 403, 404, 409)},
        tags=["catalogue: lots"],
    )
    def post(self, request):
        payload = s.LotMergeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        merged = services.lot_merge(
            actor=request.user,
            lot_ids=payload.validated_data["lots"],
            storage_location_id=payload.validated_data.get("storage_location"),
        )
        return _lot_response(request, merged.pk, status.HTTP_201_CREATED)


class LotTransitionView(CatalogueView):
    @extend_schema(
        summary="Change a lot's status (managers)",
        description="open → listed | closed; listed → open | reserved | sold; reserved → listed | sold; "
        "sold → dispatched; dispatched → closed. Listing services move lots between open and listed.",
        request=s.LotTransitionSerializer,
        responses={200: s.LotDetailSerializer, **errors(400, 403, 404, 409)},
        tags=["catalogue: lots"],
    )
    def post(self, request, pk: int):
        payload = s.LotTransitionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.lot_status_transition(
            actor=request.user, lot_id=pk, to_status=payload.validated_data["status"],
            reason=payload.validated_data["reason"],
        )  # fmt: skip
        return _lot_response(request, pk)


class LotMoveView(CatalogueView):
    @extend_schema(
        summary="Record that a lot moved to another warehouse (managers)",
        request=s.LotMoveSerializer,
        responses={200: s.LotDetailSerializer, **errors(400, 403, 404, 409)},
        tags=["catalogue: lots"],
    )
    def post(self, request, pk: int):
        payload = s.LotMoveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.lot_move(actor=request.user, lot_id=pk, storage_location_id=payload.validated_data["storage_location"])
        return _lot_response(request, pk)


# --- Listings -----------------------------------------------------------------------------


class ListingSearchView(CatalogueView):
    permission_classes = [AllowAny]
    pagination_class = CappedPageNumberPagination

    @extend_schema(
        summary="Search live listings (public)",
        description="Filters combine. `min_grade` keeps that grade or better; `lat`, `lon` and `radius_km` keep "
        "listings within that distance (great-circle) of the point; `max_price` is in `currency` per "
        "`price_unit`, so listings in other currencies are left out; `certification` keeps listings with a "
        "certificate of that scheme valid on `available_on` (or today).",
        parameters=[s.ListingSearchSerializer],
        responses={200: s.ListingSerializer(many=True), **errors(400)},
        tags=["catalogue: listings"],
    )
    def get(self, request):
        params = self.query(s.ListingSearchSerializer)
        queryset = selectors.listing_search(viewer=request.user, **listing_search_arguments(params))
        return self.page(queryset, s.ListingSerializer)


class OrganisationListingsView(CatalogueView):
    parser_classes = [SafeJSONParser, MultiPartParser, FormParser]

    @extend_schema(
        summary="The cooperative's own listings in every status (members)",
        parameters=[s.ListingListQuerySerializer],
        responses={200: s.OwnListingSerializer(many=True), **errors(400, 404)},
        tags=["catalogue: listings"],
    )
    def get(self, request, organisation_id: int):
        status_filter = self.query(s.ListingListQuerySerializer).get("status", "")
        queryset = selectors.listing_list_for_organisation(
            viewer=request.user, organisation_id=organisation_id, status=status_filter
        )
        return self.page(queryset, s.OwnListingSerializer)

    @extend_schema(
        summary="Offer a lot, or part of it (managers)",
        description="The price is in the cooperative's currency, per kg or per tonne. The quantity cannot exceed "
        "what the lot holds minus what its other listings offer. Send multipart/form-data to include a photo.",
        request=s.ListingCreateSerializer,
        responses={201: s.OwnListingSerializer, **errors(400, 403, 404, 409)},
        tags=["catalogue: listings"],
    )
    def post(self, request, organisation_id: int):
        payload = s.ListingCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        lot = selectors.lot_get(viewer=request.user, lot_id=data["lot"])
        if lot.organisation_id != organisation_id:
            raise ValidationFailed(
                "This lot belongs to another of your organisations.", fields={"lot": "Choose a lot of this one."}
            )
        listing = services.listing_create(
            actor=request.user,
            lot_id=lot.pk,
            title=data["title"],
            description=data["description"],
            price=parse_money(data["price"], data["currency"]),
            price_unit=data["price_unit"],
            quantity_grams=grams(data["quantity_kg"]),
            min_order_grams=grams(data["min_order_kg"]),
            delivery_terms=data["delivery_terms"],
            pickup_location_id=data.get("pickup_location"),
            delivery_country=data["delivery_country"].upper(),
            delivery_region=data["delivery_region"],
            available_from=data["available_from"],
            valid_until=data["valid_until"],
            certification_ids=data["certifications"],
            photo=data.get("photo"),
        )
        listing = selectors.listing_get(viewer=request.user, listing_id=listing.pk)
        return Response(s.OwnListingSerializer(listing, context={"request": request}).data, status=201)


class PublicReadView(CatalogueView):
    """Anyone reads; changes need a signed-in user (the service then checks the role)."""

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]


class ListingDetailView(PublicReadView):
    @extend_schema(
        summary="A listing (public while live; its cooperative's members see it in any status)",
        responses={200: s.ListingSerializer, **errors(404)},
        tags=["catalogue: listings"],
    )
    def get(self, request, pk: int):
        listing = selectors.listing_get(viewer=request.user, listing_id=pk)
        return Response(s.ListingSerializer(listing, context={"request": request}).data)

    @extend_schema(
        summary="Change a listing's terms (managers)",
        description="Price (with its currency), price unit, quantity, minimum order, validity, certificates. "
        "The quantity cannot drop below what is reserved or sold.",
        request=s.ListingUpdateSerializer,
        responses={200: s.OwnListingSerializer, **errors(400, 403, 404, 409)},
        tags=["catalogue: listings"],
    )
    def patch(self, request, pk: int):
        payload = s.ListingUpdateSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        services.listing_update(
            actor=request.user,
            listing_id=pk,
            title=data.get("title"),
            description=data.get("description"),
            price=parse_money(data["price"], data["currency"].upper()) if "price" in data else None,
            price_unit=data.get("price_unit"),
            quantity_grams=grams(data.get("quantity_kg")),
            min_order_grams=grams(data.get("min_order_kg")),
            valid_until=data.get("valid_until"),
            certification_ids=data.get("certifications"),
        )
        listing = selectors.listing_get(viewer=request.user, listing_id=pk)
        return Response(s.OwnListingSerializer(listing, context={"request": request}).data)


class ListingTransitionView(CatalogueView):
    @extend_schema(
        summary="Pause, resume or withdraw a listing (managers)",
        description="active → paused | withdrawn; paused → active | withdrawn. A listing with reserved quantity "
        "cannot be withdrawn.",
        request=s.ListingTransitionSerializer,
        responses={200: s.OwnListingSerializer, **errors(400, 403, 404, 409)},
        tags=["catalogue: listings"],
    )
    def post(self, request, pk: int):
        payload = s.ListingTransitionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.listing_status_transition(
            actor=request.user, listing_id=pk, to_status=payload.validated_data["status"],
            reason=payload.validated_data["reason"],
        )  # fmt: skip
        listing = selectors.listing_get(viewer=request.user, listing_id=pk)
        return Response(s.OwnListingSerializer(listing, context={"request": request}).data)


# --- Input products and supplier offers ---------------------------------------------------


class OrganisationInputProductsView(CatalogueView):
    @extend_schema(
        summary="The supplier's products and the reference products",
        responses={200: s.InputProductSerializer(many=True), **errors(404)},
        tags=["catalogue: offers"],
    )
    def get(self, request, organisation_id: int):
        queryset = selectors.input_product_list_for_organisation(viewer=request.user, organisation_id=organisation_id)
        return self.page(queryset, s.InputProductSerializer)

    @extend_schema(
        summary="Describe an input product (input suppliers' managers)",
        description="Seed needs `crop` and `variety`; fertiliser `npk` (e.g. 17-17-17); crop protection "
        "`active_ingredient`.",
        request=PolymorphicProxySerializer(
            component_name="InputProductCreate",
            serializers={
                "seed": s.SeedProductCreateSerializer,
                "fertiliser": s.FertiliserProductCreateSerializer,
                "crop_protection": s.CropProtectionProductCreateSerializer,
                "tool": s.ToolProductCreateSerializer,
            },
            resource_type_field_name="kind",
        ),
        responses={201: s.InputProductSerializer, **errors(400, 403, 404)},
        tags=["catalogue: offers"],
    )
    def post(self, request, organisation_id: int):
        payload = s.InputProductCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        product = services.input_product_create(
            actor=request.user, organisation_id=organisation_id, **payload.service_fields()
        )
        return Response(s.InputProductSerializer(product).data, status=status.HTTP_201_CREATED)


def _tiers(rows: list[dict], currency: str) -> list[TierInput]:
    return [
        TierInput(
            min_packs=row["min_packs"],
            max_packs=row.get("max_packs"),
            unit_price=parse_money(row["unit_price"], currency, field=f"tiers.{index}.unit_price"),
        )
        for index, row in enumerate(rows)
    ]


def _regions(rows: list[dict]) -> list[RegionInput]:
    return [RegionInput(country=str(row["country"]), region=row.get("region", "")) for row in rows]


class OrganisationOffersView(CatalogueView):
    @extend_schema(
        summary="The supplier's own offers in every status (members)",
        parameters=[s.OfferListQuerySerializer],
        responses={200: s.SupplierOfferSerializer(many=True), **errors(400, 404)},
        tags=["catalogue: offers"],
    )
    def get(self, request, organisation_id: int):
        status_filter = self.query(s.OfferListQuerySerializer).get("status", "")
        queryset = selectors.offer_list_for_organisation(
            viewer=request.user, organisation_id=organisation_id, status=status_filter
        )
        return self.page(queryset, s.SupplierOfferSerializer)

    @extend_schema(
        summary="Publish an offer with volume price tiers (input suppliers' managers)",
        description="Tiers are ordered from the smallest quantity and touch without overlap or gap, e.g. "
        "1–99 packs, 100–499, 500 and more; a larger tier never costs more per pack.",
        request={"application/json": s.SupplierOfferCreateSerializer},  # nested tiers and regions: JSON only
        responses={201: s.SupplierOfferSerializer, **errors(400, 403, 404)},
        tags=["catalogue: offers"],
    )
    def post(self, request, organisation_id: int):
        payload = s.SupplierOfferCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        currency = data["currency"].upper()
        offer = services.supplier_offer_create(
            actor=request.user,
            organisation_id=organisation_id,
            product_id=data["product"],
            currency=currency,
            stock_packs=data["stock_packs"],
            tiers=_tiers(data["tiers"], currency),
            regions=_regions(data["regions"]),
            lead_time_days=data["lead_time_days"],
            valid_from=data["valid_from"],
            valid_until=data["valid_until"],
            notes=data["notes"],
        )
        offer = selectors.offer_get(viewer=request.user, offer_id=offer.pk)
        return Response(s.SupplierOfferSerializer(offer).data, status=status.HTTP_201_CREATED)


class OfferSearchView(CatalogueView):
    permission_classes = [AllowAny]
    pagination_class = CappedPageNumberPagination

    @extend_schema(
        summary="Search live supplier offers (public)",
        description="With `quantity`, only offers that can supply that many packs, sorted by their price per pack "
        "at that quantity. `country` and `region` keep offers that deliver there.",
        parameters=[s.OfferSearchSerializer],
        responses={200: s.SupplierOfferSerializer(many=True), **errors(400)},
        tags=["catalogue: offers"],
    )
    def get(self, request):
        params = self.query(s.OfferSearchSerializer)
        queryset = selectors.offer_search(viewer=request.user, **offer_search_arguments(params))
        return self.page(queryset, s.SupplierOfferSerializer)


class OfferDetailView(PublicReadView):
    @extend_schema(
        summary="A supplier offer (public while live)",
        responses={200: s.SupplierOfferSerializer, **errors(404)},
        tags=["catalogue: offers"],
    )
    def get(self, request, pk: int):
        return Response(s.SupplierOfferSerializer(selectors.offer_get(viewer=request.user, offer_id=pk)).data)

    @extend_schema(
        summary="Change an offer's stock, tiers, regions or validity (managers)",
        request=s.SupplierOfferUpdateSerializer,
        responses={200: s.SupplierOfferSerializer, **errors(400, 403, 404, 409)},
        tags=["catalogue: offers"],
    )
    def patch(self, request, pk: int):
        payload = s.SupplierOfferUpdateSerializer(data=request.data)  # not partial: tiers must be whole
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        offer = selectors.offer_get(viewer=request.user, offer_id=pk)
        services.supplier_offer_update(
            actor=request.user,
            offer_id=pk,
            stock_packs=data.get("stock_packs"),
            tiers=_tiers(data["tiers"], offer.currency) if "tiers" in data else None,
            regions=_regions(data["regions"]) if "regions" in data else None,
            lead_time_days=data.get("lead_time_days"),
            valid_until=data.get("valid_until"),
            notes=data.get("notes"),
        )
        return Response(s.SupplierOfferSerializer(selectors.offer_get(viewer=request.user, offer_id=pk)).data)


class OfferTransitionView(CatalogueView):
    @extend_schema(
        summary="Pause, resume or withdraw an offer (managers)",
        request=s.SupplierOfferTransitionSerializer,
        responses={200: s.SupplierOfferSerializer, **errors(400, 403, 404, 409)},
        tags=["catalogue: offers"],
    )
    def post(self, request, pk: int):
        payload = s.SupplierOfferTransitionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.supplier_offer_status_transition(
            actor=request.user, offer_id=pk, to_status=payload.validated_data["status"],
            reason=payload.validated_data["reason"],
        )  # fmt: skip
        return Response(s.SupplierOfferSerializer(selectors.offer_get(viewer=request.user, offer_id=pk)).data)


class OfferQuoteView(CatalogueView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="The total price of a quantity (public)",
        description="Every pack at the price of the tier the quantity falls in.",
        parameters=[s.OfferQuoteQuerySerializer],
        responses={200: s.OfferQuoteSerializer, **errors(400, 404)},
        tags=["catalogue: offers"],
    )
    def get(self, request, pk: int):
        params = self.query(s.OfferQuoteQuerySerializer)
        quote = selectors.offer_quote(viewer=request.user, offer_id=pk, packs=params["packs"])
        return Response(s.OfferQuoteSerializer(quote).data)


# --- EUDR due diligence ---------------------------------------------------------------------

DUE_DILIGENCE_DESCRIPTION = (
    "Commodity and HS code, net mass (kg), countries and period of production, and the GeoJSON of every "
    "contributing plot (ProducerName, ProducerCountry, ProductionPlace, Area). `eudr_ready` is false, and "
    "`missing` names each plot and the rule it breaks, until every contributing plot has a valid geometry. "
    "Readable by the cooperative's members and by the buyer of an order of the lot; 400 for a commodity the "
    "EUDR does not cover."
)


def _package_response(package) -> Response:
    response = Response(s.DueDiligenceSerializer(package.as_json()).data)
    response["Content-Disposition"] = f'inline; filename="{package.filename}"'
    return response


class LotDueDiligenceView(CatalogueView):
    pagination_class = None

    @extend_schema(
        summary="The EUDR due-diligence package of a lot",
        description=DUE_DILIGENCE_DESCRIPTION,
        responses={200: s.DueDiligenceSerializer, **errors(400, 404)},
        tags=["catalogue: lots"],
    )
    def get(self, request, pk: int):
        return _package_response(selectors.lot_due_diligence(viewer=request.user, lot_id=pk))


class OrderDueDiligenceView(CatalogueView):
    pagination_class = None

    @extend_schema(
        summary="The EUDR due-diligence package of an order",
        description=DUE_DILIGENCE_DESCRIPTION + " An order is known here once its sale (payment) is recorded.",
        responses={200: s.DueDiligenceSerializer, **errors(400, 404)},
        tags=["catalogue: lots"],
    )
    def get(self, request, number: str):
        return _package_response(selectors.order_due_diligence(viewer=request.user, order_number=number))


STATEMENT_DESCRIPTION = (
    "The due-diligence statement in the structure of the EU Information System's submitDds request (DDS V3), as "
    "JSON: the operator is your organisation (the selling cooperative, or the buyer of an order), one commodity "
    "entry per commodity with its HS heading and net weight, one producer per member farmer with the base64 "
    "GeoJSON of that member's contributing plots, and the upstream statements your organisation recorded. Split "
    "into parts when the EU limits (1,000 producers per commodity, 10,000 per statement, 25 MB) are exceeded. "
    "409 `not_eudr_ready` with what is missing until every contributing plot has a valid geometry and evidence "
    "that it was not cleared after 31 December 2020."
)


def _statement_options(request) -> dict:
    query = s.StatementQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


def _statement_response(statements) -> Response:
    response = Response(s.StatementSetSerializer(statements.as_json()).data)
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in statements.subject.rsplit("/", 1)[-1])
    response["Content-Disposition"] = f'inline; filename="eudr-statement-{safe}.json"'
    return response


class LotStatementView(CatalogueView):
    pagination_class = None

    @extend_schema(
        summary="The EU due-diligence statement of a lot",
        description=STATEMENT_DESCRIPTION,
        parameters=[s.StatementQuerySerializer],
        responses={200: s.StatementSetSerializer, **errors(400, 404, 409)},
        tags=["catalogue: lots"],
    )
    def get(self, request, pk: int):
        options = _statement_options(request)
        return _statement_response(selectors.lot_statement(viewer=request.user, lot_id=pk, **options))


class OrderStatementView(CatalogueView):
    pagination_class = None

    @extend_schema(
        summary="The EU due-diligence statement of an order",
        description=STATEMENT_DESCRIPTION,
        parameters=[s.StatementQuerySerializer],
        responses={200: s.StatementSetSerializer, **errors(400, 404, 409)},
        tags=["catalogue: lots"],
    )
    def get(self, request, number: str):
        options = _statement_options(request)
        return _statement_response(selectors.order_statement(viewer=request.user, order_number=number, **options))


class OrderStatementReferencesView(CatalogueView):
    pagination_class = None

    @extend_schema(
        summary="Upstream statements recorded for an order",
        description="The reference and verification numbers of the upstream due-diligence statements your "
        "organisation received for this order; its own statements for the order name them.",
        responses={200: s.StatementReferenceSerializer(many=True), **errors(404)},
        tags=["catalogue: lots"],
    )
    def get(self, request, number: str):
        _, _, references = selectors.statement_references(viewer=request.user, order_number=number)
        return Response(s.StatementReferenceSerializer(references, many=True).data)

    @extend_schema(
        summary="Record an upstream statement for an order",
        request=s.StatementReferenceSerializer,
        responses={201: s.StatementReferenceSerializer, **errors(400, 403, 404, 409)},
        tags=["catalogue: lots"],
    )
    def post(self, request, number: str):
        data = s.StatementReferenceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reference = services.order_statement_reference_add(
            actor=request.user, order_number=number, **data.validated_data
        )
        return Response(s.StatementReferenceSerializer(reference).data, status=status.HTTP_201_CREATED)
