"""Writes of the market app (house rule 1): the trade read model and the price aggregates.

Everything here is a refresh: idempotent, safe to run twice or concurrently (an advisory lock serialises the
refreshes), and run by Celery (`marketplace.market.tasks`) when an order completes and nightly, never per request.
"""

from collections import defaultdict
from collections.abc import Iterable

from django.db import connection, transaction
from django.utils import timezone

from catalogue.models import Grade, InputProduct, SupplierOffer
from marketplace.market.alerts import price_alerts_evaluate
from marketplace.market.ifpa import ifpa_series
from marketplace.market.models import MIN_SELLERS, MIN_TRADES, InputPricePoint, InputTrade, PricePoint, Trade
from marketplace.organisations.models import Organisation
from orders.models import Order, OrderLine, Receipt

# pg_advisory_xact_lock key of the market refresh ("mkt" in ASCII).
REFRESH_LOCK = 0x6D6B74

Series = tuple[int, int, str, str, str]  # commodity, grade, country, region, currency
InputSeries = tuple[int, int, str, str, str]  # input product, packaging, country, region, currency


def _lock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REFRESH_LOCK])


def _trades_insert_sql(where: str) -> str:
    """Completed produce order lines at their settled price: the amount due after receipt over the grams received,
    in the grade the goods arrived in, dated by the receipt; the seller's country and region."""
    return f"""
        INSERT INTO {Trade._meta.db_table}
            (order_id, line_id, seller_id, commodity_id, grade_id, country, region, currency, traded_on, amount, grams)
        SELECT o.id, l.id, o.seller_id, g.commodity_id, g.id, s.country, s.region, o.currency, r.received_on,
               l.amount_due, l.quantity_received
        FROM {OrderLine._meta.db_table} l
        JOIN {Order._meta.db_table} o ON o.id = l.order_id
        JOIN {Receipt._meta.db_table} r ON r.order_id = o.id
        JOIN {Organisation._meta.db_table} s ON s.id = o.seller_id
        JOIN {Grade._meta.db_table} g ON g.id = COALESCE(l.grade_received_id, l.grade_id)
        WHERE o.status = 'completed' AND o.kind = 'produce' AND l.listing_id IS NOT NULL
          AND l.quantity_received > 0 AND l.amount_due IS NOT NULL {where}
        ON CONFLICT (line_id) DO NOTHING
    """  # noqa: S608 (table names from the models; values are parameters)


# Price per tonne, rounded half-even once, in exact numeric arithmetic: n = amount x 1,000,000, d = grams.
_POINTS_SQL = """
    WITH cells AS (
        SELECT commodity_id, grade_id, country, region, currency, %s::text AS period,
               date_trunc(%s, traded_on::timestamp)::date AS period_start,
               COUNT(DISTINCT order_id) AS trades, COUNT(DISTINCT seller_id) AS sellers,
               SUM(amount) AS total_amount, SUM(grams) AS total_grams,
               SUM(amount)::numeric * 1000000 AS n, SUM(grams)::numeric AS d
        FROM {trades}
        WHERE TRUE {where}
        GROUP BY commodity_id, grade_id, country, region, currency, period_start
    )
    INSERT INTO {points}
        (commodity_id, grade_id, country, region, currency, period, period_start, trades, sellers, total_amount,
         total_grams, price_per_tonne, visible, refreshed_at)
    SELECT commodity_id, grade_id, country, region, currency, period, period_start, trades, sellers, total_amount,
           total_grams,
           (div(n, d) + CASE WHEN 2 * mod(n, d) > d OR (2 * mod(n, d) = d AND mod(div(n, d), 2) = 1)
                             THEN 1 ELSE 0 END)::bigint,
           trades >= {min_trades} AND sellers >= {min_sellers}, %s
    FROM cells
"""


def _points_sql(where: str) -> str:
    return _POINTS_SQL.format(
        trades=Trade._meta.db_table, points=PricePoint._meta.db_table, where=where, min_trades=MIN_TRADES,
        min_sellers=MIN_SELLERS,
    )  # fmt: skip


