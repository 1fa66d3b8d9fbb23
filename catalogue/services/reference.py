"""Writes for an organisation's locations, certifications and code prefix."""

from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from catalogue.models import Certification, CooperativeTraceSettings, Location, OrganisationCode
from catalogue.services._common import acting_organisation, fail, full_clean
from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.core.services import audit_record
from marketplace.organisations.models import Organisation, User
from marketplace.organisations.roles import Capability

LOCATION_FIELDS = {"name", "is_collection_point", "is_warehouse", "country", "region", "latitude", "longitude"}


def _check_coordinates(latitude: Decimal | None, longitude: Decimal | None) -> None:
    errors: dict[str, str] = {}
    if (latitude is None) != (longitude is None):
        errors["latitude" if latitude is None else "longitude"] = gettext(
            "Give both latitude and longitude, or neither."
        )
    if latitude is not None and not -90 <= Decimal(latitude) <= 90:
        errors["latitude"] = gettext("Latitude %(latitude)s is outside -90 to 90.") % {"latitude": latitude}
    if longitude is not None and not -180 <= Decimal(longitude) <= 180:
        errors["longitude"] = gettext("Longitude %(longitude)s is outside -180 to 180.") % {"longitude": longitude}
    fail(errors)


@transaction.atomic
def location_create(*, actor: User, organisation_id: int, code: str, name: str, **fields) -> Location:
    """A collection point or warehouse of the organisation (managers and admins)."""
    organisation = acting_organisation(actor, organisation_id, Capability.DECIDE)
    unknown = set(fields) - LOCATION_FIELDS
    if unknown:
        raise ValidationFailed(gettext("Unknown fields: %(unknown)s.") % {"unknown": ", ".join(sorted(unknown))})
    fields.setdefault("country", organisation.country)
    location = Location(organisation=organisation, code=code, name=name, **fields)
    if not (location.is_collection_point or location.is_warehouse):
        fail({"is_warehouse": gettext("A location is a collection point, a warehouse, or both.")})
    _check_coordinates(location.latitude, location.longitude)
    full_clean(location, exclude=["organisation"])
    if Location.objects.filter(organisation=organisation, code=code).exists():
        fail({"code": gettext("Your organisation already has a location with code %(code)s.") % {"code": code}})
    location.save()
    audit_record(actor=actor, action="location.created", subject=location, organisation_id=organisation.pk)
    return location


@transaction.atomic
def collection_point_create(*, actor: User, organisation_id: int, name: str, region: str = "") -> Location:
    """A collection point added at the delivery form (clerks too): its code comes from its name."""
    from django.utils.text import slugify

    organisation = acting_organisation(actor, organisation_id, Capability.RECORD)
    name = (name or "").strip()
    if not name:
        fail({"name": gettext("Give the collection point a name.")})
    base = slugify(name)[:34] or "point"
    taken = set(
        Location.objects.filter(organisation=organisation, code__startswith=base).values_list("code", flat=True)
    )
    code = base if base not in taken else next(f"{base}-{n}" for n in range(2, 10_000) if f"{base}-{n}" not in taken)
    location = Location(organisation=organisation, code=code, name=name, region=region.strip(),
                        country=organisation.country, is_collection_point=True)  # fmt: skip
    full_clean(location, exclude=["organisation"])
    location.save()
    audit_record(actor=actor, action="location.created", subject=location, organisation_id=organisation.pk)
    return location


@transaction.atomic
def location_update(*, actor: User, location_id: int, **fields) -> Location:
    location = Location.objects.select_for_update().filter(pk=location_id).first()
    if location is None:
        raise NotFound(gettext("No such location."))
    try:
        acting_organisation(actor, location.organisation_id, Capability.DECIDE)
    except NotFound:
        raise NotFound(gettext("No such location.")) from None
    unknown = set(fields) - (LOCATION_FIELDS | {"is_active"})
    if unknown:
        raise ValidationFailed(
            gettext("These fields cannot be changed here: %(unknown)s.") % {"unknown": ", ".join(sorted(unknown))}
        )
    for name, value in fields.items():
        setattr(location, name, value)
    if not (location.is_collection_point or location.is_warehouse):
        fail({"is_warehouse": gettext("A location is a collection point, a warehouse, or both.")})
    _check_coordinates(location.latitude, location.longitude)
    full_clean(location, exclude=["organisation"])
    location.save()
    audit_record(
        actor=actor, action="location.updated", subject=location, organisation_id=location.organisation_id,
        data={"fields": sorted(fields)},
    )  # fmt: skip
    return location


