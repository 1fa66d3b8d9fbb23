"""Real values for the ids a generated request carries, from the fuzz world (tests/fuzz/world.py).

An id in a path, a query or a body names another row; a generated integer almost never names one that exists,
so the fuzzer would only ever see 404s and 400s. Each id-carrying value is replaced by a real one from the world;
in a case generated as invalid (negative), one value in four (chosen from the generated value itself, so the choice
is deterministic) keeps the generated value, so that the not-found and invalid branches still run. Beyond ids,
only what the schema cannot state is adjusted (periods, tiers, the relations of four creations: `RELATED`);
amounts, dates, texts and the shape of the body otherwise stay as generated from the schema."""

import datetime
import decimal
import zlib

API = "/api/v1"
# Pairs of fields that bound a period: the server wants the end after the start, in the future, and the period
# not too long (a vote, an ordering window, an offer's validity). OpenAPI 3.0 cannot state an order between two
# fields, so a generated pair is almost never valid; the pair is replaced by a real period (three requests in
# four), the rest of the body stays generated.
PERIODS = [
    ("opens_at", "closes_at"),
    ("window_start", "window_end"),
    ("valid_from", "valid_until"),
    ("available_from", "valid_until"),
]

# Query parameters of which exactly one is given (stated in the operation's description: OpenAPI 3.0 has no
# oneOf between parameters). A generated query that carries several keeps the first (three queries in four).
ONE_OF = {"/traceability/epcis/": ("lot", "order", "since")}


# Lists of objects whose order matters: the server wants price tiers to follow each other without gap or overlap
# and get no dearer (OpenAPI 3.0 cannot relate one item of an array to the next). A generated list is chained
# (three in four): each tier starts where the one before ends, only the last is open-ended, and its price is at
# most the one before; the numbers themselves stay as generated where they fit.
CHAINED = {"tiers"}

# Objects whose keys name rows: a purchase line's `grade_prices` is keyed by grade id (OpenAPI 3.0 has no
# propertyNames); the generated keys become the ids the world gives for that path under "<field>.keys" (three
# objects in four), the prices stay.
KEYED_BY_ID = {"grade_prices"}


def keep_generated(value) -> bool:
    return zlib.crc32(repr(value).encode()) % 4 == 0


def keep(positive: bool, value) -> bool:
    """Whether to keep a generated value: never in a case generated as valid (positive), so that each of the few
    valid draws reaches the view's logic with the world's objects; one in four in an invalid (negative) case, so
    that the not-found and invalid branches still run."""
    return not positive and keep_generated(value)


def pick(choices: list, value):
    if not choices:
        return None
    return choices[zlib.crc32(repr(value).encode()) % len(choices)]


def path_value(path: str, name: str, first: bool, role: str, world: dict, status=None):
    """The real value for a path parameter, or None to keep the generated one. `status`: the status a
    transition's body asks for, which picks the object in a state that status may follow."""
    key = path.removeprefix(API)
    if first and isinstance(status, str) and status in world["by_status"].get(key, {}):
        return world["by_status"][key][status]
    if first and key in world["by_operation"]:
        return world["by_operation"][key]
    segments = [s for s in key.split("/") if s]
    position = segments.index("{" + name + "}")
    collection = segments[position - 1]
    if name == "organisation_id" or collection == "organisations":
        return world["organisations"][role]
    if segments[0] == "group" and collection == "orders":
        return world["group_order"]
    own = world["ids_by_role"].get(role, {})
    return own[collection] if collection in own else world["ids"].get(collection)


def is_positive(case) -> bool:
    mode = getattr(getattr(getattr(case, "_meta", None), "generation", None), "mode", "")
    return str(mode).endswith("positive")


def fill_path(case, role: str, world: dict) -> None:
    names = [part[1:-1] for part in case.operation.path.split("/") if part.startswith("{")]
    status = case.body.get("status") if isinstance(case.body, dict) else None
    positive = is_positive(case)
    for name, value in list((case.path_parameters or {}).items()):
        if keep(positive, value):
            continue
        real = path_value(case.operation.path, name, name == names[0], role, world, status)
        if real is not None:
            case.path_parameters[name] = real


