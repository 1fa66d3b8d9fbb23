"""Price alerts (house rules 1 and 4): subscribe, unsubscribe, evaluate after a refresh, send once.

`price_alerts_evaluate` runs inside the refresh's transaction for the series it rebuilt: it locks their alerts,
compares each with the latest published weekly price of its series, fires an armed alert whose condition holds
(disarming it), re-arms one whose condition no longer holds, and puts the message in the outbox. So an alert
fires once per crossing and its message is sent after the commit, at least once, by an idempotent task.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from catalogue.models import Grade
from marketplace.core import outbox
from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.core.money import Money
from marketplace.core.sending import send_once
from marketplace.core.services import audit_record
from marketplace.core.sms import send_sms
from marketplace.core.validators import mobile_number, validate_currency
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
        phone_number = mobile_number(phone) or ""
        if not phone_number:
            errors["phone"] = "Give a valid mobile number in international form (e.g. +254712345678)."
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
    """Send one firing's message once, outside the row's lock (core.sending)."""
    firings = PriceAlertFiring.objects.select_related(
        "alert__commodity", "alert__grade", "alert__user", "alert__farmer__organisation"
    )
    return send_once(firings, firing_id, _deliver_firing)


def _deliver_firing(firing: PriceAlertFiring) -> None:
    alert = firing.alert
    if alert.farmer_id is not None:
        farmer = alert.farmer
        with translation.override(farmer.language or farmer.organisation.preferred_language or "en"):
            send_sms(to=alert.phone, body=farmer_sms_text(firing))
        return
    subject, text = _message(firing)
    if alert.channel == PriceAlert.Channel.SMS:
        send_sms(to=alert.phone, body=text[:320])
    else:
        send_mail(subject, text, None, [alert.user.email])


# --- Member farmers' alerts (set by SMS keyword in the farmers' channel) -------------------------------------------

FARMER_ALERTS_MAX = 5
# Crop words farmers type, in English, French and Swahili, folded upper case without accents -> commodity code prefix.
CROP_WORDS = {
    "MAIZE": "maize", "CORN": "maize", "MAIS": "maize", "MAHINDI": "maize",
    "COCOA": "cocoa", "CACAO": "cocoa", "KAKAO": "cocoa",
    "COFFEE": "coffee", "CAFE": "coffee", "KAHAWA": "coffee",
    "RICE": "rice", "RIZ": "rice", "MCHELE": "rice", "MPUNGA": "rice",
    "SORGHUM": "sorghum", "SORGHO": "sorghum", "MTAMA": "sorghum",
    "BEANS": "beans", "HARICOT": "beans", "HARICOTS": "beans", "MAHARAGWE": "beans",
    "CASHEW": "cashew", "CAJOU": "cashew", "KOROSHO": "cashew",
}  # fmt: skip


def commodity_for_word(word: str, country: str):
    """The commodity a farmer means by `word` (e.g. MAIZE, MAIS, MAHINDI, or the start of a commodity code):
    among the matches, one with published prices in the farmer's country first. None when nothing matches."""
    from django.db.models import Exists, OuterRef

    from catalogue.models import Commodity

    word = (word or "").strip().upper()
    prefix = CROP_WORDS.get(word, word.lower())
    if len(prefix) < 3:
        return None
    published = PricePoint.objects.filter(commodity=OuterRef("pk"), country=country, visible=True)
    return (
        Commodity.objects.filter(code__startswith=prefix, is_active=True)
        .annotate(published=Exists(published))
        .order_by("-published", "code")
        .first()
    )