@transaction.atomic
def certification_create(
    *,
    actor: User,
    organisation_id: int,
    scheme: str,
    certificate_number: str,
    valid_from: date,
    valid_until: date,
    certifying_body: str = "",
) -> Certification:
    """Record a certificate the organisation holds (managers and admins)."""
    organisation = acting_organisation(actor, organisation_id, Capability.DECIDE)
    errors: dict[str, str] = {}
    if scheme not in Certification.Scheme.values:
        errors["scheme"] = gettext("Choose one of: %(choices)s.") % {"choices": ", ".join(Certification.Scheme.values)}
    if not certificate_number.strip():
        errors["certificate_number"] = gettext("Give the certificate number.")
    if valid_until < valid_from:
        errors["valid_until"] = gettext(
            "The certificate cannot end (%(valid_until)s) before it starts (%(valid_from)s)."
        ) % {"valid_until": valid_until.isoformat(), "valid_from": valid_from.isoformat()}
    fail(errors)
    certification = Certification(
        organisation=organisation,
        scheme=scheme,
        certificate_number=certificate_number.strip(),
        certifying_body=certifying_body,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    full_clean(certification, exclude=["organisation"])
    try:
        with transaction.atomic():
            certification.save()
    except IntegrityError:
        fail({"certificate_number": gettext("This certificate is already recorded for your organisation.")})
    audit_record(
        actor=actor, action="certification.created", subject=certification, organisation_id=organisation.pk,
        data={"scheme": scheme, "valid_from": valid_from.isoformat(), "valid_until": valid_until.isoformat()},
    )  # fmt: skip
    return certification


@transaction.atomic
def organisation_code_set(*, actor: User, organisation_id: int, prefix: str) -> OrganisationCode:
    """Choose the prefix of the organisation's receipt numbers and lot codes; existing codes keep theirs."""
    organisation = acting_organisation(actor, organisation_id, Capability.DECIDE)
    prefix = prefix.strip().upper()
    code = OrganisationCode.objects.select_for_update().filter(organisation=organisation).first()
    before = code.prefix if code else ""
    code = code or OrganisationCode(organisation=organisation)
    code.prefix = prefix
    full_clean(code, exclude=["organisation"])
    if OrganisationCode.objects.filter(prefix=prefix).exclude(organisation=organisation).exists():
        fail({"prefix": gettext("%(prefix)s is used by another organisation; choose another.") % {"prefix": prefix}})
    code.save()
    audit_record(
        actor=actor, action="organisation_code.set", subject=code, organisation_id=organisation.pk,
        data={"before": before, "after": prefix},
    )  # fmt: skip
    return code


@transaction.atomic
def trace_settings_update(*, actor: User, organisation_id: int, show_producers: bool) -> CooperativeTraceSettings:
    """Choose whether the public trace pages of the cooperative's lots name its members and show their plots
    (managers and admins). Off by default: members stay anonymous and plots are shown as regions."""
    organisation = acting_organisation(actor, organisation_id, Capability.DECIDE, kind=Organisation.Kind.COOPERATIVE)
    if not isinstance(show_producers, bool):
        fail({"show_producers": gettext("Say yes or no.")})
    current, _ = CooperativeTraceSettings.objects.select_for_update().get_or_create(organisation=organisation)
    before = current.show_producers
    current.show_producers = show_producers
    current.updated_by = actor
    current.save()
    audit_record(
        actor=actor, action="trace_settings.updated", subject=current, organisation_id=organisation.pk,
        data={"show_producers": {"from": before, "to": show_producers}},
    )  # fmt: skip
    return current
