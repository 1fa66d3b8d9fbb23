"""Reads of the market app; every read takes the viewer, and the public ones see published price points only
(house rule 2). Nothing here aggregates the orders: the figures come from the refreshed read models."""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Max, Sum
from django.utils import timezone
from django.utils.translation import gettext

from catalogue.models import Commodity, Grade, InputProduct, Packaging
from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.core.money import Money
from marketplace.market.ifpa import is_warning
from marketplace.market.models import InputPricePoint, PricePoint, Trade
from marketplace.market.units import PER_TONNE_GRAMS, QuotedUnit, price_for, quoted_unit
from marketplace.organisations.models import Organisation, User
from marketplace.organisations.roles import Capability
from marketplace.organisations.selectors import organisation_for

PERIODS = PricePoint.Period.values


@dataclass
class Point:
    period_start: date
    trades: int
    sellers: int
    tonnes: float
    per_tonne: Money
    per_unit: Money
    ifpa: float | None = None
    warning: bool = False


@dataclass
class GradeSeries:
    grade: Grade
    points: list[Point] = field(default_factory=list)

    @property
    def latest(self) -> Point | None:
        return self.points[-1] if self.points else None


@dataclass
class Series:
    commodity: Commodity
    country: str
    region: str
    currency: str
    period: str
    unit: QuotedUnit
    grades: list[GradeSeries] = field(default_factory=list)

    @property
    def warnings(self) -> list[GradeSeries]:
        return [g for g in self.grades if g.latest and g.latest.warning]


def _point(row: PricePoint | dict, currency: str, unit: QuotedUnit, today: date) -> Point:
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    amount, grams = get("total_amount"), get("total_grams")
    ifpa = get("ifpa")
    return Point(
        period_start=get("period_start"),
        trades=get("trades"),
        sellers=get("sellers"),
        tonnes=grams / PER_TONNE_GRAMS,
        per_tonne=Money(get("price_per_tonne"), currency),
        per_unit=Money(price_for(amount, grams, unit.grams), currency),
        ifpa=ifpa,
        warning=get("period") == PricePoint.Period.MONTH and is_warning(ifpa, get("period_start"), today),
    )


def _period(period: str) -> str:
    if period not in PERIODS:
        raise ValidationFailed(
            gettext("%(period)s is not a period; choose one of: %(periods)s.")
            % {"period": repr(period), "periods": ", ".join(PERIODS)},
            fields={"period": "week or month"},
        )
    return period


def market_overview(*, viewer: User | None = None, commodity_code: str = "", country: str = "") -> list[dict]:
    """Every published series (commodity, region, currency, grade) with its latest monthly point; two queries."""
    points = PricePoint.objects.filter(visible=True, period=PricePoint.Period.MONTH)
    if commodity_code:
        points = points.filter(commodity__code=commodity_code)
    if country:
        points = points.filter(country=country.upper())
    latest = (
        points.select_related("commodity", "grade")
        .order_by("commodity__name", "country", "region", "currency", "grade__rank", "grade_id", "-period_start")
        .distinct("commodity__name", "country", "region", "currency", "grade__rank", "grade_id")
    )
    today = timezone.localdate()
    rows = []
    for row in latest[:500]:
        unit = quoted_unit(row.country, row.commodity.code)
        rows.append({
            "commodity": row.commodity, "grade": row.grade, "country": row.country, "region": row.region,
            "currency": row.currency, "unit": unit, "latest": _point(row, row.currency, unit, today),
        })  # fmt: skip
    return rows


def market_filters(*, viewer: User | None = None) -> dict:
    """The commodities and countries that have published prices (for the filter form); one query."""
    pairs = (
        PricePoint.objects.filter(visible=True)
        .values_list("commodity__code", "commodity__name", "country")
        .distinct()
        .order_by("commodity__name", "country")
    )
    commodities: dict[str, str] = {}
    countries: set[str] = set()
    for code, name, country in pairs:
        commodities[code] = name
        countries.add(country)
    return {"commodities": sorted(commodities.items(), key=lambda kv: kv[1]), "countries": sorted(countries)}


