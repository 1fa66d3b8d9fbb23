"""The request form of the pages: tonnes and prices per tonne in major units, turned into grams and minor units."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from catalogue.models import Certification, Commodity, Grade
from marketplace.core.money import Money
from marketplace.matching.services import RequestInput
from marketplace.organisations.forms import PageForm

TONNE = 1_000_000


class BuyerRequestForm(PageForm):
    commodity = forms.ModelChoiceField(Commodity.objects.filter(is_active=True), label=_("Commodity"))
    min_grade = forms.ModelChoiceField(
        Grade.objects.select_related("commodity").order_by("commodity__name", "rank"),
        label=_("Lowest grade accepted"),
        required=False,
        empty_label=_("Any grade"),
    )
    quantity_t = forms.DecimalField(label=_("Quantity wanted (t)"), min_value=Decimal("0.001"), decimal_places=3)
    min_fill_t = forms.DecimalField(
        label=_("Smallest fill accepted (t)"), min_value=0, decimal_places=3, required=False, initial=0
    )
    min_truckload_t = forms.DecimalField(label=_("Minimum truckload (t)"), min_value=0, decimal_places=3, initial=5)
    max_price = forms.DecimalField(label=_("Highest price per tonne"), min_value=Decimal("0.01"), decimal_places=2)
    currency = forms.CharField(label=_("Currency"), max_length=3, min_length=3)
    delivery_place = forms.CharField(label=_("Delivery place"), max_length=120, required=False)
    delivery_latitude = forms.DecimalField(label=_("Delivery latitude"), min_value=-90, max_value=90, decimal_places=6)
    delivery_longitude = forms.DecimalField(
        label=_("Delivery longitude"), min_value=-180, max_value=180, decimal_places=6
    )
    window_start = forms.DateField(label=_("Deliver from"), widget=forms.DateInput(attrs={"type": "date"}))
    window_end = forms.DateField(label=_("Deliver until"), widget=forms.DateInput(attrs={"type": "date"}))
    max_distance_km = forms.IntegerField(label=_("Maximum sourcing distance (km)"), min_value=1, max_value=5000)
    certifications = forms.MultipleChoiceField(
        label=_("Certifications required"),
        choices=Certification.Scheme.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    eudr_required = forms.BooleanField(label=_("EUDR-ready lots only"), required=False)

    def clean(self):
        data = super().clean()
        currency = (data.get("currency") or "").upper()
        if data.get("max_price") is not None and len(currency) == 3:
            try:
                data["max_price_minor"] = Money.from_decimal(data["max_price"], currency).amount
            except (ValueError, TypeError, ArithmeticError):
                self.add_error("max_price", _("Give the price with the decimals of the currency."))
        return data

    def to_input(self) -> RequestInput:
        d = self.cleaned_data
        return RequestInput(
            commodity_id=d["commodity"].pk,
            min_grade_id=d["min_grade"].pk if d.get("min_grade") else None,
            quantity_grams=int(d["quantity_t"] * TONNE),
            min_fill_grams=int((d.get("min_fill_t") or 0) * TONNE),
            min_truckload_grams=int(d["min_truckload_t"] * TONNE),
            max_price_per_tonne_minor=d["max_price_minor"],
            currency=d["currency"].upper(),
            delivery_place=d.get("delivery_place") or "",
            delivery_latitude=d["delivery_latitude"],
            delivery_longitude=d["delivery_longitude"],
            window_start=d["window_start"],
            window_end=d["window_end"],
            max_distance_km=d["max_distance_km"],
            certifications=tuple(d.get("certifications") or ()),
            eudr_required=d.get("eudr_required", False),
        )

    @classmethod
    def initial_from(cls, request) -> dict:
        return {
            "commodity": request.commodity_id,
            "min_grade": request.min_grade_id,
            "quantity_t": Decimal(request.quantity_grams) / TONNE,
            "min_fill_t": Decimal(request.min_fill_grams) / TONNE,
            "min_truckload_t": Decimal(request.min_truckload_grams) / TONNE,
            "max_price": Money(request.max_price_per_tonne_minor, request.currency).to_decimal(),
            "currency": request.currency,
            "delivery_place": request.delivery_place,
            "delivery_latitude": request.delivery_latitude,
            "delivery_longitude": request.delivery_longitude,
            "window_start": request.window_start,
            "window_end": request.window_end,
            "max_distance_km": request.max_distance_km,
            "certifications": request.certifications,
            "eudr_required": request.eudr_required,
        }