def field_value(name: str, value, role: str, fields: dict, world: dict):
    if name == "organisation":
        return world["organisations"][role]
    if name in fields:
        return pick(fields[name], value)
    return None


def fields_for(path: str, world: dict) -> dict:
    """The real values by field name; a few operations name rows differently (traceability by code or URI)."""
    fields = dict(world["fields"])
    for prefix, own in world["fields_by_path"].items():
        if path.removeprefix(API).startswith(prefix):
            fields.update(own)
    return fields


def fill_period(data: dict, positive: bool = False) -> dict:
    for start, end in PERIODS:
        if start in data and end in data and not keep(positive, (data[start], data[end])):
            as_datetime = isinstance(data[start], str) and "T" in data[start]
            begin = datetime.datetime.now(datetime.UTC).replace(microsecond=0) + datetime.timedelta(minutes=5)
            finish = begin + datetime.timedelta(days=3)
            if as_datetime:
                return {**data, start: begin.isoformat(), end: finish.isoformat()}
            return {**data, start: begin.date().isoformat(), end: finish.date().isoformat()}
    return data


def fill_one_of(path: str, query: dict, positive: bool = False) -> dict:
    names = [name for name in ONE_OF.get(path.removeprefix(API), ()) if name in query]
    if len(names) < 2 or keep(positive, tuple(query[name] for name in names)):
        return query
    return {name: value for name, value in query.items() if name not in names[1:]}


def chain_tiers(tiers: list, positive: bool = False) -> list:
    if not all(isinstance(t, dict) and isinstance(t.get("min_packs"), int) for t in tiers) or keep(positive, tiers):
        return tiers
    chained, start, price = [], 1, None
    for index, tier in enumerate(tiers):
        last = index == len(tiers) - 1
        end = tier.get("max_packs")
        end = end if isinstance(end, int) and end >= start else None if last else start
        tier = {**tier, "min_packs": start, "max_packs": end}
        if price is not None and "unit_price" in tier and _decimal(tier["unit_price"]) > _decimal(price):
            tier["unit_price"] = price
        price = tier.get("unit_price", price)
        chained.append(tier)
        if end is None:
            break
        start = end + 1
    return chained


def _decimal(value) -> decimal.Decimal:
    try:
        return decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        return decimal.Decimal(0)


def key_by_ids(data: dict, ids: list, positive: bool = False) -> dict:
    if keep(positive, tuple(data)) or not ids:
        return data
    return {str(real): value for real, value in zip(ids, data.values(), strict=False)}


def fill_fields(data, role: str, fields: dict, world: dict, positive: bool = False):
    """Walk a generated body (or query) and put real ids where its fields carry ids."""
    if isinstance(data, list):
        return [fill_fields(item, role, fields, world, positive) for item in data]
    if not isinstance(data, dict):
        return data
    filled = {}
    for name, value in fill_period(data, positive).items():
        if name in CHAINED and isinstance(value, list):
            value = chain_tiers(value, positive)
        if name in KEYED_BY_ID and isinstance(value, dict):
            filled[name] = key_by_ids(value, fields.get(f"{name}.keys", []), positive)
            continue
        real = None if keep(positive, value) else field_value(name, value, role, fields, world)
        filled[name] = real if real is not None else fill_fields(value, role, fields, world, positive)
    return filled


def fill_credentials(case, role: str, world: dict) -> None:
    """The token endpoint: the e-mail and password of the person the fuzzer acts as, always as a pair (a real
    e-mail with a generated password counts as a failed login, and the login throttle would lock the person)."""
    body = case.body
    if isinstance(body, dict) and not keep_generated(body.get("email")):
        case.body = {**body, "email": world["emails"][role], "password": world["password"]}


