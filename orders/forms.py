"""Input parsing for the order pages: quantities in kilograms or packs, amounts in major units."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from marketplace.core.bounds import MAX_GRAMS, int_bounds
from marketplace.core.errors import ValidationFailed
from marketplace.core.forms import IdField
from marketplace.core.money import Money
from marketplace.core.quantities import to_base_units
from marketplace.organisations.forms import PageForm


class BasketAddForm(PageForm):
    listing = IdField(widget=forms.HiddenInput)
    quantity_kg = forms.DecimalField(
        label=_("Quantity (kg)"), min_value=Decimal("0.001"), max_value=Decimal(MAX_GRAMS) / 1000, max_digits=14,
        decimal_places=3,
    )  # fmt: skip

    def grams(self) -> int:
        return to_base_units(self.cleaned_data["quantity_kg"], "KGM")


def parse_quantity(value: str, unit: str, field: str) -> int:
    """A quantity typed on a page: kilograms (to grams) for produce, whole packs for inputs."""
    text = (value or "").strip().replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed(
            gettext("%(value)s is not a number.") % {"value": repr(value)}, fields={field: gettext("Give a number.")}
        ) from None
    if not number.is_finite():
        raise ValidationFailed(
            gettext("%(value)s is not a number.") % {"value": repr(value)}, fields={field: gettext("Give a number.")}
        )
    if abs(number) > MAX_GRAMS:
        raise ValidationFailed(
            gettext("%(value)s is too large.") % {"value": repr(value)},
            fields={field: gettext("Give at most %(max_grams)s.") % {"max_grams": format(MAX_GRAMS, ",")}},
        )
    if unit == "H87":
        if number != number.to_integral_value():
            raise ValidationFailed(gettext("Give whole packs."), fields={field: gettext("Whole packs only.")})
        return _bounded(int(number), "packs", field)
    return _bounded(to_base_units(number, "KGM"), "signed_grams", field)


def _bounded(value: int, domain: str, field: str) -> int:
    low, high = int_bounds(domain=domain)
    if not low <= value <= high:
        raise ValidationFailed(
            gettext("%(value)s is out of range.") % {"value": format(value, ",")},
            fields={field: gettext("Give at most %(high)s.") % {"high": format(high, ",")}},
        )
    return value


def grade_id(value: str) -> int:
    """A grade id typed or chosen on a page; -1 (no such grade, which the service names) when it is not an id."""
    try:
        return IdField().clean(value)
    except forms.ValidationError:
        return -1


def parse_amount(value: str, currency: str, field: str) -> int | None:
    text = (value or "").strip().replace(" ", "").replace(",", "")
    if not text:
        return None
    try:
        amount = Money.from_decimal(Decimal(text), currency).amount
    except (InvalidOperation, ValueError):
        raise ValidationFailed(
            gettext("%(value)s is not an amount.") % {"value": repr(value)}, fields={field: gettext("Give an amount.")}
        ) from None
    return _bounded(amount, "amount", field)
