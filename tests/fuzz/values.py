"""Real values for the ids a generated request carries, from the fuzz world (tests/fuzz/world.py).

An id in a path, a query or a body names another row; a generated integer almost never names one that exists,
so the fuzzer would only ever see 404s and 400s. Each id-carrying value is replaced by a real one from the world,
except one value in four (chosen from the generated value itself, so the choice is deterministic), which keeps
the generated value so that the not-found and invalid branches still run. Nothing else in the request changes:
amounts, dates, texts and the shape of the body stay as generated from the schema."""

import datetime
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


def keep_generated(value) -> bool:
    return zlib.crc32(repr(value).encode()) % 4 == 0


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


def fill_path(case, role: str, world: dict) -> None:
    names = [part[1:-1] for part in case.operation.path.split("/") if part.startswith("{")]
    status = case.body.get("status") if isinstance(case.body, dict) else None
    for name, value in list((case.path_parameters or {}).items()):
        if keep_generated(value):
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


def fill_period(data: dict) -> dict:
    for start, end in PERIODS:
        if start in data and end in data and not keep_generated((data[start], data[end])):
            as_datetime = isinstance(data[start], str) and "T" in data[start]
            begin = datetime.datetime.now(datetime.UTC).replace(microsecond=0) + datetime.timedelta(minutes=5)
            finish = begin + datetime.timedelta(days=3)
            if as_datetime:
                return {**data, start: begin.isoformat(), end: finish.isoformat()}
            return {**data, start: begin.date().isoformat(), end: finish.date().isoformat()}
    return data


def fill_one_of(path: str, query: dict) -> dict:
    names = [name for name in ONE_OF.get(path.removeprefix(API), ()) if name in query]
    if len(names) < 2 or keep_generated(tuple(query[name] for name in names)):
        return query
    return {name: value for name, value in query.items() if name not in names[1:]}


def fill_fields(data, role: str, fields: dict, world: dict):
    """Walk a generated body (or query) and put real ids where its fields carry ids."""
    if isinstance(data, list):
        return [fill_fields(item, role, fields, world) for item in data]
    if not isinstance(data, dict):
        return data
    filled = {}
    for name, value in fill_period(data).items():
        real = None if keep_generated(value) else field_value(name, value, role, fields, world)
        filled[name] = real if real is not None else fill_fields(value, role, fields, world)
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
    if case.query:
        case.query = fill_fields(fill_one_of(case.operation.path, dict(case.query)), role, fields, world)
    if case.operation.path == f"{API}/auth/token/":
        fill_credentials(case, role, world)
    elif isinstance(case.body, dict | list):
        case.body = fill_fields(case.body, role, fields, world)
