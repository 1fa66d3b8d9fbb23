"""The demo's payouts: nothing without releases; with them, an executed batch whose members have statements and a
batch waiting for approval; seeding again adds nothing."""

from io import StringIO

from django.core.management import call_command

from marketplace.demo import payouts as demo_payouts
from orders.models import Order
from payments.models import LedgerTransaction
from payments.payouts.models import PayoutBatch, PayoutSms
from payments.payouts.selectors import member_statement
from tests.payouts.factories import release


def test_the_demo_pays_members_once_releases_exist(db, sms_outbox, django_capture_on_commit_callbacks):
    output = StringIO()
    demo_payouts.seed(stdout=output)
    assert "nothing to do" in output.getvalue() and not PayoutBatch.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", allow_production=True, stdout=StringIO())
    for order in Order.objects.filter(status__in=["completed", "resolved"]).order_by("pk"):
        if not LedgerTransaction.objects.filter(idempotency_key=f"release:{order.pk}").exists():
            release(order)
    with django_capture_on_commit_callbacks(execute=True):
        demo_payouts.seed(stdout=StringIO())
    nawa = PayoutBatch.objects.filter(organisation__display_name="Nawa Cacao")  # other demos pay out too
    executed = nawa.get(status="executed")
    assert nawa.filter(status="proposed").count() == 1
    line = executed.lines.order_by("pk").first()
    assert line.paid_at is not None
    statement = member_statement(viewer=executed.proposed_by, farmer_id=line.farmer_id)
    assert statement.deliveries and statement.sales and statement.payouts

    counts = (PayoutBatch.objects.count(), PayoutSms.objects.count(), LedgerTransaction.objects.count())
    output = StringIO()
    demo_payouts.seed(stdout=output)
    assert "nothing new" in output.getvalue()
    assert (PayoutBatch.objects.count(), PayoutSms.objects.count(), LedgerTransaction.objects.count()) == counts
