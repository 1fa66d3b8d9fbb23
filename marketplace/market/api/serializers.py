from rest_framework import serializers


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
