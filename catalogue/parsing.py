"""Turning what people type into domain values, with messages that say what to fix."""

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext

from catalogue.selectors.search import Near
from marketplace.core.bounds import MAX_UNIT_PRICE
from marketplace.core.errors import ValidationFailed
from marketplace.core.money import Money, minor_unit_exponent
from marketplace.core.quantities import to_base_units


def parse_money(value: Decimal | str | int, currency: str, *, field: str = "price") -> Money:
    """Major units to Money, refusing more decimals than the currency has (XOF has none, EUR two)."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(
            gettext("%(value)s is not a number.") % {"value": repr(value)}, fields={field: "Give a number."}
        ) from None
    if not amount.is_finite():
        raise ValidationFailed(
            gettext("%(value)s is not a number.") % {"value": repr(value)}, fields={field: "Give a number."}
        )
    exponent = minor_unit_exponent(currency)
    decimals = max(0, -int(amount.normalize().as_tuple().exponent)) if amount else 0
    if decimals > exponent:
        allowed = "whole numbers" if exponent == 0 else f"at most {exponent} decimals"
        raise ValidationFailed(
            gettext("%(currency)s prices take %(allowed)s; %(amount)s has more.")
            % {"currency": currency, "allowed": allowed, "amount": format(amount.normalize(), "f")},
            fields={
                field: gettext("%(currency)s prices take %(allowed)s.") % {"currency": currency, "allowed": allowed}
            },
        )
    money = Money.from_decimal(amount, currency)
    if not 0 <= money.amount <= MAX_UNIT_PRICE:
        limit = Money(MAX_UNIT_PRICE, currency).to_decimal()
        raise ValidationFailed(
            gettext("A price is between 0 and %(limit)s %(currency)s.")
            % {"limit": format(limit, "f"), "currency": currency},
            fields={
                field: gettext("At most %(limit)s %(currency)s.") % {"limit": format(limit, "f"), "currency": currency}
            },
        )
    return money


def listing_search_arguments(params: dict) -> dict:
    """Parsed search parameters (from the API or the catalogue page) as listing_search's arguments."""
    near = None
    if params.get("lat") is not None:
        near = Near(float(params["lat"]), float(params["lon"]), float(params["radius_km"]))
    max_price = None
    if params.get("max_price") is not None:
        max_price = parse_money(params["max_price"], params["currency"].upper(), field="max_price")
    min_quantity = params.get("min_quantity_kg")
    return {
        "commodity": params.get("commodity") or "",
        "min_grade": params.get("min_grade") or "",
        "country": params.get("country") or "",
        "region": params.get("region") or "",
        "near": near,
        "min_quantity_grams": to_base_units(min_quantity, "KGM") if min_quantity is not None else None,
        "max_price": max_price,
        "price_unit": params.get("price_unit") or "KGM",
        "certification": params.get("certification") or "",
        "available_on": params.get("available_on"),
        "ordering": params.get("ordering") or "",
    }


def offer_search_arguments(params: dict) -> dict:
    return {
        "product_id": params.get("product"),
        "kind": params.get("kind") or "",
        "crop": params.get("crop") or "",
        "country": params.get("country") or "",
        "region": params.get("region") or "",
        "quantity_packs": params.get("quantity"),
        "currency": params.get("currency") or "",
        "ordering": params.get("ordering") or "price",
    }
