"""Statements: the SMS fits in 160 characters whatever the amounts, and the PDF is deterministic."""

from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.core.money import Money
from payments.payouts import selectors, services
from payments.payouts.provider import PayoutInstruction, major_units, msisdn, payments_csv
from payments.payouts.statements import SMS_LIMIT, sms_text, statement_pdf
from tests.payouts.factories import give_input_credit, released_order


def _line(gross, levy, credit, currency, batch_id=1, pk=1):
    net = gross - levy - credit
    batch = SimpleNamespace(currency=currency)
    return SimpleNamespace(
        batch=batch, batch_id=batch_id, pk=pk, reference=f"PB{batch_id:05d}-{pk}", gross_amount=gross,
        levy_amount=levy, credit_amount=credit, net_amount=net,
    )  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    gross=st.integers(0, 10**15),
    levy_share=st.floats(0, 1),
    credit_share=st.floats(0, 1),
    currency=st.sampled_from(["XOF", "KES", "KWD"]),
    name=st.text(min_size=0, max_size=200),
    language=st.sampled_from(["en", "fr"]),
    ids=st.tuples(st.integers(1, 10**9), st.integers(1, 10**12)),
)
def test_the_sms_never_exceeds_160_characters(gross, levy_share, credit_share, currency, name, language, ids):
    levy = int(gross * levy_share)
    credit = int((gross - levy) * credit_share)
    text = sms_text(_line(gross, levy, credit, currency, *ids), organisation_name=name, language=language)
    assert 0 < len(text) <= SMS_LIMIT


def test_the_sms_says_what_was_deducted_and_paid():
    text = sms_text(_line(970_000, 19_400, 100_000, "XOF", 12, 34), organisation_name="CANN")
    assert text == (
        "CANN: payout PB00012-34. Sales 970,000, levy 19,400, input credit 100,000. Paid to you: 850,600 XOF."
    )
    assert len(text) <= 160


def test_the_csv_layout():
    instructions = [
        PayoutInstruction(1, "+225 07 00 00 00 01", Money(950_600, "XOF"), "PB00001-1"),
        PayoutInstruction(2, "", Money(5, "XOF"), "PB00001-2"),  # no phone: paid by hand, not uploaded
        PayoutInstruction(3, "+254700000001", Money(123_456, "KES"), "PB00001-3"),
        PayoutInstruction(4, "+96500000001", Money(1_005, "KWD"), "PB00001-4"),
    ]
    assert payments_csv(instructions) == (
        "phone,amount,reference\r\n"
        "2250700000001,950600,PB00001-1\r\n"
        "254700000001,1234.56,PB00001-3\r\n"
        "96500000001,1.005,PB00001-4\r\n"
    )
    assert msisdn("+225 07-00") == "2250700" and major_units(Money(0, "EUR")) == "0.00"


def test_the_statement_covers_deliveries_lots_sales_levy_credit_and_payments(world):
    released_order(world)
    farmer_id = world.listing.lot.contributions.order_by("farmer_id").first().farmer_id
    give_input_credit(farmer_id, 1_200_000)  # more than one payout recovers
    batch = services.payout_batch_propose(actor=world.seller.manager, organisation_id=world.seller.organisation.pk)
    services.payout_batch_approve(actor=world.seller.manager, batch_id=batch.pk)
    services.payout_batch_execute(actor=world.seller.manager, batch_id=batch.pk)
    statement = selectors.member_statement(viewer=world.seller.manager, farmer_id=farmer_id)
    assert statement.delivered_grams == 10_000_000
    assert [c.lot_id for c in statement.contributions] == [world.listing.lot.pk]
    assert [s.amount for s in statement.sales] == [970_000]
    totals = statement.totals[0]
    assert (totals.gross, totals.levy, totals.credit, totals.net, totals.paid) == (970_000, 19_400, 950_600, 0, 0)
    assert statement.outstanding_credit == [Money(1_200_000 - 950_600, "XOF")]
    first = statement_pdf(statement)
    again = statement_pdf(selectors.member_statement(viewer=world.seller.manager, farmer_id=farmer_id))
    assert first.startswith(b"%PDF") and first == again