def market_series(
    *, viewer: User | None = None, commodity_code: str, country: str, region: str = "", period: str = "month",
    currency: str = "", limit: int = 60,
) -> list[Series]:  # fmt: skip
    """The published price series of a commodity in a country (and region), one per region and currency, each
    with one line per grade; the last `limit` periods. Two queries."""
    period = _period(period)
    commodity = Commodity.objects.filter(code=commodity_code).first()
    if commodity is None:
        raise NotFound("No such commodity.")
    country = (country or "").upper()
    points = PricePoint.objects.filter(visible=True, period=period, commodity=commodity, country=country)
    if region:
        points = points.filter(region=region)
    if currency:
        points = points.filter(currency=currency.upper())
    rows = (
        points.select_related("grade")
        .order_by("region", "currency", "grade__rank", "grade_id", "-period_start")
        .values(
            "region", "currency", "grade_id", "grade__name", "grade__code", "grade__rank", "period", "period_start",
            "trades", "sellers", "total_amount", "total_grams", "price_per_tonne", "ifpa",
        )
    )  # fmt: skip
    today = timezone.localdate()
    unit = quoted_unit(country, commodity.code)
    series: dict[tuple[str, str], Series] = {}
    grades: dict[tuple[str, str, int], GradeSeries] = {}
    for row in rows:
        key = (row["region"], row["currency"])
        if key not in series:
            series[key] = Series(commodity, country, row["region"], row["currency"], period, unit)
        grade_key = (*key, row["grade_id"])
        if grade_key not in grades:
            grade = Grade(pk=row["grade_id"], name=row["grade__name"], code=row["grade__code"],
                          rank=row["grade__rank"], commodity=commodity)  # fmt: skip
            grades[grade_key] = GradeSeries(grade)
            series[key].grades.append(grades[grade_key])
        if len(grades[grade_key].points) < limit:
            grades[grade_key].points.append(_point(row, row["currency"], unit, today))
    for grade_series in grades.values():
        grade_series.points.reverse()
    return list(series.values())


def organisation_prices(*, viewer: User, organisation_id: int, period: str = "month", limit: int = 24) -> list[dict]:
    """A seller's own settled prices per commodity, grade, currency and period, next to the published market
    price of its region for the same cell (None where the market cell is hidden). Members of the seller only."""
    period = _period(period)
    organisation = organisation_for(viewer=viewer, organisation_id=organisation_id, capability=Capability.VIEW)
    if organisation.kind != Organisation.Kind.COOPERATIVE:
        raise NotFound("Only cooperatives sell produce here.")
    from django.db.models.functions import TruncMonth, TruncWeek

    trunc = TruncMonth if period == PricePoint.Period.MONTH else TruncWeek
    own = (
        Trade.objects.filter(seller=organisation)
        .annotate(start=trunc("traded_on"))
        .values("commodity_id", "commodity__name", "commodity__code", "grade_id", "grade__name", "grade__rank",
                "country", "region", "currency", "start")
        .annotate(amount=Sum("amount"), grams=Sum("grams"), trades=Count("order_id", distinct=True))
        .order_by("commodity__name", "grade__rank", "currency", "-start")
    )  # fmt: skip
    rows = list(own[: limit * 20])
    if not rows:
        return []
    starts = [row["start"] for row in rows]
    market = {
        (p.commodity_id, p.grade_id, p.country, p.region, p.currency, p.period_start): p
        for p in PricePoint.objects.filter(
            visible=True, period=period, commodity_id__in={r["commodity_id"] for r in rows},
            country=organisation.country.code, region=organisation.region, period_start__gte=min(starts),
        )
    }  # fmt: skip
    result = []
    for row in rows:
        unit = quoted_unit(row["country"], row["commodity__code"])
        point = market.get((row["commodity_id"], row["grade_id"], row["country"], row["region"], row["currency"],
                            row["start"]))  # fmt: skip
        result.append({
            "commodity": row["commodity__name"], "grade": row["grade__name"], "currency": row["currency"],
            "period_start": row["start"], "trades": row["trades"], "tonnes": row["grams"] / PER_TONNE_GRAMS,
            "unit": unit,
            "own_per_unit": Money(price_for(row["amount"], row["grams"], unit.grams), row["currency"]),
            "market_per_unit": (Money(price_for(point.total_amount, point.total_grams, unit.grams), row["currency"])
                                if point else None),
        })  # fmt: skip
    return result


def market_status(*, viewer: User | None = None) -> dict:
    """When the figures were last refreshed (shown on the pages)."""
    return PricePoint.objects.aggregate(refreshed_at=Max("refreshed_at"))


def price_alert_list(*, viewer: User, organisation_id: int):
    """The viewer's own alerts for one of its organisations."""
    from marketplace.market.models import PriceAlert

    organisation_for(viewer=viewer, organisation_id=organisation_id, capability=Capability.VIEW)
    return PriceAlert.objects.filter(user=viewer, organisation_id=organisation_id).select_related("commodity", "grade")


