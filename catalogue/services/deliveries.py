"""Member deliveries at collection points: recording, reversing, and the farmer's SMS receipt."""

import uuid
from datetime import date
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from catalogue.models import Commodity, Delivery, DeliveryReceiptSms, Grade, LotIntake, Packaging
from catalogue.services._common import (
    acting_organisation,
    check_not_future,
    fail,
    is_constraint_violation,
    kg,
    location_of,
    next_number,
    organisation_prefix,
)
from catalogue.tracing import delivery_reversal_traced, delivery_traced
from marketplace.core import outbox
from marketplace.core.errors import Conflict, NotFound
from marketplace.core.services import audit_record
from marketplace.core.sms import send_sms
from marketplace.organisations.models import MemberFarmer, Organisation, Plot, User
from marketplace.organisations.roles import Capability


def _receipt_number(organisation: Organisation, day: date) -> str:
    year = day.year
    return f"{organisation_prefix(organisation)}-{year}-R{next_number(organisation.pk, 'receipt', year):06d}"


def _moisture(value) -> tuple[Decimal | None, str | None]:
    try:
        moisture = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None, gettext("Give the moisture as a number of percent, e.g. 7.5.")
    if not moisture.is_finite() or moisture < 0 or moisture > 100:
        return None, gettext("Moisture is a percentage between 0 and 100; %(value)s is not.") % {"value": value}
    if moisture.as_tuple().exponent < -2:  # type: ignore[operator]
        return None, gettext("Give the moisture with at most 2 decimals.")
    return moisture, None


def _fmt_pct(value: Decimal) -> str:
    return f"{value.normalize():f} %"


def _grade_after_moisture(
    grade: Grade, moisture: Decimal, downgrade_to: Grade | None, errors: dict[str, str]
) -> tuple[Grade, Grade | None]:
    """The grade the delivery is recorded at, and the declared grade it was downgraded from (if any)."""
    if downgrade_to is not None:
        if downgrade_to.commodity_id != grade.commodity_id:
            errors["downgrade_to"] = gettext("%(downgrade_to)s is a grade of another commodity than %(grade)s.") % {
                "downgrade_to": downgrade_to,
                "grade": grade,
            }
            return grade, None
        if downgrade_to.rank <= grade.rank:
            errors["downgrade_to"] = gettext(
                "A downgrade goes to a lower grade than %(grade)s; %(downgrade_to)s is not."
            ) % {"grade": grade.name, "downgrade_to": downgrade_to.name}
            return grade, None
        limit = downgrade_to.max_moisture_pct
        if limit is not None and moisture > limit:
            errors["moisture_pct"] = gettext(
                "Moisture %(moisture)s is above the %(limit)s limit of %(grade)s too. Dry the produce and weigh it "
                "again."
            ) % {"moisture": _fmt_pct(moisture), "limit": _fmt_pct(limit), "grade": downgrade_to.name}
        return downgrade_to, grade
    limit = grade.max_moisture_pct
    if limit is not None and moisture > limit:
        lower = [
            g
            for g in Grade.objects.filter(commodity_id=grade.commodity_id, rank__gt=grade.rank).order_by("rank")
            if g.max_moisture_pct is None or moisture <= g.max_moisture_pct
        ]
        values = {"moisture": _fmt_pct(moisture), "limit": _fmt_pct(limit), "grade": grade.name}
        if not lower:
            message = gettext(
                "Moisture %(moisture)s is above the %(limit)s limit of %(grade)s. Dry the produce and weigh it again."
            )
        elif lower[0].max_moisture_pct is None:
            message = gettext(
                "Moisture %(moisture)s is above the %(limit)s limit of %(grade)s. Dry the produce and weigh it again "
                "or record a downgrade to %(lower)s."
            )
            values["lower"] = lower[0].name
        else:
            message = gettext(
                "Moisture %(moisture)s is above the %(limit)s limit of %(grade)s. Dry the produce and weigh it again "
                "or record a downgrade to %(lower)s (limit %(lower_limit)s)."
            )
            values.update(lower=lower[0].name, lower_limit=_fmt_pct(lower[0].max_moisture_pct))
        errors["moisture_pct"] = message % values
    return grade, None


