"""Messages users read from the orders and catalogue services are whole translated sentences: in French no English
word remains, and statuses are shown by their translated labels, not by their codes."""

import re
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.utils import translation

from catalogue.services.deliveries import _moisture
from catalogue.services.offers import TierInput, check_tiers
from marketplace.core.errors import DomainError
from marketplace.core.money import Money
from orders.group_models import GroupOrder
from orders.models import Order
from orders.services import effects, group_orders, transitions
from orders.services._common import BUYER, OPERATOR, SYSTEM, parse_day, whole_number

# English words of the messages below that have no place in their French versions.
ENGLISH = re.compile(
    r"\b(the|is|are|not|none|cannot|become|can|placed|dispatched|accepted|rejected|completed|paid|give|"
    r"choose|whole|number|files?|limit|tier|starts|packs?|overlaps|moisture|above|system|buyer|managers|"
    r"operator|and|or|more)\b"
)


def _refusal(call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def _messages(error: DomainError) -> list[str]:
    return [error.message, *(m for messages in error.fields.values() for m in messages)]


def _assert_french(texts: list[str]) -> None:
    for text in texts:
        assert text and not ENGLISH.search(text), text


def test_an_order_that_cannot_make_a_move_is_told_in_french_with_status_labels():
    order = Order(number="PO-1", status=Order.Status.PLACED, buyer_id=1, seller_id=2)
    with translation.override("fr"):
        error = _refusal(lambda: transitions._authorise(order, None, Order.Status.DISPATCHED))
        _assert_french(_messages(error))
        assert "passée" in error.message and "acceptée" in error.fields["status"][0]

        final = Order(number="PO-2", status=Order.Status.COMPLETED, buyer_id=1, seller_id=2)
        error = _refusal(lambda: transitions._authorise(final, None, Order.Status.PAID))
        _assert_french(_messages(error))
        assert "aucun" in error.fields["status"][0]


def test_a_final_group_order_is_told_in_french():
    group_order = GroupOrder(pk=7, status=GroupOrder.Status.COMPLETED, buyer_id=1, supplier_id=2)
    with translation.override("fr"):
        error = _refusal(lambda: group_orders._authorise(None, group_order, GroupOrder.Status.PAID))
    _assert_french(_messages(error))
    assert "terminée" in error.message and "aucun" in error.message


def test_who_may_move_an_order_is_a_translated_phrase():
    rules = [transitions.Rule(SYSTEM), transitions.Rule(BUYER, "manager"), transitions.Rule(OPERATOR, "manager")]
    with translation.override("fr"):
        _assert_french([str(rule) for rule in rules])
    with translation.override("sw"):
        assert str(transitions.Rule(BUYER, "manager")) == "mameneja na wasimamizi wa mnunuzi"


def test_field_errors_of_the_order_services_are_translated():
    errors: dict[str, str] = {}
    overflow: dict[str, str] = {}
    with translation.override("fr"):
        parse_day("someday", "received_on", errors)
        whole_number("three", "quantity", errors)
        effects._evidence([ContentFile(b"plain text", name="notes.txt")], errors)
        effects._evidence([ContentFile(b"x")] * (effects.MAX_EVIDENCE_FILES + 1), overflow)
    assert set(errors) == {"received_on", "quantity", "evidence.0"}
    _assert_french([*errors.values(), *overflow.values()])


def test_catalogue_refusals_are_translated():
    with translation.override("fr"):
        _, moisture_error = _moisture("101")
        tiers = [TierInput(1, Money(500, "XOF"), 10), TierInput(5, Money(450, "XOF"))]
        error = _refusal(lambda: check_tiers(tiers, "XOF"))
        _assert_french([moisture_error, *_messages(error)])
        assert _moisture(Decimal("7.5")) == (Decimal("7.5"), None)
