"""Farmers' PINs: set by a clerk at the collection point, stored hashed, locked after 5 wrong tries in a row."""

from __future__ import annotations

import re
from enum import StrEnum

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone

from marketplace.channels.hashers import PIN_HASHER
from marketplace.channels.models import FarmerPin
from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.core.services import audit_record
from marketplace.organisations.models import MemberFarmer, User
from marketplace.organisations.roles import Capability
from marketplace.organisations.selectors import organisation_for
from marketplace.organisations.services import member_farmer_update

PIN_PATTERN = re.compile(r"\d{4}")
WEAK_PINS = {"1234", "4321", "0123", "9876"} | {d * 4 for d in "0123456789"}


class PinVerdict(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"  # locked now or before
    NOT_SET = "not_set"
    MALFORMED = "malformed"  # not 4 digits: not counted as a try


def _matches(pin: str, encoded: str) -> bool:
    if encoded.startswith(f"{PIN_HASHER.algorithm}$"):
        return PIN_HASHER.verify(pin, encoded)
    return check_password(pin, encoded)  # a hash made with another of Django's hashers


def farmer_pin_verify(*, farmer_id: int, pin: str) -> tuple[PinVerdict, int]:
    """Check a PIN under a row lock; returns the verdict and the tries left. A wrong PIN counts once."""
    pin = (pin or "").strip()
    if not PIN_PATTERN.fullmatch(pin):
        return PinVerdict.MALFORMED, 0
    with transaction.atomic():
        record = FarmerPin.objects.select_for_update().filter(farmer_id=farmer_id).first()
        if record is None:
            return PinVerdict.NOT_SET, 0
        if record.locked:
            return PinVerdict.LOCKED, 0
        if _matches(pin, record.pin_hash):
            if record.failed_attempts:
                record.failed_attempts = 0
                record.save(update_fields=["failed_attempts"])
            return PinVerdict.OK, FarmerPin.MAX_FAILURES
        record.failed_attempts += 1
        if record.failed_attempts >= FarmerPin.MAX_FAILURES:
            record.locked_at = timezone.now()
            record.save(update_fields=["failed_attempts", "locked_at"])
            farmer = MemberFarmer.objects.only("organisation_id").get(pk=farmer_id)
            audit_record(
                actor=None,
                action="farmer_pin.locked",
                subject=record,
                organisation_id=farmer.organisation_id,
                to_status="locked",
                data={"farmer": farmer_id},
            )
            return PinVerdict.LOCKED, 0
        record.save(update_fields=["failed_attempts"])
        return PinVerdict.WRONG, FarmerPin.MAX_FAILURES - record.failed_attempts


@transaction.atomic
def farmer_channel_update(
    *, actor: User, farmer_id: int, pin: str = "", pin_again: str = "", language=None
) -> MemberFarmer:
    """Set the member's PIN (and unlock it) and/or the member's language, for staff who record for the member's
    cooperative. The PIN itself is never stored or audited, only its hash."""
    farmer = MemberFarmer.objects.select_for_update().filter(pk=farmer_id).first()
    if farmer is None:
        raise NotFound("No such member farmer.")
    try:
        organisation_for(viewer=actor, organisation_id=farmer.organisation_id, capability=Capability.RECORD)
    except NotFound:
        raise NotFound("No such member farmer.") from None
    pin, pin_again = (pin or "").strip(), (pin_again or "").strip()
    if pin or pin_again:
        if not PIN_PATTERN.fullmatch(pin):
            raise ValidationFailed("The PIN is exactly 4 digits.", fields={"pin": "Enter 4 digits."})
        if pin in WEAK_PINS:
            raise ValidationFailed(
                "This PIN is too easy to guess; choose another.", fields={"pin": "Too easy to guess."}
            )
        if pin != pin_again:
            raise ValidationFailed("The two PINs differ.", fields={"pin_again": "Type the same PIN again."})
        record = FarmerPin.objects.select_for_update().filter(farmer=farmer).first()
        was_locked = bool(record and record.locked)
        if record is None:
            record = FarmerPin(farmer=farmer)
        record.pin_hash = make_password(pin, hasher=PIN_HASHER)
        record.failed_attempts = 0
        record.locked_at = None
        record.set_by = actor
        record.set_at = timezone.now()
        record.save()
        audit_record(
            actor=actor,
            action="farmer_pin.set",
            subject=record,
            organisation_id=farmer.organisation_id,
            data={"farmer": farmer.pk, "unlocked": was_locked},
        )
    if language is not None and language not in {"", *(code for code, _name in settings.LANGUAGES)}:
        raise ValidationFailed("Choose one of the offered languages.", fields={"language": "Unknown language."})
    if language is not None and language != farmer.language:
        farmer = member_farmer_update(actor=actor, farmer_id=farmer.pk, language=language)
    return farmer