@transaction.atomic
def delivery_record(
    *,
    actor: User,
    organisation_id: int,
    collection_point_id: int,
    farmer_id: int,
    commodity_id: int,
    grade_id: int,
    moisture_pct: Decimal | str,
    plot_id: int | None = None,
    net_grams: int | None = None,
    gross_grams: int | None = None,
    bag_count: int = 0,
    packaging_id: int | None = None,
    downgrade_to_grade_id: int | None = None,
    delivered_on: date | None = None,
    client_reference: uuid.UUID | None = None,
) -> Delivery:
    """A clerk records a member's delivery. Give the net weight in grams, or the number of bags and a packaging
    with a declared net mass (the net weight is then bags x net mass). A resubmission with the same
    `client_reference` returns the first delivery (its `replayed` attribute is True) instead of recording twice."""
    organisation = acting_organisation(actor, organisation_id, Capability.RECORD, kind=Organisation.Kind.COOPERATIVE)
    if client_reference is not None:
        existing = _replay(organisation, client_reference, farmer_id)
        if existing is not None:
            return existing

    errors: dict[str, str] = {}
    point = location_of(organisation, collection_point_id, purpose="collection")
    if point is None:
        errors["collection_point"] = gettext("Choose one of your cooperative's active collection points.")
    farmer = MemberFarmer.objects.filter(pk=farmer_id, organisation=organisation).first()
    if farmer is None:
        errors["farmer"] = gettext("Choose a member of your cooperative.")
    elif farmer.status != MemberFarmer.Status.ACTIVE:
        errors["farmer"] = gettext("%(name)s is %(status)s; only active members deliver.") % {
            "name": farmer.name,
            "status": farmer.get_status_display().lower(),
        }
    commodity = Commodity.objects.filter(pk=commodity_id, is_active=True).first()
    if commodity is None:
        errors["commodity"] = gettext("Choose a commodity from the list.")
    grade = Grade.objects.select_related("commodity").filter(pk=grade_id).first()
    if grade is None:
        errors["grade"] = gettext("Choose a grade from the list.")
    elif commodity is not None and grade.commodity_id != commodity.pk:
        errors["grade"] = gettext("%(grade)s is a grade of %(grade_commodity)s, not of %(commodity)s.") % {
            "grade": grade.name,
            "grade_commodity": grade.commodity.name,
            "commodity": commodity.name,
        }
    plot = None
    if plot_id is not None:
        plot = Plot.objects.filter(pk=plot_id, farmer_id=farmer_id, organisation=organisation).first()
        if plot is None:
            errors["plot"] = gettext("Choose one of this member's plots.")
    elif commodity is not None and commodity.eudr_relevant:
        errors["plot"] = gettext(
            "%(commodity)s falls under the EU Deforestation Regulation: choose the plot it was grown on (register "
            "the plot first if it is missing)."
        ) % {"commodity": commodity.name}
    packaging = None
    if packaging_id is not None:
        packaging = Packaging.objects.filter(pk=packaging_id).first()
        if packaging is None or not packaging.is_mass:
            errors["packaging"] = gettext("Choose a bag or unit with a declared net mass.")
            packaging = None
    if not isinstance(bag_count, int) or bag_count < 0:
        errors["bag_count"] = gettext("The number of bags is a whole number, 0 or more.")
        bag_count = 0
    elif bag_count > 0 and packaging_id is None:
        errors["packaging"] = gettext("Say which bags these are, so that their declared net mass is known.")

    if net_grams is None and "packaging" not in errors:
        if bag_count > 0 and packaging is not None:
            net_grams = bag_count * packaging.net_mass_grams
        else:
            errors["net_weight"] = gettext("Give the net weight in kg, or the number of bags and their packaging.")
    if net_grams is not None and net_grams <= 0:
        errors["net_weight"] = gettext("The net weight must be more than 0 kg; %(net)s is not.") % {
            "net": kg(net_grams)
        }
    if gross_grams is None and net_grams is not None:
        gross_grams = net_grams + bag_count * (packaging.tare_grams if packaging else 0)
    if gross_grams is not None and gross_grams <= 0:
        errors["gross_weight"] = gettext("The gross weight must be more than 0 kg; %(gross)s is not.") % {
            "gross": kg(gross_grams)
        }
    elif gross_grams is not None and net_grams is not None and net_grams > 0 and gross_grams < net_grams:
        errors["gross_weight"] = gettext("The gross weight (%(gross)s) cannot be less than the net (%(net)s).") % {
            "gross": kg(gross_grams),
            "net": kg(net_grams),
        }

    moisture, moisture_error = _moisture(moisture_pct)
    if moisture_error:
        errors["moisture_pct"] = moisture_error
    delivered_on = delivered_on or timezone.localdate()
    future = check_not_future(delivered_on, "delivered_on")
    if future:
        errors["delivered_on"] = future

    downgraded_from = None
    if grade is not None and moisture is not None and "grade" not in errors:
        downgrade_to = None
        if downgrade_to_grade_id is not None:
            downgrade_to = Grade.objects.filter(pk=downgrade_to_grade_id).first()
            if downgrade_to is None:
                errors["downgrade_to"] = gettext("Choose a grade from the list.")
        if "downgrade_to" not in errors:
            grade, downgraded_from = _grade_after_moisture(grade, moisture, downgrade_to, errors)
    fail(errors)

    delivery = Delivery(
        organisation=organisation,
        kind=Delivery.Kind.DELIVERY,
        client_reference=client_reference,
        collection_point=point,
        farmer=farmer,
        plot=plot,
        commodity=commodity,
        grade=grade,
        downgraded_from=downgraded_from,
        packaging=packaging,
        bag_count=bag_count,
        gross_grams=gross_grams,
        net_grams=net_grams,
        moisture_pct=moisture,
        delivered_on=delivered_on,
        recorded_by=actor,
    )
    try:
        with transaction.atomic():
            delivery.receipt_number = _receipt_number(organisation, delivered_on)
            delivery.save()
    except IntegrityError as error:
        if client_reference is not None and is_constraint_violation(error, "delivery_client_reference_unique"):
            existing = _replay(organisation, client_reference, farmer_id)
            if existing is not None:
                return existing
        raise
    delivery.replayed = False
    delivery_traced(actor=actor, organisation=organisation, delivery=delivery)
    audit_record(
        actor=actor,
        action="delivery.recorded",
        subject=delivery,
        organisation_id=organisation.pk,
        data={
            "receipt_number": delivery.receipt_number,
            "farmer": farmer.pk,
            "net_grams": net_grams,
            "grade": grade.code,
            "downgraded_from": downgraded_from.code if downgraded_from else None,
        },
    )
    _schedule_receipt_sms(delivery.pk)
    return delivery


