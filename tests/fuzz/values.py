"""Real values for the ids a generated request carries, from the fuzz world (tests/fuzz/world.py).

An id in a path, a query or a body names another row; a generated integer almost never names one that exists,
so the fuzzer would only ever see 404s and 400s. Each id-carrying value is replaced by a real one from the world;
in a case generated as invalid (negative), one value in four (chosen from the generated value itself, so the choice
is deterministic) keeps the generated value, so that the not-found and invalid branches still run. Nothing else in
the request changes: amounts, dates, texts and the shape of the body stay as generated from the schema."""

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
