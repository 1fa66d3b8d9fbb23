from decimal import Decimal

from rest_framework import serializers

from marketplace.core.api.fields import IdField


class PointSerializer(serializers.Serializer):
    period_start = serializers.DateField()
    trades = serializers.IntegerField()
    sellers = serializers.IntegerField()
    tonnes = serializers.FloatField()
    price_per_tonne = serializers.IntegerField(source="per_tonne.amount", help_text="Minor units of the currency.")
    price_per_quoted_unit = serializers.IntegerField(source="per_unit.amount", help_text="Minor units.")
    ifpa = serializers.FloatField(allow_null=True, help_text="Price anomaly indicator (monthly points only).")
    warning = serializers.BooleanField(help_text="IFPA of 1 or more on a point at most two months old.")


class GradeSeriesSerializer(serializers.Serializer):
    grade = serializers.CharField(source="grade.code")
    grade_name = serializers.CharField(source="grade.name")
    points = PointSerializer(many=True)


class SeriesSerializer(serializers.Serializer):
    commodity = serializers.CharField(source="commodity.code")
    country = serializers.CharField()
    region = serializers.CharField()
    currency = serializers.CharField()
    period = serializers.CharField()
    quoted_unit = serializers.CharField(source="unit.code", help_text="kg, or bag90 (90 kg bag).")
    grades = GradeSeriesSerializer(many=True)


class SeriesQuerySerializer(serializers.Serializer):
    commodity = serializers.SlugField(help_text="Commodity code, e.g. cocoa-beans.")
    country = serializers.CharField(min_length=2, max_length=2, help_text="ISO 3166 country code of the sellers.")
    region = serializers.CharField(required=False, allow_blank=True, default="")
    period = serializers.ChoiceField(choices=["month", "week"], default="month")


class InputPointSerializer(serializers.Serializer):
    period_start = serializers.DateField()
    trades = serializers.IntegerField(help_text="Completed group orders in the cell.")
    sellers = serializers.IntegerField(help_text="Distinct suppliers in the cell.")
    packs = serializers.IntegerField()
    price_per_pack = serializers.IntegerField(source="per_pack.amount", help_text="Minor units of the currency.")


class InputSeriesSerializer(serializers.Serializer):
    product = serializers.IntegerField(source="product.pk")
    product_name = serializers.CharField(source="product.name")
    kind = serializers.CharField(source="product.kind")
    pack = serializers.CharField(source="packaging.code")
    pack_name = serializers.CharField(source="packaging.name")
    country = serializers.CharField()
    region = serializers.CharField()
    currency = serializers.CharField()
    period = serializers.CharField()
    points = InputPointSerializer(many=True)


class InputSeriesQuerySerializer(serializers.Serializer):
    product = IdField(help_text="Input product id.")
    country = serializers.CharField(required=False, allow_blank=True, default="", max_length=2,
                                    help_text="ISO 3166 country code of the buying cooperatives.")  # fmt: skip
    region = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    period = serializers.ChoiceField(choices=["month", "week"], default="month")


class SavedSearchSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    organisation = serializers.IntegerField(source="organisation_id")
    name = serializers.CharField()
    commodity = serializers.CharField(source="commodity.code")
    min_grade = serializers.CharField(source="min_grade.code", allow_null=True, default=None)
    country = serializers.CharField()
    region = serializers.CharField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    radius_km = serializers.DecimalField(max_digits=7, decimal_places=1, allow_null=True)
    certification = serializers.CharField()
    eudr_ready = serializers.BooleanField()
    channel = serializers.CharField()
    created_at = serializers.DateTimeField()


class SavedSearchInputSerializer(serializers.Serializer):
    organisation = IdField(help_text="The buying organisation.")
    name = serializers.CharField(max_length=80)
    commodity = serializers.SlugField(max_length=60, help_text="Commodity code.")
    min_grade = serializers.SlugField(max_length=40, required=False, allow_blank=True, default="")
    country = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")
    region = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False,
                                        allow_null=True, default=None)  # fmt: skip
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, min_value=-180, max_value=180,
                                         required=False, allow_null=True, default=None)  # fmt: skip
    radius_km = serializers.DecimalField(max_digits=7, decimal_places=1, min_value=Decimal("0.1"), max_value=5000,
                                         required=False, allow_null=True, default=None)  # fmt: skip
    certification = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    eudr_ready = serializers.BooleanField(required=False, default=False)
    channel = serializers.ChoiceField(choices=["email", "sms"], default="email")
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