def _replay(organisation: Organisation, client_reference: uuid.UUID, farmer_id: int) -> Delivery | None:
    existing = Delivery.objects.filter(organisation=organisation, client_reference=client_reference).first()
    if existing is None:
        return None
    if existing.farmer_id != farmer_id:
        raise Conflict(
            gettext(
                "This form was already used to record a delivery for another member; reload the form to start a new "
                "one."
            ),
            fields={"client_reference": gettext("Already used.")},
        )
    existing.replayed = True
    return existing


def _schedule_receipt_sms(delivery_id: int) -> None:
    from catalogue.tasks import send_delivery_receipt_sms

    outbox.enqueue(send_delivery_receipt_sms, args=[delivery_id], key=f"delivery-receipt-sms:{delivery_id}")


@transaction.atomic
def delivery_reverse(*, actor: User, delivery_id: int, reason: str) -> Delivery:
    """Correct a mistaken delivery with an entry that carries its negated quantities and names it."""
    original = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
    if original is None:
        raise NotFound(gettext("No such delivery."))
    try:
        organisation = acting_organisation(actor, original.organisation_id, Capability.RECORD)
    except NotFound:
        raise NotFound(gettext("No such delivery.")) from None
    if not reason.strip():
        fail({"reason": gettext("Say what was wrong with the delivery.")})
    if original.kind != Delivery.Kind.DELIVERY:
        raise Conflict(
            gettext("%(receipt_number)s is itself a reversal; it cannot be reversed.")
            % {"receipt_number": original.receipt_number}
        )
    if Delivery.objects.filter(reverses=original).exists():
        raise Conflict(
            gettext("%(receipt_number)s has already been reversed.") % {"receipt_number": original.receipt_number}
        )
    intake = LotIntake.objects.select_related("lot").filter(delivery=original).first()
    if intake is not None:
        raise Conflict(
            gettext(
                "%(receipt_number)s is already in lot %(code)s, so it can no longer be "
                "reversed; ask a manager to correct the lot."
            )
            % {"receipt_number": original.receipt_number, "code": intake.lot.code}
        )
    today = timezone.localdate()
    reversal = Delivery(
        organisation=organisation,
        kind=Delivery.Kind.REVERSAL,
        collection_point_id=original.collection_point_id,
        farmer_id=original.farmer_id,
        plot_id=original.plot_id,
        commodity_id=original.commodity_id,
        grade_id=original.grade_id,
        downgraded_from_id=original.downgraded_from_id,
        packaging_id=original.packaging_id,
        bag_count=-original.bag_count,
        gross_grams=-original.gross_grams,
        net_grams=-original.net_grams,
        moisture_pct=original.moisture_pct,
        delivered_on=original.delivered_on,
        recorded_by=actor,
        reverses=original,
        reason=reason.strip(),
        receipt_number=_receipt_number(organisation, today),
    )
    try:
        with transaction.atomic():
            reversal.save()
    except IntegrityError:
        raise Conflict(
            gettext("%(receipt_number)s has already been reversed.") % {"receipt_number": original.receipt_number}
        ) from None
    delivery_reversal_traced(actor=actor, organisation=organisation, delivery=original)
    audit_record(
        actor=actor, action="delivery.reversed", subject=original, organisation_id=organisation.pk,
        reason=reversal.reason, data={"reversal": reversal.receipt_number, "net_grams": original.net_grams},
    )  # fmt: skip
    _schedule_receipt_sms(reversal.pk)
    return reversal


