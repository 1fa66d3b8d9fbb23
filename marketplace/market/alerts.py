"""Price alerts (house rules 1 and 4): subscribe, unsubscribe, evaluate after a refresh, send once.

`price_alerts_evaluate` runs inside the refresh's transaction for the series it rebuilt: it locks their alerts,
compares each with the latest published weekly price of its series, fires an armed alert whose condition holds
(disarming it), re-arms one whose condition no longer holds, and puts the message in the outbox. So an alert
fires once per crossing and its message is sent after the commit, at least once, by an idempotent task.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import to_python as to_phone

from catalogue.models import Grade
from marketplace.core import outbox
from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.core.money import Money
from marketplace.core.services import audit_record
from marketplace.core.sms import send_sms
from marketplace.core.validators import validate_currency
from marketplace.market.models import PriceAlert, PriceAlertFiring, PricePoint
from marketplace.market.units import price_for, quoted_unit
from marketplace.organisations.models import Organisation, User
from marketplace.organisations.roles import Capability
from marketplace.organisations.selectors import organisation_for

KINDS = (Organisation.Kind.COOPERATIVE, Organisation.Kind.BUYER)


def _holds(alert: PriceAlert, price: int) -> bool:
    if alert.direction == PriceAlert.Direction.ABOVE:
        return price > alert.threshold_amount
    return price < alert.threshold_amount


@transaction.atomic
def price_alert_create(
    *, actor: User, organisation_id: int, grade_id: int, country: str, region: str = "", currency: str,
    direction: str, threshold: str, channel: str = "email", phone: str = "",
) -> PriceAlert:  # fmt: skip
    """A manager of a cooperative or a buyer subscribes; `threshold` is a decimal price per quoted unit."""
    organisation = organisation_for(viewer=actor, organisation_id=organisation_id, capability=Capability.DECIDE)
    if organisation.kind not in KINDS:
        raise NotFound("Price alerts are for cooperatives and buyers.")
    errors: dict[str, str] = {}
    grade = Grade.objects.select_related("commodity").filter(pk=grade_id).first() if str(grade_id).isdigit() else None
    if grade is None:
        errors["grade"] = "Choose a grade of a commodity."
    country = (country or "").strip().upper()
    if len(country) != 2 or not country.isalpha():
        errors["country"] = "Give the two-letter country code of the sellers (e.g. CI, KE)."
    currency = (currency or "").strip().upper()
    try:
        validate_currency(currency)
    except DjangoValidationError:
        errors["currency"] = "Give an ISO 4217 currency code (e.g. XOF, KES)."
    if direction not in PriceAlert.Direction.values:
        errors["direction"] = "Choose above or below."
    if channel not in PriceAlert.Channel.values:
        errors["channel"] = "Choose email or SMS."
    amount = None
    try:
        amount = Money.from_decimal(str(threshold).strip(), currency).amount if "currency" not in errors else None
    except Exception:
        errors["threshold"] = f"{threshold!r} is not a price; write it like 1500 or 1500.50."
    if amount is not None and amount <= 0:
        errors["threshold"] = "The threshold is a price above 0."
    phone_number = ""
    if channel == PriceAlert.Channel.SMS:
        parsed = to_phone(phone)
        if parsed is None or not parsed.is_valid():
            errors["phone"] = "Give a valid mobile number in international form (e.g. +254712345678)."
        else:
            phone_number = str(parsed)
    if errors:
        raise ValidationFailed("Check the alert's fields.", fields=errors)
    alert = PriceAlert.objects.create(
        organisation=organisation, user=actor, commodity=grade.commodity, grade=grade, country=country,
        region=(region or "").strip()[:100], currency=currency, direction=direction, threshold_amount=amount,
        channel=channel, phone=phone_number,
    )  # fmt: skip
    audit_record(actor=actor, action="price_alert.created", subject=alert, organisation_id=organisation.pk,
                 data={"grade": grade.pk, "country": country, "region": alert.region, "direction": direction,
                       "threshold": amount, "currency": currency, "channel": channel})  # fmt: skip
    return alert


@transaction.atomic
def price_alert_delete(*, actor: User, alert_id: int) -> None:
    alert = PriceAlert.objects.select_for_update().filter(pk=alert_id, user=actor).first()
    if alert is None:
        raise NotFound("No such price alert.")
    audit_record(actor=actor, action="price_alert.deleted", subject=alert, organisation_id=alert.organisation_id)
    alert.delete()


def price_alerts_evaluate(*, series: list[tuple] | None = None) -> int:
    """Fire or re-arm the alerts of these series (all when None) against their latest published weekly price.
    Call it inside the refresh's transaction; returns how many fired."""
    alerts = PriceAlert.objects.select_for_update().select_related("commodity").order_by("pk")
    if series is not None:
        if not series:
            return 0
        alerts = alerts.filter(commodity_id__in={key[0] for key in series})
        wanted = set(series)
    else:
        wanted = None
    alerts = [a for a in alerts if wanted is None or
              (a.commodity_id, a.grade_id, a.country, a.region, a.currency) in wanted]  # fmt: skip
    if not alerts:
        return 0
    latest = {
        (p.commodity_id, p.grade_id, p.country, p.region, p.currency): p
        for p in PricePoint.objects.filter(
            visible=True, period=PricePoint.Period.WEEK, commodity_id__in={a.commodity_id for a in alerts}
        )
        .order_by("commodity_id", "grade_id", "country", "region", "currency", "-period_start")
        .distinct("commodity_id", "grade_id", "country", "region", "currency")
    }
    fired = 0
    for alert in alerts:
        point = latest.get((alert.commodity_id, alert.grade_id, alert.country, alert.region, alert.currency))
        if point is None:
            continue
        unit = quoted_unit(alert.country, alert.commodity.code)
        price = price_for(point.total_amount, point.total_grams, unit.grams)
        holds = _holds(alert, price)
        if holds and alert.armed:
            firing = PriceAlertFiring.objects.create(alert=alert, period_start=point.period_start, price_amount=price)
            alert.armed = False
            alert.save(update_fields=["armed"])
            from marketplace.market.tasks import price_alert_send

            outbox.enqueue(price_alert_send, args=[firing.pk], key=f"price-alert:{firing.pk}")
            fired += 1
        elif not holds and not alert.armed:
            alert.armed = True
            alert.save(update_fields=["armed"])
    return fired