def grade_choices() -> list[tuple[int, str]]:
    return [
        (grade.pk, f"{grade.commodity.name} — {grade.name}")
        for grade in Grade.objects.select_related("commodity")
        .filter(commodity__is_active=True)
        .order_by("commodity__name", "rank")
    ]


# --- Input prices (completed group input orders) -----------------------------------------------------------------


@dataclass
class InputPoint:
    period_start: date
    trades: int
    sellers: int
    packs: int
    per_pack: Money


@dataclass
class InputSeries:
    product: InputProduct
    packaging: Packaging
    country: str
    region: str
    currency: str
    period: str
    points: list[InputPoint] = field(default_factory=list)

    @property
    def latest(self) -> InputPoint | None:
        return self.points[-1] if self.points else None


def _input_point(row: dict) -> InputPoint:
    return InputPoint(row["period_start"], row["trades"], row["sellers"], row["total_packs"],
                      Money(row["price_per_pack"], row["currency"]))  # fmt: skip


def input_market_overview(*, viewer: User | None = None, kind: str = "", country: str = "") -> list[InputSeries]:
    """Every published input series (product, pack, region, currency) with its latest monthly point; one query."""
    points = InputPricePoint.objects.filter(visible=True, period=PricePoint.Period.MONTH)
    if kind:
        points = points.filter(product__kind=kind)
    if country:
        points = points.filter(country=country.upper())
    latest = (
        points.select_related("product", "packaging")
        .order_by("product__name", "product_id", "packaging_id", "country", "region", "currency", "-period_start")
        .distinct("product__name", "product_id", "packaging_id", "country", "region", "currency")
    )
    result = []
    for row in latest[:500]:
        series = InputSeries(row.product, row.packaging, row.country, row.region, row.currency, row.period)
        series.points.append(InputPoint(row.period_start, row.trades, row.sellers, row.total_packs,
                                        Money(row.price_per_pack, row.currency)))  # fmt: skip
        result.append(series)
    return result


def input_market_series(
    *, viewer: User | None = None, product_id: int, country: str = "", region: str = "", period: str = "month",
    limit: int = 60,
) -> tuple[InputProduct, list[InputSeries]]:  # fmt: skip
    """The published price series of one input product, one per pack, country, region and currency; the last
    `limit` periods of each. Two queries."""
    period = _period(period)
    product = InputProduct.objects.select_related("packaging").filter(pk=product_id).first()
    if product is None:
        raise NotFound("No such input product.")
    points = InputPricePoint.objects.filter(visible=True, period=period, product=product)
    if country:
        points = points.filter(country=country.upper()[:2])
    if region:
        points = points.filter(region=region)
    rows = (
        points.order_by("packaging_id", "country", "region", "currency", "-period_start")
        .values("packaging_id", "country", "region", "currency", "period_start", "trades", "sellers",
                "total_packs", "price_per_pack")
    )  # fmt: skip
    rows = list(rows)
    packagings = {product.packaging_id: product.packaging}
    others = {row["packaging_id"] for row in rows} - set(packagings)
    if others:  # the product's pack changed over time: one more query
        packagings.update(Packaging.objects.in_bulk(others))
    series: dict[tuple, InputSeries] = {}
    for row in rows:
        key = (row["packaging_id"], row["country"], row["region"], row["currency"])
        if key not in series:
            series[key] = InputSeries(product, packagings[row["packaging_id"]], row["country"], row["region"],
                                      row["currency"], period)  # fmt: skip
        if len(series[key].points) < limit:
            series[key].points.append(_input_point(row))
    for item in series.values():
        item.points.reverse()
    return product, list(series.values())


def input_market_filters(*, viewer: User | None = None) -> dict:
    """The input kinds and countries that have published prices; one query."""
    pairs = InputPricePoint.objects.filter(visible=True).values_list("product__kind", "country").distinct()
    kinds, countries = set(), set()
    for kind, country in pairs:
        kinds.add(kind)
        countries.add(country)
    return {"kinds": [(k, label) for k, label in InputProduct.Kind.choices if k in kinds],
            "countries": sorted(countries)}  # fmt: skip


def input_market_status(*, viewer: User | None = None) -> dict:
    return InputPricePoint.objects.aggregate(refreshed_at=Max("refreshed_at"))


def saved_search_list(*, viewer: User):
    """The viewer's own saved searches, in organisations it still belongs to; one query."""
    from marketplace.market.models import SavedSearch
    from marketplace.organisations.selectors import _organisation_ids_with

    ids = list(_organisation_ids_with(viewer, Capability.VIEW))
    return SavedSearch.objects.filter(user=viewer, organisation_id__in=ids).select_related("commodity", "min_grade")
