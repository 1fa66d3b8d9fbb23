from rest_framework import serializers

from marketplace.core.api.fields import IdField
from marketplace.core.api.schema import ErrorDetailSerializer
from marketplace.core.errors import ValidationFailed
from traceability.selectors import parse_since


class EPCISQuerySerializer(serializers.Serializer):
    lot = serializers.CharField(required=False, help_text="A lot URI, or a lot code when only one lot has it.")
    order = serializers.CharField(required=False, help_text="An order number (or order:<number>).")
    since = serializers.CharField(
        required=False,
        max_length=40,
        help_text="A date (YYYY-MM-DD) or ISO 8601 date-time: events recorded from then on.",
    )
    organisation = IdField(
        required=False, help_text="Only this organisation's events (one of yours); default: all of yours."
    )

    def validate(self, attrs):
        chosen = [name for name in ("lot", "order", "since") if attrs.get(name)]
        if len(chosen) != 1:
            raise serializers.ValidationError({"lot": "Give exactly one of lot, order or since."})
        if attrs.get("since"):
            try:
                attrs["since"] = parse_since(attrs["since"])
            except ValidationFailed as error:
                raise serializers.ValidationError({"since": error.message}) from None
        return attrs


class BackwardQuerySerializer(serializers.Serializer):
    lot = serializers.CharField(required=False, help_text="A lot URI, or a lot code when only one lot has it.")
    order = serializers.CharField(required=False, help_text="An order number (or order:<number>).")
    organisation = IdField(required=False, help_text="Only this organisation's events.")

    def validate(self, attrs):
        if bool(attrs.get("lot")) == bool(attrs.get("order")):
            raise serializers.ValidationError({"lot": "Give either a lot or an order."})
        return attrs


class ForwardQuerySerializer(serializers.Serializer):
    identifier = serializers.CharField(required=False, help_text="A delivery or lot URI (or a party's URI).")
    farmer = IdField(required=False, help_text="A member farmer's id.")
    plot = IdField(required=False, help_text="A plot's id.")
    organisation = IdField(required=False, help_text="Only this organisation's events.")

    def validate(self, attrs):
        if sum(attrs.get(name) is not None for name in ("identifier", "farmer", "plot")) != 1:
            raise serializers.ValidationError({"identifier": "Give exactly one of identifier, farmer or plot."})
        return attrs


class LotGramsSerializer(serializers.Serializer):
    uri = serializers.CharField()
    grams = serializers.IntegerField(help_text="Grams of this lot (or party's produce) that belong to the trace.")


class StepQuantitySerializer(serializers.Serializer):
    uri = serializers.CharField()
    grams = serializers.IntegerField(allow_null=True, help_text="The quantity the event recorded.")
    traced_grams = serializers.IntegerField(help_text="The part of it that belongs to the trace.")


class StepSerializer(serializers.Serializer):
    event_id = serializers.CharField()
    event_time = serializers.DateTimeField()
    biz_step = serializers.CharField()
    inputs = StepQuantitySerializer(many=True)
    outputs = StepQuantitySerializer(many=True)


class OriginSerializer(serializers.Serializer):
    uri = serializers.CharField(help_text="The delivered produce.")
    traced_grams = serializers.IntegerField()
    delivered_grams = serializers.IntegerField(allow_null=True)
    event_ids = serializers.ListField(child=serializers.CharField())
    farmers = serializers.ListField(child=serializers.CharField())
    plots = serializers.ListField(child=serializers.CharField())


class OrderUseSerializer(serializers.Serializer):
    order = serializers.CharField()
    order_number = serializers.CharField(allow_null=True)
    event_id = serializers.CharField()
    event_type = serializers.CharField()
    action = serializers.CharField(help_text="DELETE on a TransactionEvent: the lot was taken out of the order.")
    biz_step = serializers.CharField()
    lot = serializers.CharField()
    grams = serializers.IntegerField(allow_null=True)
    traced_grams = serializers.IntegerField()


class TraceSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=["backward", "forward"])
    identifier = serializers.CharField()
    complete = serializers.BooleanField(help_text="False when a quantity was missing on the way.")
    lots = LotGramsSerializer(many=True)
    steps = StepSerializer(many=True)
    origins = OriginSerializer(many=True)
    farmers = LotGramsSerializer(many=True)
    plots = LotGramsSerializer(many=True)
    orders = OrderUseSerializer(many=True)

    def to_representation(self, trace):
        def pairs(mapping):
            return [{"uri": uri, "grams": grams} for uri, grams in mapping.items()]

        return super().to_representation(
            {
                "direction": trace.direction,
                "identifier": trace.identifier,
                "complete": trace.complete,
                "lots": pairs(trace.lots),
                "steps": [vars(step) for step in trace.steps],
                "origins": [vars(origin) for origin in trace.origins],
                "farmers": pairs(trace.farmers),
                "plots": pairs(trace.plots),
                "orders": [vars(use) for use in trace.orders],
            }
        )


# --- Bulk plot import ---------------------------------------------------------------------------


class PlotImportSerializer(serializers.Serializer):
    organisation = IdField(
        required=False, help_text="The cooperative; may be omitted when you belong to exactly one cooperative."
    )
    file = serializers.FileField(
        help_text="A GeoJSON FeatureCollection (.geojson, .json) or a KML file (.kml), one plot per feature.",
        error_messages={
            "empty": "The file is empty: upload a GeoJSON FeatureCollection or a KML file.",
            "required": "Attach the plot file as `file` in a multipart/form-data request.",
            "invalid": "Attach the plot file as `file` in a multipart/form-data request.",
        },
    )


class PlotImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="How many plots were created.")
    plots = serializers.ListField(child=serializers.IntegerField(), help_text="The new plots' ids, in file order.")


class FeatureErrorSerializer(serializers.Serializer):
    feature = serializers.IntegerField(help_text="The feature's index in the file, from 0 (KML: the Placemark's).")
    name = serializers.CharField(help_text="The feature's plot name, when it has one.")
    errors = serializers.ListField(child=serializers.CharField(), help_text="What to fix.")


class PlotImportErrorDetailSerializer(ErrorDetailSerializer):
    features = FeatureErrorSerializer(
        many=True,
        required=False,
        help_text="Present when features are wrong (code invalid_features): every bad feature with its messages.",
    )


class PlotImportErrorSerializer(serializers.Serializer):
    error = PlotImportErrorDetailSerializer()