def _input_trades_insert_sql(where: str) -> str:
    """Completed group input orders (the escrow order of kind `group_inputs`) at their settled price: the amount
    due after receipt over the packs received, per input product and pack; dated by the receipt; the buying
    cooperative's country and region (where the inputs arrived); the seller is the supplier."""
    return f"""
        INSERT INTO {InputTrade._meta.db_table}
            (order_id, line_id, seller_id, product_id, packaging_id, country, region, currency, traded_on, amount,
             packs)
        SELECT o.id, l.id, o.seller_id, p.id, p.packaging_id, b.country, b.region, o.currency, r.received_on,
               l.amount_due, l.quantity_received
        FROM {OrderLine._meta.db_table} l
        JOIN {Order._meta.db_table} o ON o.id = l.order_id
        JOIN {Receipt._meta.db_table} r ON r.order_id = o.id
        JOIN {Organisation._meta.db_table} b ON b.id = o.buyer_id
        JOIN {SupplierOffer._meta.db_table} f ON f.id = l.offer_id
        JOIN {InputProduct._meta.db_table} p ON p.id = f.product_id
        WHERE o.status = 'completed' AND o.kind = 'group_inputs'
          AND l.quantity_received > 0 AND l.amount_due IS NOT NULL {where}
        ON CONFLICT (line_id) DO NOTHING
    """  # noqa: S608 (table names from the models; values are parameters)


# Price per pack, rounded half-even once: n = amount, d = packs.
_INPUT_POINTS_SQL = """
    WITH cells AS (
        SELECT product_id, packaging_id, country, region, currency, %s::text AS period,
               date_trunc(%s, traded_on::timestamp)::date AS period_start,
               COUNT(DISTINCT order_id) AS trades, COUNT(DISTINCT seller_id) AS sellers,
               SUM(amount) AS total_amount, SUM(packs) AS total_packs,
               SUM(amount)::numeric AS n, SUM(packs)::numeric AS d
        FROM {trades}
        WHERE TRUE {where}
        GROUP BY product_id, packaging_id, country, region, currency, period_start
    )
    INSERT INTO {points}
        (product_id, packaging_id, country, region, currency, period, period_start, trades, sellers, total_amount,
         total_packs, price_per_pack, visible, refreshed_at)
    SELECT product_id, packaging_id, country, region, currency, period, period_start, trades, sellers, total_amount,
           total_packs,
           (div(n, d) + CASE WHEN 2 * mod(n, d) > d OR (2 * mod(n, d) = d AND mod(div(n, d), 2) = 1)
                             THEN 1 ELSE 0 END)::bigint,
           trades >= {min_trades} AND sellers >= {min_sellers}, %s
    FROM cells
"""


def _series_where(series: list[Series], alias: str = "", first: str = "commodity_id",
                  second: str = "grade_id") -> tuple[str, list]:  # fmt: skip
    if not series:
        return "", []
    prefix = f"{alias}." if alias else ""
    clause = " OR ".join(
        f"({prefix}{first} = %s AND {prefix}{second} = %s AND {prefix}country = %s AND {prefix}region = %s "
        f"AND {prefix}currency = %s)"
        for _ in series
    )
    return f" AND ({clause})", [value for key in series for value in key]


def _ifpa_update(series: list[Series] | None) -> int:
    """Compute the IFPA of the published monthly points of these series (all when None)."""
    points = PricePoint.objects.filter(period=PricePoint.Period.MONTH, visible=True)
    if series is not None:
        wanted = set(series)
        commodity_ids = {key[0] for key in series}
        points = points.filter(commodity_id__in=commodity_ids)
    else:
        wanted = None
    grouped: dict[Series, dict] = defaultdict(dict)
    ids: dict[tuple[Series, object], int] = {}
    for pk, *key, start, price in points.values_list(
        "pk", "commodity_id", "grade_id", "country", "region", "currency", "period_start", "price_per_tonne"
    ):
        key = tuple(key)
        if wanted is not None and key not in wanted:
            continue
        grouped[key][start] = price
        ids[key, start] = pk
    changed = []
    for key, prices in grouped.items():
        for start, value in ifpa_series(prices).items():
            if value is not None:
                changed.append(PricePoint(pk=ids[key, start], ifpa=value))
    PricePoint.objects.bulk_update(changed, ["ifpa"], batch_size=2000)
    return len(changed)