def _message(firing: PriceAlertFiring) -> tuple[str, str]:
    alert = firing.alert
    unit = quoted_unit(alert.country, alert.commodity.code)
    where = f"{alert.region}, {alert.country}" if alert.region else alert.country
    text = _("%(commodity)s %(grade)s in %(where)s: %(price)s %(unit)s (week of %(week)s), %(direction)s your "
             "threshold of %(threshold)s.") % {
        "commodity": alert.commodity.name, "grade": alert.grade.name, "where": where,
        "price": Money(firing.price_amount, alert.currency), "unit": unit.label, "week": firing.period_start,
        "direction": alert.get_direction_display(), "threshold": Money(alert.threshold_amount, alert.currency),
    }  # fmt: skip
    return _("CoopMarket price alert: %(commodity)s") % {"commodity": alert.commodity.name}, text


def price_alert_send(*, firing_id: int) -> str:
    """Send one firing's message once: claim it under a row lock, then send outside the lock (house rule 4)."""
    with transaction.atomic():
        firing = (
            PriceAlertFiring.objects.select_for_update(of=("self",))
            .select_related("alert__commodity", "alert__grade", "alert__user")
            .filter(pk=firing_id)
            .first()
        )
        if firing is None:
            return "missing"
        if firing.sent_at is not None:
            return "already_sent"
        firing.sent_at = timezone.now()
        firing.save(update_fields=["sent_at"])
    subject, text = _message(firing)
    alert = firing.alert
    try:
        if alert.channel == PriceAlert.Channel.SMS:
            send_sms(to=alert.phone, body=text[:320])
        else:
            send_mail(subject, text, None, [alert.user.email])
    except Exception:
        PriceAlertFiring.objects.filter(pk=firing.pk).update(sent_at=None)  # a retry of the task sends it
        raise
    return "sent"