def member_language(farmer: MemberFarmer) -> str:
    """The language of the member's SMS: the member's own, else the cooperative's, else the site's default."""
    supported = {code for code, _name in settings.LANGUAGES}
    for code in (farmer.language, farmer.organisation.preferred_language, settings.LANGUAGE_CODE):
        if code in supported:
            return code
    return "en"


def receipt_sms_body(delivery: Delivery) -> str:
    """The member's receipt, in the member's language (see tests/catalogue/test_receipt_sms_languages.py for the
    segments each language takes)."""
    with translation.override(member_language(delivery.farmer)):
        values = {
            "coop": delivery.organisation.name,
            "receipt": delivery.receipt_number,
            "day": delivery.delivered_on.strftime("%d/%m/%Y"),
        }
        if delivery.kind == Delivery.Kind.REVERSAL:
            values |= {"original": delivery.reverses.receipt_number, "kg": kg(-delivery.net_grams),
                       "reason": delivery.reason}  # fmt: skip
            return (_("%(coop)s: receipt %(receipt)s cancels %(original)s of %(day)s (%(kg)s). Reason: %(reason)s")
                    % values)[:320]  # fmt: skip
        bags = (_("%(count)s bags") % {"count": delivery.bag_count} + ", ") if delivery.bag_count else ""
        values |= {
            "member": delivery.farmer.member_number, "name": delivery.farmer.name, "bags": bags,
            "kg": kg(delivery.net_grams), "commodity": delivery.commodity.name, "grade": delivery.grade.name,
            "moisture": _fmt_pct(delivery.moisture_pct),
        }  # fmt: skip
        return (_("%(coop)s: receipt %(receipt)s, %(day)s. %(member)s %(name)s: %(bags)s%(kg)s net %(commodity)s, "
                  "%(grade)s, moisture %(moisture)s.") % values)[:320]  # fmt: skip


@transaction.atomic
def delivery_receipt_sms_send(*, delivery_id: int) -> bool:
    """Send the farmer's SMS receipt once. The delivery row lock and the receipt row make a rerun send nothing."""
    delivery = (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("organisation", "farmer", "commodity", "grade", "reverses")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None or DeliveryReceiptSms.objects.filter(delivery=delivery).exists():
        return False
    phone = str(delivery.farmer.phone or "")
    if not phone:
        DeliveryReceiptSms.objects.create(delivery=delivery, outcome=DeliveryReceiptSms.Outcome.NO_PHONE)
        return False
    body = receipt_sms_body(delivery)
    send_sms(to=phone, body=body)
    DeliveryReceiptSms.objects.create(delivery=delivery, to=phone, body=body, outcome=DeliveryReceiptSms.Outcome.SENT)
    return True