def fill(case, role: str, world: dict) -> None:
    fill_path(case, role, world)
    fields = fields_for(case.operation.path, world)
    positive = is_positive(case)
    if case.query:
        query = fill_one_of(case.operation.path, dict(case.query), positive)
        case.query = fill_fields(query, role, fields, world, positive)
    if case.operation.path == f"{API}/auth/token/":
        fill_credentials(case, role, world)
    elif isinstance(case.body, dict | list):
        case.body = fill_fields(case.body, role, fields, world, positive)
        case.body = relate(case.operation.method, case.operation.path, case.body, fields, positive)


# Creations whose valid body relates its fields to each other or to stored state (a lot's free stock, a grade's
# moisture limit, a listing's minimum order), which OpenAPI 3.0 cannot state. The generated body is adjusted (three
# bodies in four, every valid one): each value that breaks a relation is moved to the nearest value that keeps it
# (a quantity capped at the stock, a gross weight raised to the net, a price of 0 raised to 1), the world's own
# limits under "<field>.min" / "<field>.max" in `fields_by_path`; what fits stays as generated.
def _first(fields: dict, name: str):
    values = fields.get(name) or [None]
    return values[0]


def _as_generated(generated, amount: decimal.Decimal):
    """`amount` in the form the generated value had: a decimal string (the schema's decimals) or a number."""
    if isinstance(generated, int | float) and not isinstance(generated, bool):
        return int(amount) if amount == amount.to_integral_value() else float(amount)
    return format(amount.normalize(), "f") if amount else "0"