@transaction.atomic
def farmer_price_alert_set(*, farmer_id: int, crop: str, threshold: int, direction: str = "above") -> tuple:
    """A member farmer asks (by SMS) to hear when the market price of a crop in the cooperative's region crosses
    `threshold` (whole currency units per quoted unit: per kg, or per 90 kg bag of maize in Kenya). A second
    request for the same crop and direction replaces the threshold and re-arms it. Returns (alert, created)."""
    from marketplace.organisations.models import MemberFarmer

    farmer = (
        MemberFarmer.objects.select_for_update(of=("self",)).select_related("organisation")
        .filter(pk=farmer_id, status=MemberFarmer.Status.ACTIVE).first()
    )  # fmt: skip
    if farmer is None:
        raise NotFound("No such member.")
    if direction not in PriceAlert.Direction.values:
        raise ValidationFailed("Choose above or below.", fields={"direction": "above or below"}, code="direction")
    if not farmer.phone:
        raise ValidationFailed("The member has no phone number.", fields={"phone": "missing"}, code="phone")
    organisation = farmer.organisation
    country = organisation.country.code
    commodity = commodity_for_word(crop, country)
    if commodity is None:
        raise NotFound(gettext("No crop called %(crop)s.") % {"crop": repr(crop)}, code="crop")
    grade = Grade.objects.filter(commodity=commodity).order_by("rank", "pk").first()
    if grade is None:
        raise NotFound(gettext("No crop called %(crop)s.") % {"crop": repr(crop)}, code="crop")
    currency = organisation.currency
    try:
        amount = Money.from_decimal(str(int(threshold)), currency).amount
    except Exception:
        amount = None
    if amount is None or amount <= 0 or amount > 10**15:
        raise ValidationFailed("The price is a whole number above 0.", fields={"threshold": "above 0"},
                               code="threshold")  # fmt: skip
    existing = PriceAlert.objects.filter(farmer=farmer, commodity=commodity, direction=direction).first()
    if existing is not None:
        existing.threshold_amount, existing.armed, existing.phone = amount, True, str(farmer.phone)
        existing.grade, existing.region, existing.currency = grade, organisation.region, currency
        existing.save(update_fields=["threshold_amount", "armed", "phone", "grade", "region", "currency"])
        audit_record(actor=None, action="price_alert.changed", subject=existing, organisation_id=organisation.pk,
                     data={"farmer": farmer.pk, "threshold": amount, "currency": currency})  # fmt: skip
        return existing, False
    if PriceAlert.objects.filter(farmer=farmer).count() >= FARMER_ALERTS_MAX:
        message = gettext("At most %(limit)s alerts; stop one first.") % {"limit": FARMER_ALERTS_MAX}
        raise ValidationFailed(message, fields={"alerts": "too many"}, code="too_many")
    alert = PriceAlert.objects.create(
        organisation=organisation, farmer=farmer, commodity=commodity, grade=grade, country=country,
        region=organisation.region[:100], currency=currency, direction=direction, threshold_amount=amount,
        channel=PriceAlert.Channel.SMS, phone=str(farmer.phone),
    )  # fmt: skip
    audit_record(actor=None, action="price_alert.created", subject=alert, organisation_id=organisation.pk,
                 data={"farmer": farmer.pk, "grade": grade.pk, "direction": direction, "threshold": amount,
                       "currency": currency, "channel": "sms"})  # fmt: skip
    return alert, True


@transaction.atomic
def farmer_price_alert_stop(*, farmer_id: int, crop: str = "") -> int:
    """Stop a member farmer's alerts for one crop (every alert when `crop` is empty); returns how many."""
    alerts = PriceAlert.objects.filter(farmer_id=farmer_id)
    if crop:
        farmer_country = alerts.values_list("country", flat=True).first() or ""
        commodity = commodity_for_word(crop, farmer_country)
        if commodity is None:
            raise NotFound(gettext("No crop called %(crop)s.") % {"crop": repr(crop)}, code="crop")
        alerts = alerts.filter(commodity=commodity)
    stopped = 0
    for alert in alerts.select_for_update():
        audit_record(actor=None, action="price_alert.deleted", subject=alert, organisation_id=alert.organisation_id,
                     data={"farmer": farmer_id})  # fmt: skip
        alert.delete()
        stopped += 1
    return stopped


def farmer_price_alerts(*, farmer_id: int) -> list[PriceAlert]:
    return list(PriceAlert.objects.filter(farmer_id=farmer_id).select_related("commodity").order_by("pk")[:10])


def sms_figure(amount: int, currency: str) -> str:
    """Plain digits for an SMS (GSM-7 only), no decimals when whole: 350000 KES -> "3,500"; 350050 -> "3,500.50"."""
    value = Money(amount, currency).to_decimal()
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,}"


def farmer_sms_text(firing: PriceAlertFiring) -> str:
    """The SMS a farmer gets when an alert fires, in the farmer's language, at most 2 segments."""
    from marketplace.core.sms_segments import segment_count

    alert = firing.alert
    unit = quoted_unit(alert.country, alert.commodity.code)
    values = {
        "crop": alert.commodity.name[:30], "where": (alert.region or alert.country)[:30],
        "price": sms_figure(firing.price_amount, alert.currency), "currency": alert.currency, "unit": unit.label,
        "threshold": sms_figure(alert.threshold_amount, alert.currency),
    }  # fmt: skip
    if alert.direction == PriceAlert.Direction.ABOVE:
        candidates = [
            _("CoopMarket: %(crop)s in %(where)s sold at %(price)s %(currency)s %(unit)s this week, above your "
              "%(threshold)s.") % values,
            _("%(crop)s: %(price)s %(currency)s %(unit)s, above %(threshold)s.") % values,
        ]  # fmt: skip
    else:
        candidates = [
            _("CoopMarket: %(crop)s in %(where)s sold at %(price)s %(currency)s %(unit)s this week, below your "
              "%(threshold)s.") % values,
            _("%(crop)s: %(price)s %(currency)s %(unit)s, below %(threshold)s.") % values,
        ]  # fmt: skip
    for text in candidates:
        if segment_count(text) <= 2:
            return text
    return candidates[-1][:150]
