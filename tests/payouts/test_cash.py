"""Cash payouts: a member without a phone is paid by hand; the clerk confirms the handover (recorded once, with
the clerk and the time) and prints a receipt to sign. Other organisations get 404; a second handover is refused."""

import pytest
from django.test import Client

from marketplace.core.models import AuditEvent
from marketplace.organisations.models import MemberFarmer
from payments.payouts import services
from payments.payouts.models import CashHandover, PayoutLine
from tests.formats import shown
from tests.payouts.factories import released_order


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def cash_line(world, django_capture_on_commit_callbacks):
    released_order(world)
    MemberFarmer.objects.filter(organisation=world.seller.organisation).update(phone="")
    batch = services.payout_batch_propose(actor=world.seller.manager, organisation_id=world.seller.organisation.pk)
    services.payout_batch_approve(actor=world.seller.manager, batch_id=batch.pk)
    # Executing records the attempt; the payout task (run on commit) pays the lines and marks the batch executed.
    with django_capture_on_commit_callbacks(execute=True):
        services.payout_batch_execute(actor=world.seller.manager, batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == "executed"
    return PayoutLine.objects.filter(batch=batch, net_amount__gt=0).order_by("pk").first()


def test_a_clerk_confirms_a_cash_handover_and_prints_the_receipt(world, cash_line):
    clerk = client_for(world.seller.clerk)
    listing = clerk.get("/payouts/cash/").content.decode()
    assert cash_line.farmer.name in listing and f"/payouts/cash/{cash_line.pk}/" in listing
    confirm = clerk.get(f"/payouts/cash/{cash_line.pk}/").content.decode()
    amount = shown(cash_line.net_amount)
    assert f"I handed over {amount}" in confirm and not CashHandover.objects.exists()
    answer = clerk.post(f"/payouts/cash/{cash_line.pk}/", {"note": "counted twice"})
    assert answer.status_code == 302 and answer["Location"] == f"/payouts/cash/{cash_line.pk}/receipt/"
    handover = CashHandover.objects.get(line=cash_line)
    assert handover.handed_over_by == world.seller.clerk and handover.handed_over_at is not None
    assert AuditEvent.objects.filter(action="payout_line.cash_handed_over", subject_id=str(cash_line.pk)).exists()
    receipt = clerk.get(answer["Location"]).content.decode()
    assert amount in receipt and "signature or thumbprint" in receipt
    assert (world.seller.clerk.full_name or world.seller.clerk.email) in receipt


def test_the_cash_is_handed_over_once(world, cash_line):
    clerk = client_for(world.seller.clerk)
    clerk.post(f"/payouts/cash/{cash_line.pk}/")
    again = client_for(world.seller.manager).post(f"/payouts/cash/{cash_line.pk}/")
    assert again.status_code == 409 and CashHandover.objects.count() == 1


def test_a_viewer_or_another_organisation_cannot_hand_over(world, cash_line):
    assert client_for(world.seller.viewer).post(f"/payouts/cash/{cash_line.pk}/").status_code in (403, 404)
    stranger = client_for(world.stranger.manager)
    assert stranger.get(f"/payouts/cash/{cash_line.pk}/").status_code == 404
    assert stranger.post(f"/payouts/cash/{cash_line.pk}/").status_code == 404
    assert stranger.get(f"/payouts/cash/{cash_line.pk}/receipt/").status_code == 404
    assert not CashHandover.objects.exists()


def test_cash_waits_for_the_payout_to_be_executed(world, django_capture_on_commit_callbacks):
    """A batch still executing (the provider has not answered) lists nothing to hand over and refuses a handover."""
    released_order(world)
    MemberFarmer.objects.filter(organisation=world.seller.organisation).update(phone="")
    batch = services.payout_batch_propose(actor=world.seller.manager, organisation_id=world.seller.organisation.pk)
    services.payout_batch_approve(actor=world.seller.manager, batch_id=batch.pk)
    services.payout_batch_execute(actor=world.seller.manager, batch_id=batch.pk)  # its task has not run
    line = PayoutLine.objects.filter(batch=batch, net_amount__gt=0).order_by("pk").first()
    clerk = client_for(world.seller.clerk)
    assert f"/payouts/cash/{line.pk}/" not in clerk.get("/payouts/cash/").content.decode()
    assert clerk.post(f"/payouts/cash/{line.pk}/").status_code == 409
    assert not CashHandover.objects.exists()


def test_the_cash_list_reads_in_few_queries(world, cash_line, django_assert_max_num_queries):
    clerk = client_for(world.seller.clerk)
    with django_assert_max_num_queries(20):
        assert clerk.get("/payouts/cash/").status_code == 200