def _positive_decimal(value) -> decimal.Decimal | None:
    amount = _decimal(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else None
    return amount if amount is not None and amount.is_finite() and amount > 0 else None


def _past_date(value) -> str:
    """A delivery or receipt date: the generated one if it is a date up to today, else today."""
    today = datetime.date.today()
    try:
        day = datetime.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        day = None
    return value if day is not None and day <= today else today.isoformat()


def relate_delivery(body: dict, fields: dict) -> dict:
    """Net at most gross, a net weight or bags with their packaging, moisture within the grade's limit (and the
    lower grade's, when downgraded: the world's grades' lowest limit keeps both), the plot of an EUDR commodity,
    delivered up to today."""
    body = {**body}
    if not body.get("plot"):
        body["plot"] = _first(fields, "plot")
    limit = decimal.Decimal(_first(fields, "moisture_pct.max") or 100)
    moisture = _positive_decimal(body.get("moisture_pct")) or decimal.Decimal(0)
    if moisture > limit or _decimal(body.get("moisture_pct")) != moisture:
        body["moisture_pct"] = _as_generated(body.get("moisture_pct"), min(moisture, limit))
    bags = body.get("bags")
    if isinstance(bags, int) and bags > 0 and not body.get("packaging"):
        body["packaging"] = _first(fields, "packaging")
    by_bags = isinstance(bags, int) and bags > 0
    net, gross = _positive_decimal(body.get("net_weight_kg")), _positive_decimal(body.get("gross_weight_kg"))
    if net is None and not by_bags:
        net = gross or decimal.Decimal(100)
        body["net_weight_kg"] = _as_generated(body.get("net_weight_kg"), net)
    elif net is None:
        body.pop("net_weight_kg", None)  # the bags' net mass; absent rather than null, which a form cannot send
    if net is not None and gross is not None and gross < net:
        body["gross_weight_kg"] = body["net_weight_kg"]
    elif net is None or gross is None:
        body.pop("gross_weight_kg", None)  # net plus the bags' tare
    body["delivered_on"] = _past_date(body.get("delivered_on"))
    return body


def relate_listing(body: dict, fields: dict) -> dict:
    """The quantity within the lot's free stock, the minimum order at most the quantity, the pickup warehouse or
    the country and region delivered to by the terms, a price above 0 and whole (the world's currency is XOF),
    certifications among the cooperative's (none), a photo only as a file (none in a JSON body)."""
    body = {key: value for key, value in body.items() if key != "photo"}
    free = decimal.Decimal(_first(fields, "quantity_kg.max") or 1)
    quantity = min(_positive_decimal(body.get("quantity_kg")) or free, free)
    body["quantity_kg"] = _as_generated(body.get("quantity_kg"), quantity)
    minimum = min(_positive_decimal(body.get("min_order_kg")) or quantity, quantity)
    body["min_order_kg"] = _as_generated(body.get("min_order_kg"), minimum)
    body["price"] = _whole_price(body.get("price"))
    if body.get("delivery_terms") == "ex_warehouse":
        body["pickup_location"] = _first(fields, "pickup_location")
    elif body.get("delivery_terms") == "delivered":
        body["delivery_country"] = _first(fields, "delivery_country")
        if not isinstance(body.get("delivery_region"), str) or not body["delivery_region"].strip():
            body["delivery_region"] = _first(fields, "delivery_region")
    if not isinstance(body.get("title"), str) or not body["title"].strip():
        body["title"] = "Lot"
    body["certifications"] = []
    return body


MAX_WHOLE_PRICE = 10**6  # major units: under the price bound (10^9 minor units) in every currency


def _whole_price(value, ceiling: int = MAX_WHOLE_PRICE):
    amount = _positive_decimal(value) or decimal.Decimal(1)
    whole = decimal.Decimal(max(1, min(int(amount), ceiling)))
    return _as_generated(value, whole)


def relate_offer(body: dict, fields: dict) -> dict:
    """At least one region, each in a real country and named once; tier prices above 0, whole (a zero-decimal
    currency such as XOF takes no decimals), under the bound and no dearer than the tier before."""
    body = {**body}
    regions = [r for r in _items(body.get("regions")) if isinstance(r, dict)] or [{}]
    seen, kept = set(), []
    for region in regions:
        region = {**region, "country": _first(fields, "regions.country")}
        key = str(region.get("region", "")).strip()
        if key not in seen:
            seen.add(key)
            kept.append(region)
    body["regions"] = kept
    tiers = _items(body.get("tiers")) or [{"min_packs": 1, "unit_price": 1}]
    if all(isinstance(t, dict) for t in tiers):
        ceiling, priced = MAX_WHOLE_PRICE, []
        for tier in tiers:
            price = _whole_price(tier.get("unit_price"), ceiling)
            ceiling = int(_decimal(price))
            priced.append({**tier, "unit_price": price})
        body["tiers"] = priced
    return body


def relate_purchase(body: dict, fields: dict) -> dict:
    """At least one line, each naming the world's listing (not an offer as well), for a quantity between the
    listing's minimum order and its stock, with grade prices only for other grades, in minor units above 0; one
    listing is named once, so its first line stays."""
    lines = [line for line in _items(body.get("lines")) if isinstance(line, dict)] or [{}]
    line = {key: value for key, value in lines[0].items() if key != "offer"}
    line["listing"] = _first(fields, "listing")
    low, high = _first(fields, "quantity.min"), _first(fields, "quantity.max")
    quantity = line.get("quantity")
    quantity = quantity if isinstance(quantity, int) and not isinstance(quantity, bool) else low
    line["quantity"] = max(low, min(quantity, high))
    prices = line.get("grade_prices")
    if isinstance(prices, dict):
        other = {str(g) for g in fields.get("grade_prices.keys", [])} - {str(_first(fields, "listing.grade"))}
        line["grade_prices"] = {
            key: amount if isinstance(amount, int) and not isinstance(amount, bool) and amount > 0 else 1
            for key, amount in prices.items()
            if key in other
        }
    return {**body, "lines": [line]}


def _items(value) -> list:
    return value if isinstance(value, list) else []


RELATED = {
    "/organisations/{organisation_id}/deliveries/": relate_delivery,
    "/organisations/{organisation_id}/listings/": relate_listing,
    "/organisations/{organisation_id}/offers/": relate_offer,
    "/purchases/": relate_purchase,
}


def relate(method: str, path: str, body, fields: dict, positive: bool = False):
    adjust = RELATED.get(path.removeprefix(API)) if method.upper() == "POST" else None
    if adjust is None or not isinstance(body, dict) or keep(positive, tuple(body)):
        return body
    return adjust(body, fields)
