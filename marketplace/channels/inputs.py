"""USSD menu entry and SMS keyword: ask for inputs in an open ordering window of the member's cooperative.

The request is recorded by the orders app's own service (`orders.services.group_windows.request_change`), as a
timestamped change added to the member's request, with the phone channel and no user (the member on their own
phone). No PIN: nothing here shows money. USSD path after the entry: product -> quantity -> tolerance -> confirm.
SMS: `INPUT` lists the products; `INPUT <product> <quantity> [<tolerance>]` records (quantities in whole kg, L or
pieces, the unit the clerk's form uses).

The products are numbered in a fixed order, and for an hour after a window closes it keeps its place in the USSD
list, so a number typed before the window closed still names the same product and the caller is told it closed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.channels import selectors
from marketplace.channels.menu import Caller, MenuEntry, Screen, lines_within, pick, register
from marketplace.core.errors import Conflict, DomainError
from orders.group_forms import unit_of
from orders.group_models import RequestChange
from orders.services.group_windows import pack_unit, request_change

MAX_QUANTITY = 10_000  # in the display unit (kg, L or pieces) per request sent by phone


@dataclass(frozen=True)
class Unit:
    label: str  # kg, L or pieces
    factor: int  # base units (g, mL, pieces) per display unit
    pack: str  # one pack's content, shown
    max_tolerance: int  # up to one pack's content, in the display unit


def unit_for(product) -> Unit:
    label, factor = unit_of(product)
    base = pack_unit(product)
    pack = f"{base / factor:,.3f}".rstrip("0").rstrip(".") if factor != 1 else f"{base:,}"
    return Unit(label=label, factor=factor, pack=f"{pack} {label}", max_tolerance=max(1, math.ceil(base / factor)))


def number(value: int) -> str:
    return f"{value:,}"


def whole(inputs: list[str], low: int, high: int) -> tuple[int | None, bool, list[str]]:
    """The first whole number low..high among the inputs (like `pick`): (value or None, invalid seen, rest)."""
    invalid = False
    for position, value in enumerate(inputs):
        value = value.strip().replace(",", "")
        if value.isdigit() and low <= int(value) <= high:
            return int(value), invalid, inputs[position + 1 :]
        invalid = True
    return None, invalid, []


def _label(choice: selectors.InputChoice, several_windows: bool, now) -> str:
    text = choice.product.name[:30]
    if several_windows:
        text += f" ({choice.window.name[:14]})"
    if not choice.accepts_requests(now):
        text += " - " + _("closed")
    return text


def _closed(choice: selectors.InputChoice) -> str:
    return _("The ordering window %(window)s is closed; your request was not recorded.") % {
        "window": choice.window.name[:40]
    }


def _record(caller: Caller, choice: selectors.InputChoice, unit: Unit, quantity: int, tolerance: int,
            channel: str) -> str:  # fmt: skip
    """Record the change through the orders service; the answer in the caller's language."""
    try:
        request = request_change(
            actor=None,
            window_id=choice.window.pk,
            product_id=choice.product.pk,
            farmer_id=caller.farmer.pk,
            quantity_delta=quantity * unit.factor,
            tolerance_delta=tolerance * unit.factor,
            channel=channel,
        )
    except Conflict as error:
        if error.code in ("window_closed", "window_not_open"):
            return _closed(choice)
        return _("Your request was not recorded. Please ask the clerk at your collection point.")
    except DomainError:
        return _("Your request was not recorded. Please ask the clerk at your collection point.")
    return _(
        "Recorded. You now ask for %(quantity)s %(unit)s of %(product)s, %(tolerance)s %(unit)s extra to fill a "
        "pack. Window closes %(day)s."
    ) % {
        "quantity": number(request.quantity // unit.factor),
        "tolerance": number(request.tolerance // unit.factor),
        "unit": unit.label,
        "product": choice.product.name[:30],
        "day": f"{choice.window.closes_at:%d/%m %H:%M}",
    }


def inputs_screen(caller: Caller, inputs: list[str]) -> Screen:
    now = timezone.now()
    choices = selectors.farmer_input_choices(farmer=caller.farmer, now=now, recent=True)
    if not choices:
        return Screen(_("No ordering window is open for you now."))
    several = len({c.window.pk for c in choices}) > 1
    picked, invalid, rest = pick(inputs, len(choices))
    if picked is None:
        head = (_("Not an option.") + " " if invalid else "") + _("Which input?")
        return Screen(lines_within(head, [f"{i}. {_label(c, several, now)}" for i, c in enumerate(choices, 1)]),
                      end=False)  # fmt: skip
    choice = choices[picked - 1]
    if not choice.accepts_requests(now):
        return Screen(_closed(choice))
    unit = unit_for(choice.product)
    quantity, invalid, rest = whole(rest, 1, MAX_QUANTITY)
    if quantity is None:
        current = selectors.farmer_input_request(farmer=caller.farmer, window_id=choice.window.pk,
                                                 product_id=choice.product.pk)  # fmt: skip
        asked = (current.quantity // unit.factor) if current else 0
        head = (_("Not a valid quantity.") + " ") if invalid else ""
        return Screen(
            head
            + _("%(product)s, pack of %(pack)s. You ask for %(asked)s %(unit)s now.") % {
                "product": choice.product.name[:30], "pack": unit.pack, "asked": number(asked), "unit": unit.label}
            + "\n"
            + _("How many %(unit)s to add? (1-%(max)s)") % {"unit": unit.label, "max": number(MAX_QUANTITY)},
            end=False,
        )  # fmt: skip
    tolerance, invalid, rest = whole(rest, 0, unit.max_tolerance)
    if tolerance is None:
        head = (_("Not a valid quantity.") + " ") if invalid else ""
        return Screen(
            head
            + _("How many %(unit)s more would you accept to fill a pack? (0-%(max)s)")
            % {"unit": unit.label, "max": number(unit.max_tolerance)},
            end=False,
        )
    confirm, invalid, rest = pick(rest, 2)
    if confirm is None:
        head = (_("Not an option.") + " ") if invalid else ""
        return Screen(
            head
            + _("Add %(quantity)s %(unit)s of %(product)s, up to %(tolerance)s %(unit)s more to fill a pack, in "
                "%(window)s?") % {"quantity": number(quantity), "tolerance": number(tolerance), "unit": unit.label,
                                   "product": choice.product.name[:30], "window": choice.window.name[:30]}
            + "\n1. " + _("Confirm") + "\n2. " + _("Cancel"),
            end=False,
        )  # fmt: skip
    if confirm == 2:
        return Screen(_("Cancelled. Nothing was recorded."))
    return Screen(_record(caller, choice, unit, quantity, tolerance, RequestChange.Channel.USSD))


# --- SMS keyword --------------------------------------------------------------------------------------------------


def _sms_list(caller: Caller, choices: list[selectors.InputChoice], now) -> str:
    several = len({c.window.pk for c in choices}) > 1
    items = ", ".join(f"{i} {_label(c, several, now)} ({unit_for(c.product).label})" for i, c in enumerate(choices, 1))
    word = _("INPUT")
    return _("Inputs open until %(day)s: %(items)s. Send %(word)s 1 100 10 to add 100 and accept 10 more.") % {
        "day": f"{choices[0].window.closes_at:%d/%m}",
        "items": items,
        "word": word,
    }


def inputs_sms(caller: Caller, tokens: list[str]) -> str:
    now = timezone.now()
    choices = selectors.farmer_input_choices(farmer=caller.farmer, now=now)
    if not choices:
        return _("No ordering window is open for you now.")
    if not tokens:
        return _sms_list(caller, choices, now)
    word = _("INPUT")
    if not all(t.isdigit() for t in tokens) or len(tokens) > 3:
        return _("Send numbers only, for example: %(word)s 1 100 10") % {"word": word}
    position = int(tokens[0])
    if not 1 <= position <= len(choices):
        return _("No input number %(number)s.") % {"number": tokens[0][:6]} + " " + _sms_list(caller, choices, now)
    choice = choices[position - 1]
    unit = unit_for(choice.product)
    if len(tokens) < 2:
        return _("Add the quantity in %(unit)s, for example: %(word)s %(number)s 100 10") % {
            "unit": unit.label, "word": word, "number": position}  # fmt: skip
    quantity = int(tokens[1])
    tolerance = int(tokens[2]) if len(tokens) > 2 else 0
    if not 1 <= quantity <= MAX_QUANTITY:
        return _("The quantity is from 1 to %(max)s %(unit)s.") % {"max": number(MAX_QUANTITY), "unit": unit.label}
    if tolerance > unit.max_tolerance:
        return _("The extra to fill a pack is from 0 to %(max)s %(unit)s.") % {
            "max": number(unit.max_tolerance), "unit": unit.label}  # fmt: skip
    return _record(caller, choice, unit, quantity, tolerance, RequestChange.Channel.SMS)


def _available(caller: Caller) -> bool:
    return bool(selectors.farmer_input_choices(farmer=caller.farmer, now=timezone.now(), recent=True))


register(
    MenuEntry(
        key="inputs",
        word=lambda: _("INPUT"),
        order=45,
        label=lambda: _("Order inputs"),
        ussd=inputs_screen,
        keywords=frozenset({"INPUT", "INPUTS", "INTRANT", "INTRANTS", "PEMBEJEO"}),
        sms=inputs_sms,
        available=_available,
    )
)
