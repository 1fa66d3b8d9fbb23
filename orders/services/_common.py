"""Helpers shared by the orders services: who the actor is on an order, field errors, dates."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from django.db import connection, models
from django.db.models import Q
from django.db.models.sql import InsertQuery
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext

from marketplace.core.errors import ValidationFailed
from marketplace.organisations.models import Organisation, User
from marketplace.organisations.roles import ROLE_RANK

BUYER, SELLER, OPERATOR, SYSTEM = "buyer", "seller", "operator", "system"


def insert_sql(model: type[models.Model], objs: list, returning: str) -> tuple[str, list]:
    """Django's own INSERT of `objs` (every concrete column; database defaults as DEFAULT, expressions compiled),
    with a RETURNING clause, to be a part of a larger statement."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key and not f.generated]
    query = InsertQuery(model)
    query.insert_values(fields, objs)
    [(sql, params)] = query.get_compiler(connection=connection).as_sql()
    return f"{sql} RETURNING {returning}", list(params)


def fail(fields: Mapping[str, Sequence[str] | str], *, code: str | None = None) -> None:
    """Raise one ValidationFailed naming every field that needs fixing, if any."""
    if not fields:
        return
    summary = " ".join(msgs if isinstance(msgs, str) else msgs[0] for msgs in fields.values())
    raise ValidationFailed(summary, fields=fields, code=code)


@dataclass(frozen=True)
class Acting:
    """How an actor stands towards one order: a side and the actor's role on it ('' for the system)."""

    side: str
    role: str
    organisation_id: int | None


def actor_sides(actor: User | None, *, buyer_id: int, seller_id: int) -> dict[str, Acting]:
    """The sides the actor can act on for an order between `buyer_id` and `seller_id` (one query).
    `None` is the system (beat tasks, the payments app)."""
    if actor is None:
        return {SYSTEM: Acting(SYSTEM, "", None)}
    if not actor.is_authenticated:
        return {}
    sides: dict[str, Acting] = {}
    rows = actor.memberships.filter(
        Q(organisation_id__in=[buyer_id, seller_id]) | Q(organisation__kind=Organisation.Kind.OPERATOR)
    ).values_list("organisation_id", "organisation__kind", "role")
    for organisation_id, kind, role in rows:
        if organisation_id == buyer_id:
            sides[BUYER] = Acting(BUYER, role, organisation_id)
        if organisation_id == seller_id:
            sides[SELLER] = Acting(SELLER, role, organisation_id)
        if kind == Organisation.Kind.OPERATOR:
            current = sides.get(OPERATOR)
            if current is None or ROLE_RANK[role] > ROLE_RANK[current.role]:
                sides[OPERATOR] = Acting(OPERATOR, role, organisation_id)
    return sides


def parse_day(value, field: str, errors: dict[str, str], *, default: date | None = None) -> date | None:
    """A date given as a date or an ISO string, not in the future."""
    if value in (None, ""):
        return default
    try:  # a well-formed but impossible date (9999-99-99) raises ValueError
        day = value if isinstance(value, date) else parse_date(str(value)) if isinstance(value, str) else None
    except ValueError:
        day = None
    if day is None:
        errors[field] = gettext("%(value)s is not a date; write it as YYYY-MM-DD.") % {"value": repr(value)}
        return None
    if day > timezone.localdate():
        errors[field] = gettext("%(day)s is in the future; give the day it happened.") % {"day": day.isoformat()}
        return None
    return day


def whole_number(value, field: str, errors: dict[str, str]) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            if isinstance(value, str) and value.strip().lstrip("-").isdigit():
                return int(value)
        except ValueError:
            pass
        errors[field] = gettext("%(value)s is not a whole number.") % {"value": repr(value)}
        return None
    return value
