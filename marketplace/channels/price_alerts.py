"""SMS keyword: a member farmer's market price alerts (the market app's subscription service).

    ALERT MAIZE 3500          alert when maize sells above 3,500 (per kg, or per 90 kg bag of maize in Kenya)
    ALERT MAIZE 3000 BELOW    ... below 3,000 (BELOW/UNDER, SOUS/MOINS, CHINI; ABOVE/OVER, DESSUS/PLUS, JUU)
    ALERT STOP MAIZE          stop the maize alerts (STOP alone: all); ARRET/ARRETER, ACHA/SIMAMISHA
    ALERT                     list the alerts (also ALERT LIST, ALERTE LISTE, ARIFA ORODHA)

ALERTE is the French keyword and ARIFA the Swahili one; any keyword works in any language, the answer is in the
member's. The price is in whole units of the cooperative's currency, for the crop's top grade in the cooperative's
region. An alert fires once per crossing of the published weekly price (see marketplace.market.alerts)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from marketplace.channels.menu import Caller, MenuEntry, Screen, register
from marketplace.core.errors import DomainError, NotFound
from marketplace.market.alerts import (
    FARMER_ALERTS_MAX,
    farmer_price_alert_set,
    farmer_price_alert_stop,
    farmer_price_alerts,
    sms_figure,
)
from marketplace.market.models import PriceAlert
from marketplace.market.units import quoted_unit

ABOVE = {"ABOVE", "OVER", "UP", "DESSUS", "PLUS", "JUU"}
BELOW = {"BELOW", "UNDER", "DOWN", "SOUS", "MOINS", "CHINI"}
STOP = {"STOP", "OFF", "ARRET", "ARRETER", "ACHA", "SIMAMISHA"}
LIST = {"LIST", "LISTE", "ORODHA"}


def usage() -> str:
    return _("Send %(word)s CROP PRICE, for example: %(word)s MAIZE 3500. %(word)s STOP to stop.") % {
        "word": _("ALERT")
    }


def list_text(caller: Caller) -> str:
    alerts = farmer_price_alerts(farmer_id=caller.farmer.pk)
    if not alerts:
        return _("You have no price alert.") + " " + usage()
    lines = []
    for alert in alerts:
        unit = quoted_unit(alert.country, alert.commodity.code)
        sign = ">" if alert.direction == PriceAlert.Direction.ABOVE else "<"
        lines.append(f"{alert.commodity.name[:24]} {sign} {sms_figure(alert.threshold_amount, alert.currency)} "
                     f"{alert.currency} {unit.label}")  # fmt: skip
    return _("Your price alerts:") + "\n" + "\n".join(lines)


def _error_text(error: DomainError, crop: str) -> str:
    if error.code == "crop":
        return _("No crop called %(crop)s. Try MAIZE, COFFEE, COCOA, RICE, BEANS.") % {"crop": crop[:20]}
    if error.code == "too_many":
        return _("You have %(count)s alerts already; stop one first.") % {"count": FARMER_ALERTS_MAX}
    return usage()


def alert_sms(caller: Caller, words: list[str]) -> str:
    if not words or words[0] in LIST:
        return list_text(caller)
    if words[0] in STOP:
        crop = words[1] if len(words) > 1 else ""
        try:
            stopped = farmer_price_alert_stop(farmer_id=caller.farmer.pk, crop=crop)
        except NotFound as error:
            return _error_text(error, crop)
        if not stopped:
            return _("You have no price alert.")
        return _("Stopped: %(count)s price alerts.") % {"count": stopped}
    crop = words[0]
    numbers = [w for w in words[1:] if w.isdigit()]
    if not numbers or crop.isdigit():
        return usage()
    direction = "below" if any(w in BELOW for w in words[1:]) else "above"
    try:
        alert, _created = farmer_price_alert_set(farmer_id=caller.farmer.pk, crop=crop, threshold=int(numbers[0]),
                                                 direction=direction)  # fmt: skip
    except DomainError as error:
        return _error_text(error, crop)
    unit = quoted_unit(alert.country, alert.commodity.code)
    values = {
        "crop": alert.commodity.name[:30], "where": (alert.region or alert.country)[:30],
        "price": sms_figure(alert.threshold_amount, alert.currency), "currency": alert.currency, "unit": unit.label,
        "stop": _("ALERT"),
    }  # fmt: skip
    if direction == "above":
        text = _("Alert set: we send an SMS when %(crop)s in %(where)s sells above %(price)s %(currency)s "
                 "%(unit)s. %(stop)s STOP to stop.") % values  # fmt: skip
    else:
        text = _("Alert set: we send an SMS when %(crop)s in %(where)s sells below %(price)s %(currency)s "
                 "%(unit)s. %(stop)s STOP to stop.") % values  # fmt: skip
    return text


def alert_screen(caller: Caller, inputs: list[str]) -> Screen:
    return Screen(list_text(caller))


register(
    MenuEntry(
        key="price_alerts",
        word=lambda: _("ALERT"),
        order=85,
        in_ussd_menu=False,  # by SMS keyword; listed in HELP
        label=lambda: _("My price alerts"),
        ussd=alert_screen,
        keywords=frozenset({"ALERT", "ALERTS", "ALERTE", "ALERTES", "ARIFA"}),
        sms=alert_sms,
    )
)