def trades_sync(*, order_ids: Iterable[int] | None = None) -> int:
    """Add the trades of these completed orders (or rebuild them all); returns the number of trades added."""
    with connection.cursor() as cursor:
        if order_ids is None:
            cursor.execute(f"DELETE FROM {Trade._meta.db_table}")  # noqa: S608
            cursor.execute(_trades_insert_sql(""))
        else:
            cursor.execute(_trades_insert_sql("AND o.id = ANY(%s)"), [sorted(order_ids)])
        return cursor.rowcount


@transaction.atomic
def price_points_rebuild(*, series: list[Series] | None = None) -> int:
    """Rebuild the price points of these series (all when None) from the trades, then their IFPA."""
    if series is not None and not series:
        return 0
    where, params = _series_where(series or [])
    now = timezone.now()
    points = 0
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {PricePoint._meta.db_table} WHERE TRUE {where}", params)  # noqa: S608
        for period in PricePoint.Period.values:
            cursor.execute(_points_sql(where), [period, period, *params, now])
            points += cursor.rowcount
    _ifpa_update(series)
    price_alerts_evaluate(series=series)
    return points


def input_trades_sync(*, order_ids: Iterable[int] | None = None) -> int:
    """Add the input trades of these completed group input orders (or rebuild them all)."""
    with connection.cursor() as cursor:
        if order_ids is None:
            cursor.execute(f"DELETE FROM {InputTrade._meta.db_table}")  # noqa: S608
            cursor.execute(_input_trades_insert_sql(""))
        else:
            cursor.execute(_input_trades_insert_sql("AND o.id = ANY(%s)"), [sorted(order_ids)])
        return cursor.rowcount


@transaction.atomic
def input_price_points_rebuild(*, series: list[InputSeries] | None = None) -> int:
    """Rebuild the input price points of these series (all when None) from the input trades."""
    if series is not None and not series:
        return 0
    where, params = _series_where(series or [], first="product_id", second="packaging_id")
    sql = _INPUT_POINTS_SQL.format(
        trades=InputTrade._meta.db_table, points=InputPricePoint._meta.db_table, where=where, min_trades=MIN_TRADES,
        min_sellers=MIN_SELLERS,
    )  # fmt: skip
    now = timezone.now()
    points = 0
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {InputPricePoint._meta.db_table} WHERE TRUE {where}", params)  # noqa: S608
        for period in PricePoint.Period.values:
            cursor.execute(sql, [period, period, *params, now])
            points += cursor.rowcount
    return points


@transaction.atomic
def market_refresh(*, order_ids: Iterable[int] | None = None) -> dict:
    """Bring the trades and price points up to date.

    With `order_ids`, only those orders' trades are added and only the series they belong to are rebuilt (the
    task run when an order completes); without, everything is rebuilt from the orders (the nightly run).
    """
    _lock()
    if order_ids is None:
        trades = trades_sync() + input_trades_sync()
        return {"trades": trades, "points": price_points_rebuild() + input_price_points_rebuild()}
    ids = sorted({int(i) for i in order_ids})
    trades = trades_sync(order_ids=ids) + input_trades_sync(order_ids=ids)
    series = sorted(
        set(Trade.objects.filter(order_id__in=ids).values_list("commodity_id", "grade_id", "country", "region",
                                                               "currency"))
    )  # fmt: skip
    input_series = sorted(
        set(InputTrade.objects.filter(order_id__in=ids).values_list("product_id", "packaging_id", "country", "region",
                                                                    "currency"))
    )  # fmt: skip
    points = price_points_rebuild(series=series) if series else 0
    points += input_price_points_rebuild(series=input_series) if input_series else 0
    return {"trades": trades, "points": points}
