"""Serializer fields whose limits come from marketplace.core.bounds: the column's range and the domain's sense.

    stock_packs = BoundedIntegerField(column=column(SupplierOffer, "stock_packs"), domain="packs")
    product = IdField(help_text="...")

The OpenAPI schema states the same minimum and maximum, so a client built from it sends what the server accepts.
"""

from rest_framework import serializers

from marketplace.core.bounds import BIGINT, MAX_LIST, decimal_bounds, int_bounds

ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": BIGINT[1]}  # for OpenApiParameter(type=...)


class BoundedIntegerField(serializers.IntegerField):
    def __init__(self, *, column=None, domain: str | None = None, **kwargs):
        low, high = int_bounds(
            column=column,
            domain=domain,
            min_value=kwargs.pop("min_value", None),
            max_value=kwargs.pop("max_value", None),
        )
        super().__init__(min_value=low, max_value=high, **kwargs)


class IdField(BoundedIntegerField):
    """The id of a row (a BigAutoField): 1 up to the bigint maximum."""

    def __init__(self, **kwargs):
        kwargs.setdefault("domain", "id")
        super().__init__(**kwargs)


class BoundedDecimalField(serializers.DecimalField):
    """A decimal whose minimum and maximum are explicit (from max_digits unless narrower), so the schema says them."""

    def __init__(self, *, max_digits: int, decimal_places: int, **kwargs):
        low, high = decimal_bounds(
            max_digits=max_digits, decimal_places=decimal_places, minimum=kwargs.pop("min_value", None),
            maximum=kwargs.pop("max_value", None),
        )  # fmt: skip
        super().__init__(max_digits=max_digits, decimal_places=decimal_places, min_value=low, max_value=high, **kwargs)


def IdListField(**kwargs) -> serializers.ListField:
    """A list of ids, at most MAX_LIST of them."""
    kwargs.setdefault("max_length", MAX_LIST)
    return serializers.ListField(child=IdField(), **kwargs)
