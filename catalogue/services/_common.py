"""Helpers shared by the catalogue's services: acting organisation checks, numbering and validation."""

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from catalogue.models import Location, NumberSequence, OrganisationCode
from marketplace.core.errors import PermissionDenied, ValidationFailed
from marketplace.core.quantities import from_base_units
from marketplace.organisations.models import Organisation, User
from marketplace.organisations.roles import Capability
from marketplace.organisations.selectors import organisation_for

KIND_NAMES = {
    Organisation.Kind.COOPERATIVE: "cooperatives",
    Organisation.Kind.INPUT_SUPPLIER: "input suppliers",
}


def acting_organisation(
    actor: User, organisation_id: int | str | None, capability: Capability, *, kind: str | None = None
) -> Organisation:
    """The organisation the actor acts for, checked through the organisations app; optionally of one kind."""
    organisation = organisation_for(viewer=actor, organisation_id=organisation_id, capability=capability)
    if kind is not None and organisation.kind != kind:
        raise ValidationFailed(
            gettext("Only %(kind)s can do this; %(name)s is a %(kind2)s.")
            % {"kind": KIND_NAMES.get(kind, kind), "name": organisation.name, "kind2": organisation.get_kind_display()},
            fields={"organisation": gettext("Act for one of your %(kind)s.") % {"kind": KIND_NAMES.get(kind, kind)}},
        )
    return organisation


def require_verified(organisation: Organisation, what: str) -> None:
    if organisation.verification_status != Organisation.Verification.VERIFIED:
        raise PermissionDenied(
            gettext(
                "%(name)s is not verified yet (%(verification_status)s); the platform "
                "operator must verify it before it can publish %(what)s."
            )
            % {
                "name": organisation.name,
                "verification_status": organisation.get_verification_status_display(),
                "what": what,
            }
        )


def fail(fields: Mapping[str, Sequence[str] | str], *, code: str | None = None) -> None:
    """Raise one ValidationFailed naming every field that needs fixing, if there is any."""
    if not fields:
        return
    summary = " ".join(msgs if isinstance(msgs, str) else msgs[0] for msgs in fields.values())
    raise ValidationFailed(summary, fields=fields, code=code)


def full_clean(instance, *, exclude: list[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        fields = error.message_dict
        raise ValidationFailed(
            "; ".join(f"{name}: {msgs[0]}" for name, msgs in fields.items()), fields=fields
        ) from None


def kg(grams: int) -> str:
    """Grams as a short kilogram figure for messages: 187500 -> '187.5 kg'."""
    value = from_base_units(grams, "KGM").normalize()
    return f"{value:,f} kg"


def check_not_future(day: date, field: str) -> str | None:
    if day > timezone.localdate():
        return gettext("%(day)s is in the future; give the day it happened.") % {"day": day.isoformat()}
    return None


def location_of(organisation: Organisation, location_id: int | None, *, purpose: str) -> Location | None:
    """One of the organisation's active locations that serves `purpose` ('collection' or 'storage')."""
    if location_id is None:
        return None
    location = Location.objects.filter(pk=location_id, organisation=organisation, is_active=True).first()
    if location is None:
        return None
    if purpose == "collection" and not location.is_collection_point:
        return None
    if purpose == "storage" and not location.is_warehouse:
        return None
    return location


# --- Codes and numbers ------------------------------------------------------------------

_STOPWORDS = {"de", "du", "des", "la", "le", "les", "et", "of", "the", "and", "d", "l", "y", "a"}


def derive_prefix(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()
    words = [w for w in re.split(r"[^A-Z0-9]+", ascii_name) if w and w.lower() not in _STOPWORDS]
    initials = "".join(w[0] for w in words)[:4]
    if len(initials) < 2:
        initials = (words[0] if words else "ORG")[:4]
    if not initials[0].isalpha():
        initials = "O" + initials[:3]
    return initials.ljust(2, "X")


def organisation_prefix(organisation: Organisation) -> str:
    """The organisation's code prefix, chosen from its name the first time it is needed."""
    existing = OrganisationCode.objects.filter(organisation=organisation).values_list("prefix", flat=True).first()
    if existing:
        return existing
    base = derive_prefix(organisation.display_name or organisation.legal_name)
    for candidate in [base, *(f"{base[:5]}{n}" for n in range(2, 1000))]:
        try:
            with transaction.atomic():
                OrganisationCode.objects.create(organisation=organisation, prefix=candidate)
            return candidate
        except IntegrityError:
            existing = (
                OrganisationCode.objects.filter(organisation=organisation).values_list("prefix", flat=True).first()
            )
            if existing:
                return existing
    raise ValidationFailed(gettext("Could not choose a code prefix for this organisation; set one in the admin."))


def next_number(organisation_id: int, scope: str, year: int) -> int:
    """Increment and return the counter in one statement; the row lock lasts until the caller commits."""
    table = NumberSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (organisation_id, scope, year, last_value) VALUES (%s, %s, %s, 1)
            ON CONFLICT (organisation_id, scope, year)
            DO UPDATE SET last_value = {table}.last_value + 1
            RETURNING last_value
            """,  # noqa: S608 (table name is ours)
            [organisation_id, scope, year],
        )
        return cursor.fetchone()[0]


def is_constraint_violation(error: IntegrityError, name: str) -> bool:
    cause = getattr(error, "__cause__", None)
    diag = getattr(cause, "diag", None)
    return getattr(diag, "constraint_name", None) == name or name in str(error)
