"""The built-in menu entries: balance and last payout, last deliveries, today's prices, input credit, help.

Every text is translated (English, French, Swahili) and kept short: a USSD screen is at most 182 characters and
the statement SMS at most 2 segments in every language (see tests/channels/test_texts.py).
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.channels import selectors
from marketplace.channels.menu import Caller, MenuEntry, Screen, entries_for, lines_within, register
from marketplace.core.money import Money, minor_unit_exponent
from marketplace.core.quantities import from_base_units
from marketplace.core.sms_segments import segment_count

STATEMENT_MAX_SEGMENTS = 2


def figure(amount: int, currency: str) -> str:
    """1234567 XOF -> "1,234,567"; 123456 KES -> "1,234.56"."""
    exponent = minor_unit_exponent(currency)
    return f"{Money(amount, currency).to_decimal():,.{exponent}f}"


def amounts(moneys: list[Money]) -> str:
    return ", ".join(f"{figure(m.amount, m.currency)} {m.currency}" for m in moneys)


def kilograms(grams: int) -> str:
    value = from_base_units(grams, "KGM").normalize()
    return f"{value:,f} kg"


# --- Balance and last payout (the statement) -----------------------------------------------------------------


def statement_candidates(caller: Caller) -> list[str]:
    """From the fullest to the shortest wording of the member's balance and last payout."""
    balance = selectors.farmer_balance(farmer=caller.farmer)
    owed = (
        _("Owed to you: %(amounts)s.") % {"amounts": amounts(balance.owed)}
        if balance.owed
        else _("Nothing owed to you now.")
    )
    line = balance.last_line
    if line is None:
        return [f"{owed} {_('No payout yet.')}"]
    currency = line.batch.currency
    values = {
        "reference": line.reference,
        "day": (line.paid_at or line.batch.executed_at or line.batch.proposed_at).strftime("%d/%m/%Y"),
        "gross": figure(line.gross_amount, currency),
        "levy": figure(line.levy_amount, currency),
        "credit": figure(line.credit_amount, currency),
        "net": figure(line.net_amount, currency),
        "currency": currency,
    }
    return [
        owed
        + "\n"
        + _("Last payout %(reference)s, %(day)s: sales %(gross)s, levy %(levy)s, credit %(credit)s, paid %(net)s "
            "%(currency)s.") % values,
        owed + "\n" + _("Last payout %(day)s: paid %(net)s %(currency)s.") % values,
    ]  # fmt: skip


def statement_text(caller: Caller) -> str:
    """The statement SMS: the fullest wording that stays within 2 segments."""
    candidates = statement_candidates(caller)
    for text in candidates:
        if segment_count(text) <= STATEMENT_MAX_SEGMENTS:
            return text
    return candidates[-1]


def balance_screen(caller: Caller, inputs: list[str]) -> Screen:
    candidates = statement_candidates(caller)
    for text in candidates:
        if len(text) <= 178:
            return Screen(text)
    return Screen(candidates[-1])


# --- Deliveries ------------------------------------------------------------------------------------------------


def deliveries_text(caller: Caller) -> str:
    deliveries = selectors.farmer_deliveries(farmer=caller.farmer)
    if not deliveries:
        return _("No delivery recorded for you yet.")
    lines = [
        f"{d.delivered_on:%d/%m/%y} {d.commodity.name} {kilograms(d.net_grams)} {d.grade.name}"
        + (f" ({_('cancelled')})" if d.reverses_id else "")
        for d in deliveries
    ]
    return lines_within(_("Your last deliveries:"), lines)


def deliveries_screen(caller: Caller, inputs: list[str]) -> Screen:
    return Screen(deliveries_text(caller))


# --- Prices ----------------------------------------------------------------------------------------------------


def prices_text(caller: Caller) -> str:
    prices = selectors.farmer_prices(farmer=caller.farmer, today=timezone.localdate())
    if not prices:
        return _("No price posted today by %(coop)s for your crops.") % {"coop": caller.farmer.organisation.name[:34]}
    lines = []
    for price in prices:
        low = Money(price.low_per_tonne, price.currency).multiply(Decimal("0.001"))
        high = Money(price.high_per_tonne, price.currency).multiply(Decimal("0.001"))
        span = figure(low.amount, price.currency)
        if high.amount != low.amount:
            span += "-" + figure(high.amount, price.currency)
        lines.append(f"{price.commodity}: {span} {price.currency}/kg")
    return lines_within(_("Prices today at %(coop)s:") % {"coop": caller.farmer.organisation.name[:34]}, lines)


def prices_screen(caller: Caller, inputs: list[str]) -> Screen:
    return Screen(prices_text(caller))


# --- Input credit ----------------------------------------------------------------------------------------------


def credit_text(caller: Caller) -> str:
    credit = selectors.farmer_input_credit(farmer=caller.farmer)
    if not credit:
        return _("You have no input credit to repay.")
    return _("Input credit to repay: %(amounts)s. It is deducted from your next payout.") % {"amounts": amounts(credit)}


def credit_screen(caller: Caller, inputs: list[str]) -> Screen:
    return Screen(credit_text(caller))


# --- Help ------------------------------------------------------------------------------------------------------


def help_text(caller: Caller) -> str:
    commands = []
    for entry in entries_for(caller):
        if entry.sms is None or not entry.keywords:
            continue
        word = entry_word(entry)
        commands.append(f"{word} PIN" if entry.needs_pin else word)
    return _("Send %(commands)s. PIN: your 4 digits from the clerk.") % {"commands": ", ".join(commands)}


def help_screen(caller: Caller, inputs: list[str]) -> Screen:
    return Screen(help_text(caller))


def entry_word(entry: MenuEntry) -> str:
    """The keyword shown in help, in the caller's language."""
    return entry.word() if entry.word else sorted(entry.keywords)[0]


register(
    MenuEntry(
        key="balance",
        word=lambda: _("BAL"),
        order=10,
        label=lambda: _("My balance and last payout"),
        ussd=balance_screen,
        needs_pin=True,
        keywords=frozenset({"BAL", "BALANCE", "STATEMENT", "SOLDE", "RELEVE", "SALIO", "TAARIFA"}),
        sms=lambda caller, words: statement_text(caller),
    )
)
register(
    MenuEntry(
        key="deliveries",
        word=lambda: _("DEL"),
        order=20,
        label=lambda: _("My last deliveries"),
        ussd=deliveries_screen,
        keywords=frozenset({"DEL", "DELIVERIES", "LIV", "LIVRAISONS", "MAVUNO"}),
        sms=lambda caller, words: deliveries_text(caller),
    )
)
register(
    MenuEntry(
        key="prices",
        word=lambda: _("PRICES"),
        order=30,
        label=lambda: _("Today's prices for my crops"),
        ussd=prices_screen,
        keywords=frozenset({"PRICES", "PRICE", "PRIX", "BEI"}),
        sms=lambda caller, words: prices_text(caller),
    )
)
register(
    MenuEntry(
        key="credit",
        word=lambda: _("CREDIT"),
        order=40,
        label=lambda: _("My input credit"),
        ussd=credit_screen,
        needs_pin=True,
        keywords=frozenset({"CREDIT", "MKOPO"}),
        sms=lambda caller, words: credit_text(caller),
    )
)
register(
    MenuEntry(
        key="help",
        word=lambda: _("HELP"),
        order=90,
        label=lambda: _("Help"),
        ussd=help_screen,
        keywords=frozenset({"HELP", "AIDE", "MSAADA"}),
        sms=lambda caller, words: help_text(caller),
    )
)
