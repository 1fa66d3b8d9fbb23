from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from marketplace.core.api.schema import error_responses
from marketplace.core.errors import ValidationFailed
from marketplace.market import selectors
from marketplace.market.api import serializers as s

ERRORS = {
    400: "The query is invalid; `message` and `fields` say what to fix.",
    404: "No such commodity.",
}


class PriceSeriesView(GenericAPIView):
    permission_classes = [AllowAny]
    filter_backends: list = []
    pagination_class = None
    serializer_class = s.SeriesSerializer

    @extend_schema(
        summary="Market price series (public)",
        description="Settled prices of completed produce trades for a commodity in a country (optionally one "
        "region), one series per region and currency, one line per grade, per month or week. Only cells with at "
        "least 3 trades from at least 2 sellers are published.",
        parameters=[s.SeriesQuerySerializer],
        responses={200: s.SeriesSerializer(many=True), **error_responses(ERRORS, 400, 404)},
        tags=["market"],
    )
    def get(self, request):
        query = s.SeriesQuerySerializer(data=request.query_params)
        if not query.is_valid():
            raise ValidationFailed(
                "Give commodity and country; period is month or week.",
                fields={k: " ".join(str(e) for e in v) for k, v in query.errors.items()},
            )
        series = selectors.market_series(
            viewer=request.user, commodity_code=query.validated_data["commodity"],
            country=query.validated_data["country"], region=query.validated_data["region"],
            period=query.validated_data["period"],
        )  # fmt: skip
        return Response(s.SeriesSerializer(series, many=True).data)


class InputPriceSeriesView(GenericAPIView):
    permission_classes = [AllowAny]
    filter_backends: list = []
    pagination_class = None
    serializer_class = s.InputSeriesSerializer

    @extend_schema(
        summary="Input price series (public)",
        description="Settled prices per pack of an input product bought in completed group input orders, one "
        "series per pack, country, region (of the buying cooperatives) and currency, per month or week. Only cells "
        "with at least 3 orders from at least 2 suppliers are published.",
        parameters=[s.InputSeriesQuerySerializer],
        responses={200: s.InputSeriesSerializer(many=True), **error_responses(ERRORS, 400, 404)},
        tags=["market"],
    )
    def get(self, request):
        query = s.InputSeriesQuerySerializer(data=request.query_params)
        if not query.is_valid():
            raise ValidationFailed(
                "Give product (an input product id); period is month or week; country is two letters.",
                fields={k: " ".join(str(e) for e in v) for k, v in query.errors.items()},
            )
        _product, series = selectors.input_market_series(
            viewer=request.user, product_id=query.validated_data["product"],
            country=query.validated_data["country"], region=query.validated_data["region"],
            period=query.validated_data["period"],
        )  # fmt: skip
        return Response(s.InputSeriesSerializer(series, many=True).data)


SEARCH_ERRORS = {
    400: "The saved search is invalid; `message` and `fields` say what to fix.",
    404: "No such saved search or organisation, or one you cannot see.",
}


class SavedSearchListView(GenericAPIView):
    serializer_class = s.SavedSearchSerializer
    filter_backends: list = []
    pagination_class = None

    @extend_schema(summary="Your saved searches (at most 20 per organisation)",
                   responses={200: s.SavedSearchSerializer(many=True)}, tags=["market"])  # fmt: skip
    def get(self, request):
        return Response(s.SavedSearchSerializer(selectors.saved_search_list(viewer=request.user), many=True).data)

    @extend_schema(
        summary="Save a catalogue search",
        description="You get one e-mail (or SMS) for every new listing that fits it: commodity, lowest grade, "
        "country, region, distance from a point, certification, EUDR-ready lots only.",
        request=s.SavedSearchInputSerializer,
        responses={201: s.SavedSearchSerializer, **error_responses(SEARCH_ERRORS, 400, 404)},
        tags=["market"],
    )
    def post(self, request):
        from marketplace.market.searches import saved_search_create

        given = s.SavedSearchInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        search = saved_search_create(actor=request.user, organisation_id=data.pop("organisation"), **data)
        return Response(s.SavedSearchSerializer(search).data, status=201)


class SavedSearchDetailView(GenericAPIView):
    serializer_class = s.SavedSearchSerializer
    filter_backends: list = []

    @extend_schema(summary="Delete a saved search", responses={204: None, **error_responses(SEARCH_ERRORS, 404)},
                   tags=["market"])  # fmt: skip
    def delete(self, request, search_id: int):
        from marketplace.market.searches import saved_search_delete

        saved_search_delete(actor=request.user, search_id=search_id)
        return Response(status=204)
