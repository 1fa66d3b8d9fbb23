"""Forms for the catalogue's pages: they parse and check the shape of the input; the services decide.

Choices come from selectors (passed in by the views), so a form never offers another organisation's records.
"""

import uuid
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from catalogue.models import Certification, Delivery, InputProduct, Listing, Lot, PriceTier, PriceUnit, SupplierOffer
from catalogue.selectors import LISTING_ORDERINGS
from marketplace.core.bounds import MAX_GRAMS, MAX_UNIT_PRICE, column
from marketplace.core.errors import DomainError
from marketplace.core.forms import BoundedIntegerField, IdField
from marketplace.core.quantities import to_base_units
from marketplace.core.templatetags.formats import day
from marketplace.core.widgets import IsoDateInput

# Service field names -> form field names, so that a service's message lands next to the right input.
FIELD_NAMES = {
    "net_weight": "net_kg",
    "gross_weight": "gross_kg",
    "bag_count": "bags",
    "moisture_pct": "moisture",
    "grade": "grade",
    "downgrade_to": "downgrade_to",
    "collection_point": "collection_point",
    "quantity": "quantity_kg",
    "min_order": "min_order_kg",
    "currency": "price",
    "pickup_location": "pickup_location",
    "delivery_country": "delivery_country",
    "delivery_region": "delivery_region",
    "storage_location": "storage_location",
    "storage_locations": "storage_location",
    "parts": "parts_kg",
    "deliveries": "deliveries",
    "lots": "lots",
    "tiers": "tiers",
}


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal on the form: messages next to their fields, the summary on top."""
    placed = False
    for name, messages in error.fields.items():
        target = FIELD_NAMES.get(name, name)
        if target not in form.fields and name.startswith("tiers."):
            target = "tiers"
        if target in form.fields:
            for message in messages:
                form.add_error(target, message)
            placed = True
    if not placed or len(error.fields) > 1:
        form.add_error(None, error.message)


def grams(kilograms: Decimal | None) -> int | None:
    return None if kilograms is None else to_base_units(kilograms, "KGM")


class KgField(forms.DecimalField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 15)
        kwargs.setdefault("decimal_places", 3)
        kwargs.setdefault("min_value", -Decimal(MAX_GRAMS) / 1000)  # a negative mass: the service says what to fix
        kwargs.setdefault("max_value", Decimal(MAX_GRAMS) / 1000)
        kwargs.setdefault("widget", forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.001"}))
        super().__init__(**kwargs)


def _choices(pairs, blank: str | None = None) -> list[tuple]:
    choices = [(str(value), label) for value, label in pairs]
    return [("", blank), *choices] if blank is not None else choices


# --- Member deliveries --------------------------------------------------------------------


class DeliveryStartForm(forms.Form):
    """Step 1 at the collection point: who delivers what, and where."""

    member_number = forms.CharField(
        label=_("Member number"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off", "autofocus": True}),
        help_text=_("As on the member's card, e.g. NAW-0012."),
    )
    collection_point = forms.TypedChoiceField(label=_("Collection point"), coerce=int)
    commodity = forms.TypedChoiceField(label=_("Commodity"), coerce=int)

    def __init__(self, *args, points, commodities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collection_point"].choices = _choices((p.pk, p.name) for p in points)
        self.fields["commodity"].choices = _choices((c.pk, c.name) for c in commodities)


class CollectionPointForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("As the members call it, e.g. Gagnoa market."))
    region = forms.CharField(label=_("Village or region (optional)"), max_length=100, required=False)


class DeliveryForm(forms.Form):
    """Step 2: weights, grade and moisture for the member found in step 1."""

    farmer = IdField(widget=forms.HiddenInput)
    collection_point = IdField(widget=forms.HiddenInput)
    commodity = IdField(widget=forms.HiddenInput)
    client_reference = forms.UUIDField(widget=forms.HiddenInput)
    plot = forms.TypedChoiceField(label=_("Plot"), coerce=int, required=False, empty_value=None)
    grade = forms.TypedChoiceField(label=_("Grade"), coerce=int)
    bags = BoundedIntegerField(
        column=column(Delivery, "bag_count"),
        domain="bags",
        label=_("Bags"),
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    packaging = forms.TypedChoiceField(label=_("Bag type"), coerce=int, required=False, empty_value=None)
    net_kg = KgField(
        label=_("Net weight (kg)"), required=False, help_text=_("Leave empty to count bags × their declared net mass.")
    )
    gross_kg = KgField(label=_("Gross weight (kg)"), required=False)
    moisture = forms.DecimalField(
        label=_("Moisture (%)"), max_digits=5, decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}),
    )  # fmt: skip
    downgrade_to = forms.TypedChoiceField(
        label=_("Downgrade to"), coerce=int, required=False, empty_value=None,
        help_text=_("Only when the moisture is above the grade's limit."),
    )  # fmt: skip
    delivered_on = forms.DateField(label=_("Date"), widget=IsoDateInput())

    def __init__(self, *args, plots, grades, packaging, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("client_reference", uuid.uuid4())
        kwargs["initial"].setdefault("delivered_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["plot"].choices = _choices(((p.pk, p.name) for p in plots), blank=_("—"))
        grade_choices = [(g.pk, _grade_label(g)) for g in grades]
        self.fields["grade"].choices = _choices(grade_choices)
        self.fields["downgrade_to"].choices = _choices(grade_choices, blank=_("No downgrade"))
        self.fields["packaging"].choices = _choices(((p.pk, p.name) for p in packaging), blank=_("—"))

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "collection_point_id": data["collection_point"],
            "farmer_id": data["farmer"],
            "plot_id": data["plot"],
            "commodity_id": data["commodity"],
            "grade_id": data["grade"],
            "moisture_pct": data["moisture"],
            "net_grams": grams(data["net_kg"]),
            "gross_grams": grams(data["gross_kg"]),
            "bag_count": data["bags"] or 0,
            "packaging_id": data["packaging"],
            "downgrade_to_grade_id": data["downgrade_to"],
            "delivered_on": data["delivered_on"],
            "client_reference": data["client_reference"],
        }


def _grade_label(grade) -> str:
    if grade.max_moisture_pct is None:
        return grade.name
    return f"{grade.name} (≤ {grade.max_moisture_pct.normalize():f} %)"


class ReverseForm(forms.Form):
    reason = forms.CharField(label=_("What was wrong?"), max_length=500)


class DeliveryFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, help_text=_("Receipt, member name or number."))


# --- Lots ---------------------------------------------------------------------------------


class BulkForm(forms.Form):
    deliveries = forms.TypedMultipleChoiceField(label=_("Deliveries"), coerce=int, widget=forms.CheckboxSelectMultiple)
    storage_location = forms.TypedChoiceField(label=_("Warehouse"), coerce=int)

    def __init__(self, *args, deliveries, warehouses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deliveries"].choices = [
            (d.pk, f"{d.receipt_number} · {d.farmer.name} · {d.commodity.name} {d.grade.name} · "
                   f"{d.net_grams / 1000:g} kg")
            for d in deliveries
        ]  # fmt: skip
        self.fields["storage_location"].choices = _choices((w.pk, w.name) for w in warehouses)


class SplitForm(forms.Form):
    parts_kg = forms.CharField(
        label=_("Parts (kg)"),
        help_text=_("Sizes of the new lots, separated by commas, e.g. 12000, 8000. The rest becomes one more lot."),
    )

    def clean_parts_kg(self) -> list[int]:
        raw = [part.strip().replace(" ", "") for part in self.cleaned_data["parts_kg"].split(",") if part.strip()]
        try:
            return [to_base_units(Decimal(part), "KGM") for part in raw]
        except ArithmeticError:
            raise forms.ValidationError(_("Write each part as a number of kg, e.g. 12000, 8000.")) from None


class MergeForm(forms.Form):
    lots = forms.TypedMultipleChoiceField(label=_("Lots"), coerce=int, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, lots, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lots"].choices = [
            (lot.pk, f"{lot.code} · {lot.commodity.name} {lot.grade.name} · {lot.quantity_grams / 1000:g} kg")
            for lot in lots
        ]


class MoveForm(forms.Form):
    storage_location = forms.TypedChoiceField(label=_("Move to"), coerce=int)

    def __init__(self, *args, warehouses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["storage_location"].choices = _choices((w.pk, w.name) for w in warehouses)


class TransitionForm(forms.Form):
    to_status = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)


# --- Listings -----------------------------------------------------------------------------


class ListingForm(forms.Form):
    lot = forms.TypedChoiceField(label=_("Lot"), coerce=int)
    title = forms.CharField(label=_("Title"), max_length=120)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    price = forms.DecimalField(
        label=_("Price"), max_digits=18, decimal_places=3, min_value=Decimal(0), max_value=MAX_UNIT_PRICE
    )
    price_unit = forms.ChoiceField(label=_("Per"), choices=PriceUnit.choices, initial=PriceUnit.PER_KILOGRAM)
    quantity_kg = KgField(label=_("Quantity offered (kg)"))
    min_order_kg = KgField(label=_("Minimum order (kg)"))
    delivery_terms = forms.ChoiceField(
        label=_("Delivery terms"), choices=Listing.DeliveryTerms.choices, widget=forms.RadioSelect,
        initial=Listing.DeliveryTerms.EX_WAREHOUSE,
    )  # fmt: skip
    pickup_location = forms.TypedChoiceField(
        label=_("Warehouse (ex warehouse)"), coerce=int, required=False, empty_value=None
    )
    delivery_country = forms.ChoiceField(label=_("Country (delivered)"), required=False)
    delivery_region = forms.CharField(label=_("Region (delivered)"), required=False, max_length=100)
    available_from = forms.DateField(label=_("Available from"), widget=IsoDateInput())
    valid_until = forms.DateField(label=_("Valid until"), widget=IsoDateInput())
    certifications = forms.TypedMultipleChoiceField(
        label=_("Certifications"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    photo = forms.FileField(label=_("Photo"), required=False, help_text=_("JPEG, PNG or WebP, at most 5 MB."))
    eudr_acknowledged = forms.BooleanField(
        label=_("List it although it is not EUDR-ready (buyers in the EU cannot import it until it is)"),
        required=False, widget=forms.HiddenInput,
    )  # fmt: skip

    def __init__(self, *args, lots, warehouses, certifications, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["price"].label = _("Price (%(currency)s)") % {"currency": currency}
        self.fields["lot"].choices = [
            (lot.pk, f"{lot.code} · {lot.commodity.name} {lot.grade.name} · {lot.quantity_grams / 1000:g} kg")
            for lot in lots
        ]
        self.fields["pickup_location"].choices = _choices(((w.pk, w.name) for w in warehouses), blank=_("—"))
        self.fields["delivery_country"].choices = [("", _("—")), *countries]
        self.fields["certifications"].choices = [
            (c.pk, f"{c.get_scheme_display()} {c.certificate_number} ({day(c.valid_until)})") for c in certifications
        ]


# Each sort option once, in words (one label per key of LISTING_ORDERINGS).
LISTING_ORDERING_LABELS = {
    "newest": _("Newest first"),
    "price": _("Price, lowest first"),
    "-price": _("Price, highest first"),
    "quantity": _("Largest quantity first"),
    "available_from": _("Available soonest"),
    "distance": _("Nearest first"),
}


class ListingFilterForm(forms.Form):
    """The public catalogue's filters; every one optional."""

    commodity = forms.ChoiceField(label=_("Commodity"), required=False)
    min_grade = forms.ChoiceField(label=_("Minimum grade"), required=False)
    country = forms.ChoiceField(label=_("Country"), required=False)
    region = forms.CharField(label=_("Region"), required=False, max_length=100)
    lat = forms.DecimalField(label=_("Latitude"), required=False, max_digits=9, decimal_places=6, min_value=-90,
                             max_value=90)  # fmt: skip
    lon = forms.DecimalField(label=_("Longitude"), required=False, max_digits=9, decimal_places=6, min_value=-180,
                             max_value=180)  # fmt: skip
    radius_km = forms.DecimalField(label=_("Within (km)"), required=False, max_digits=7, decimal_places=1,
                                   min_value=Decimal("0.1"), max_value=5000)  # fmt: skip
    min_quantity_kg = KgField(label=_("At least (kg)"), required=False, min_value=Decimal(0))
    max_price = forms.DecimalField(label=_("Maximum price"), required=False, max_digits=18, decimal_places=3,
                                   min_value=Decimal(0))  # fmt: skip
    currency = forms.CharField(label=_("Currency"), required=False, max_length=3)
    price_unit = forms.ChoiceField(label=_("Per"), choices=PriceUnit.choices, required=False)
    certification = forms.ChoiceField(
        label=_("Certification"), required=False, choices=[("", _("Any")), *Certification.Scheme.choices]
    )
    available_on = forms.DateField(label=_("Available on"), required=False,
                                   widget=IsoDateInput())  # fmt: skip
    ordering = forms.ChoiceField(
        label=_("Sort by"), required=False,
        choices=[("", _("Best match")), *((key, LISTING_ORDERING_LABELS[key]) for key in LISTING_ORDERINGS)],
    )  # fmt: skip

    def __init__(self, *args, commodities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commodity"].choices = [("", _("Any")), *((c.code, c.name) for c in commodities)]
        self.fields["min_grade"].choices = [
            ("", _("Any")),
            *((f"{c.code}:{g.code}", f"{c.name} – {g.name}") for c in commodities for g in c.grades.all()),
        ]
        self.fields["country"].choices = [("", _("Any")), *countries]

    def clean(self):
        data = super().clean()
        point = [name for name in ("lat", "lon", "radius_km") if data.get(name) is not None]
        if point and len(point) != 3:
            raise forms.ValidationError(_("Give latitude, longitude and a distance together."))
        if data.get("max_price") is not None and not data.get("currency"):
            self.add_error("currency", _("Give the currency of the maximum price, e.g. XOF."))
        grade = data.get("min_grade") or ""
        if grade:
            commodity, _sep, code = grade.partition(":")
            if data.get("commodity") and data["commodity"] != commodity:
                self.add_error("min_grade", _("This grade belongs to another commodity than the one chosen."))
            data["commodity"], data["min_grade"] = commodity, code
        if data.get("ordering") == "distance" and not point:
            self.add_error("ordering", _("Sorting by distance needs a point and a distance."))
        return data

    def search_arguments(self) -> dict:
        data = {key: value for key, value in self.cleaned_data.items() if value not in (None, "")}
        if "currency" in data:
            data["currency"] = data["currency"].upper()
        return data


# --- Supplier offers ----------------------------------------------------------------------

TIER_ROWS = 4


class InputProductForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=InputProduct.Kind.choices)
    name = forms.CharField(label=_("Name"), max_length=120)
    packaging = forms.TypedChoiceField(label=_("Packaging"), coerce=int)
    crop = forms.TypedChoiceField(label=_("Crop (seed)"), coerce=int, required=False, empty_value=None)
    variety = forms.CharField(label=_("Variety (seed)"), required=False, max_length=100)
    npk = forms.RegexField(label=_("NPK formula (fertiliser)"), regex=r"^\d{1,3}-\d{1,3}-\d{1,3}$", required=False,
                           help_text=_("e.g. 17-17-17"))  # fmt: skip
    active_ingredient = forms.CharField(label=_("Active ingredient (crop protection)"), required=False, max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, packaging, crops, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["packaging"].choices = _choices((p.pk, p.name) for p in packaging)
        self.fields["crop"].choices = _choices(((c.pk, c.name) for c in crops), blank=_("—"))

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        npk = data.pop("npk")
        return {
            "kind": data["kind"], "name": data["name"], "packaging_id": data["packaging"], "crop_id": data["crop"],
            "variety": data["variety"], "active_ingredient": data["active_ingredient"],
            "description": data["description"],
            "npk": tuple(int(part) for part in npk.split("-")) if npk else None,
        }  # fmt: skip


class OfferForm(forms.Form):
    product = forms.TypedChoiceField(label=_("Product"), coerce=int)
    currency = forms.CharField(label=_("Currency"), max_length=3)
    stock_packs = BoundedIntegerField(column=column(SupplierOffer, "stock_packs"), domain="packs",
                                      label=_("Stock (packs)"))  # fmt: skip
    lead_time_days = BoundedIntegerField(column=column(SupplierOffer, "lead_time_days"), domain="days",
                                         label=_("Lead time (days)"), max_value=365)  # fmt: skip
    valid_from = forms.DateField(label=_("Valid from"), widget=IsoDateInput())
    valid_until = forms.DateField(label=_("Valid until"), widget=IsoDateInput())
    country = forms.ChoiceField(label=_("Delivers in"))
    regions = forms.CharField(
        label=_("Regions"), required=False, max_length=500,
        help_text=_("Separated by commas; empty for the whole country."),
    )  # fmt: skip
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    tiers = forms.CharField(required=False, widget=forms.HiddenInput)  # where tier errors are shown

    def __init__(self, *args, products, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = _choices((p.pk, f"{p.name} ({p.packaging.name})") for p in products)
        self.fields["country"].choices = list(countries)
        for index in range(TIER_ROWS):
            required = index == 0
            self.fields[f"tier_{index}_min"] = BoundedIntegerField(
                column=column(PriceTier, "min_packs"), domain="packs", label=_("From (packs)"), required=required
            )
            self.fields[f"tier_{index}_max"] = BoundedIntegerField(
                column=column(SupplierOffer, "max_order_packs"), domain="packs", label=_("To (packs)"), required=False
            )
            self.fields[f"tier_{index}_price"] = forms.DecimalField(
                label=_("Price per pack"), required=required, max_digits=18, decimal_places=3, min_value=Decimal(0),
                max_value=MAX_UNIT_PRICE,
            )  # fmt: skip

    def tier_rows(self) -> list[list]:
        return [[self[f"tier_{i}_min"], self[f"tier_{i}_max"], self[f"tier_{i}_price"]] for i in range(TIER_ROWS)]

    def tier_values(self) -> list[dict]:
        rows = []
        for index in range(TIER_ROWS):
            low = self.cleaned_data.get(f"tier_{index}_min")
            price = self.cleaned_data.get(f"tier_{index}_price")
            if low is None and price is None:
                continue
            rows.append({"min_packs": low or 0, "max_packs": self.cleaned_data.get(f"tier_{index}_max"),
                         "unit_price": price or Decimal(0)})  # fmt: skip
        return rows

    def region_values(self) -> list[tuple[str, str]]:
        names = [name.strip() for name in self.cleaned_data["regions"].split(",") if name.strip()]
        return [(self.cleaned_data["country"], name) for name in names] or [(self.cleaned_data["country"], "")]


class OfferEditForm(OfferForm):
    """Stock, tiers and validity of an existing offer (product, currency and start are fixed)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, products=[], **kwargs)
        for name in ("product", "currency", "valid_from"):
            del self.fields[name]


class OfferFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("Any")), *InputProduct.Kind.choices])
    country = forms.ChoiceField(label=_("Delivers in"), required=False)
    region = forms.CharField(label=_("Region"), required=False, max_length=100)
    quantity = BoundedIntegerField(domain="packs", min_value=1, label=_("Packs needed"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", _("Any")), *countries]


class QuoteForm(forms.Form):
    packs = BoundedIntegerField(domain="packs", min_value=1, label=_("Packs"))


LOT_ACTION_LABELS = {
    Lot.Status.LISTED: _("Mark listed"),
    Lot.Status.OPEN: _("Reopen"),
    Lot.Status.RESERVED: _("Mark reserved"),
    Lot.Status.SOLD: _("Mark sold"),
    Lot.Status.DISPATCHED: _("Mark dispatched"),
    Lot.Status.CLOSED: _("Close"),
}
