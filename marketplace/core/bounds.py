"""How big a number may be where it enters: the column's own range, narrowed by what makes sense in the domain.

One table serves serializer fields (marketplace.core.api.fields), form fields (marketplace.core.forms) and query
parameters (parsed by those same serializers or forms), so no limit is typed out per field:

    int_bounds(column=SupplierOffer._meta.get_field("stock_packs"), domain="packs")  ->  (0, 10_000_000)

The domain caps are chosen so that what the services compute from bounded inputs still fits a bigint: a line total
is at most MAX_GRAMS / 1000 kg x MAX_UNIT_PRICE minor units per kg (10^17), and an order holds at most MAX_LINES
lines (5 x 10^18 < 2^63).
"""

from decimal import Decimal

from django.db import models

SMALLINT = (-(2**15), 2**15 - 1)
INTEGER = (-(2**31), 2**31 - 1)
BIGINT = (-(2**63), 2**63 - 1)

# PostgreSQL's column ranges, by Django's internal field type.
COLUMN_RANGES: dict[str, tuple[int, int]] = {
    "SmallIntegerField": SMALLINT,
    "PositiveSmallIntegerField": (0, SMALLINT[1]),
    "IntegerField": INTEGER,
    "PositiveIntegerField": (0, INTEGER[1]),
    "BigIntegerField": BIGINT,
    "PositiveBigIntegerField": (0, BIGINT[1]),
    "SmallAutoField": (1, SMALLINT[1]),
    "AutoField": (1, INTEGER[1]),
    "BigAutoField": (1, BIGINT[1]),
}

MAX_GRAMS = 10**11  # 100,000 tonnes: more than any one lot, listing or order of produce
MAX_PACKS = 10**7  # ten million bags, bottles or tools in one offer or order
MAX_UNIT_PRICE = 10**9  # minor units per kg, tonne or pack (10 million USD; 1.5 million EUR worth of XOF)
MAX_AMOUNT = 10**15  # minor units: any one total, refund or payout
MAX_LINES = 50  # lines of one order or purchase
MAX_LIST = 200  # ids in one request (deliveries to bulk, lots to merge, certificates)

# Domain caps: (minimum, maximum) that make sense whatever the column could hold.
DOMAINS: dict[str, tuple[int, int]] = {
    "id": (1, BIGINT[1]),  # primary keys (BigAutoField)
    "grams": (0, MAX_GRAMS),
    "signed_grams": (-MAX_GRAMS, MAX_GRAMS),  # a negative quantity reaches the service, which says what to fix
    "packs": (0, MAX_PACKS),
    "bags": (0, 100_000),
    "unit_price": (0, MAX_UNIT_PRICE),
    "amount": (0, MAX_AMOUNT),
    "days": (0, 3_650),
    "basis_points": (0, 10_000),
    "percent": (0, 100),
    "year": (1900, 2100),
    "page": (1, 100_000),
    "page_size": (1, 200),
}


def column(model: type[models.Model], name: str) -> models.Field:
    return model._meta.get_field(name)


def column_range(field: models.Field) -> tuple[int, int]:
    kind = field.get_internal_type()
    if kind not in COLUMN_RANGES:
        raise TypeError(f"{field} is not an integer column ({kind}).")
    return COLUMN_RANGES[kind]


def int_bounds(
    *, column: models.Field | None = None, domain: str | None = None, min_value: int | None = None,
    max_value: int | None = None,
) -> tuple[int, int]:  # fmt: skip
    """The tightest (minimum, maximum) from a column's range, a domain cap and explicit limits.

    Without a column, the range is PostgreSQL's bigint, the widest integer the database stores.
    """
    low, high = column_range(column) if column is not None else BIGINT
    if domain is not None:
        d_low, d_high = DOMAINS[domain]
        low, high = max(low, d_low), min(high, d_high)
    if min_value is not None:
        low = max(low, min_value)
    if max_value is not None:
        high = min(high, max_value)
    if low > high:
        raise ValueError(f"Empty range {low}..{high} (column {column}, domain {domain}).")
    return low, high


def decimal_bounds(*, max_digits: int, decimal_places: int, minimum: Decimal | None = None,
                   maximum: Decimal | None = None) -> tuple[Decimal, Decimal]:  # fmt: skip
    """The range a DECIMAL(max_digits, decimal_places) column (or field) can hold, narrowed by explicit limits."""
    largest = Decimal(10) ** (max_digits - decimal_places) - Decimal(1).scaleb(-decimal_places)
    low, high = -largest, largest
    if minimum is not None:
        low = max(low, Decimal(minimum))
    if maximum is not None:
        high = min(high, Decimal(maximum))
    return low, high
