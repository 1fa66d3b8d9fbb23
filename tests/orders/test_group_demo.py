"""The group input order demo: Trans Nzoia's open window with 20+ members' requests against Kitale Farm Inputs and
its completed window on credit, Nawa Cacao's completed window with Soubré Agro-Intrants; the ledger and the event
chains still check; seeding again adds nothing."""

from io import StringIO

import pytest
from django.core.management import call_command

from orders.group_models import GroupOrder, MemberAllocation, OrderingWindow
from payments.models import LedgerTransaction
from payments.payouts.models import PayoutBatch
from payments.payouts.selectors import member_statement


@pytest.mark.django_db
def test_the_group_order_demo(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", allow_production=True, stdout=StringIO())
    maize = OrderingWindow.objects.filter(organisation__display_name="Trans Nzoia Maize Growers")
    open_window = maize.get(status="open")
    assert open_window.requests.filter(quantity__gt=0).values("farmer").distinct().count() >= 20
    assert {p.product.offers.first().organisation.name for p in open_window.products.all()} == {"Kitale Farm Inputs"}
    past = maize.get(status="completed")
    assert past.on_credit and GroupOrder.objects.get(window=past).status == "completed"
    allocations = MemberAllocation.objects.filter(group_order__window=past)
    assert allocations.count() >= 5 and not allocations.filter(handed_over_at__isnull=True).exists()
    assert LedgerTransaction.objects.filter(kind="input_credit").count() == allocations.count()
    # a later harvest payout recovered the credit, never leaving a negative net
    batch = PayoutBatch.objects.get(organisation=past.organisation, status="executed")
    assert batch.credit_amount > 0 and not batch.lines.filter(net_amount__lt=0).exists()
    member = batch.lines.filter(credit_amount__gt=0).first()
    statement = member_statement(viewer=past.created_by, farmer_id=member.farmer_id)
    assert statement.inputs and statement.input_credit[0].recovered == member.credit_amount
    nawa = OrderingWindow.objects.get(organisation__display_name="Nawa Cacao")
    assert nawa.status == "completed"
    assert GroupOrder.objects.get(window=nawa).supplier.name == "Soubré Agro-Intrants"
    output = StringIO()
    call_command("ledger_check", stdout=output)
    assert "consistent" in output.getvalue()
    output = StringIO()
    call_command("trace_verify", stdout=output)
    assert "every link holds" in output.getvalue()
    again = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", allow_production=True, stdout=again)
    assert "group orders: nothing new" in again.getvalue()
    assert OrderingWindow.objects.count() == 3
