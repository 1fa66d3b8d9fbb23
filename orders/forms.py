"""Input parsing for the order pages: quantities in kilograms or packs, amounts in major units."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace.core.errors import ValidationFailed
from marketplace.core.money import Money
from marketplace.core.quantities import to_base_units
from marketplace.organisations.forms import PageForm


class BasketAddForm(PageForm):
    listing = forms.IntegerField(widget=forms.HiddenInput)
    quantity_kg = forms.DecimalField(
        label=_("Quantity (kg)"), min_value=Decimal("0.001"), max_digits=14, decimal_places=3
    )

    def grams(self) -> int:
        return to_base_units(self.cleaned_data["quantity_kg"], "KGM")


def parse_quantity(value: str, unit: str, field: str) -> int:
    """A quantity typed on a page: kilograms (to grams) for produce, whole packs for inputs."""
    text = (value or "").strip().replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed(f"{value!r} is not a number.", fields={field: "Give a number."}) from None
    if not number.is_finite():
        raise ValidationFailed(f"{value!r} is not a number.", fields={field: "Give a number."})
    if unit == "H87":
        if number != number.to_integral_value():
            raise ValidationFailed("Give whole packs.", fields={field: "Whole packs only."})
        return int(number)
    return to_base_units(number, "KGM")


def parse_amount(value: str, currency: str, field: str) -> int | None:
    text = (value or "").strip().replace(" ", "").replace(",", "")
    if not text:
        return None
    try:
        return Money.from_decimal(Decimal(text), currency).amount
    except InvalidOperation:
        raise ValidationFailed(f"{value!r} is not an amount.", fields={field: "Give an amount."}) from None
