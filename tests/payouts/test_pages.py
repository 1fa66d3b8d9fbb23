"""Payout pages: batches with approval for managers, the payment file, member statements (page and PDF);
refusals show a clear message and change nothing; other organisations get 404 on every page."""

import pytest
from django.test import Client

from payments.models import LedgerTransaction
from payments.payouts import services
from payments.payouts.models import CooperativePayoutPolicy, PayoutBatch
from tests.formats import shown
from tests.orders.factories import make_side
from tests.payouts.factories import released_order

S = PayoutBatch.Status


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def batch(world):
    released_order(world)
    return services.payout_batch_propose(actor=world.seller.manager, organisation_id=world.seller.organisation.pk)


def test_a_manager_proposes_approves_and_executes_from_the_pages(world, django_capture_on_commit_callbacks):
    order, _net = released_order(world)
    client = client_for(world.seller.manager)
    page = client.get("/payouts/")
    assert page.status_code == 200 and order.number in page.content.decode()
    response = client.post("/payouts/propose/")
    batch = PayoutBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/payouts/{batch.pk}/"
    detail = client.get(f"/payouts/{batch.pk}/").content.decode()
    assert "Approve the payout batch" in detail and f"{shown(950_600)}" in detail
    assert client.post(f"/payouts/{batch.pk}/move/approved/").status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/payouts/{batch.pk}/move/executed/").status_code == 302
    batch.refresh_from_db()
    assert batch.status == S.EXECUTED
    csv = client.get(f"/payouts/{batch.pk}/payments.csv")
    assert csv.status_code == 200 and csv.content.decode().startswith("phone,amount,reference")


def test_nothing_to_propose_shows_the_reason(world):
    response = client_for(world.seller.manager).post("/payouts/propose/")
    assert response.status_code == 400
    assert "nothing to pay" in response.content.decode() and not PayoutBatch.objects.exists()


def test_approving_twice_shows_a_409(world, batch):
    client = client_for(world.seller.manager)
    client.post(f"/payouts/{batch.pk}/move/approved/")
    response = client.post(f"/payouts/{batch.pk}/move/approved/")
    assert response.status_code == 409 and "Nothing was changed" in response.content.decode()
    assert LedgerTransaction.objects.filter(kind="payout_allocation").count() == 1


def test_a_clerk_sees_but_cannot_approve(world, batch):
    client = client_for(world.seller.clerk)
    page = client.get(f"/payouts/{batch.pk}/").content.decode()
    assert "Approve the payout batch" not in page
    assert client.post(f"/payouts/{batch.pk}/move/approved/").status_code == 403
    assert client.post("/payouts/propose/").status_code == 403
    assert client.post("/payouts/policy/", {"levy_percent": "5"}).status_code == 403
    batch.refresh_from_db()
    assert batch.status == S.PROPOSED and not CooperativePayoutPolicy.objects.exists()


def test_the_levy_form(world):
    client = client_for(world.seller.manager)
    assert client.post("/payouts/policy/", {"levy_percent": "abc"}).status_code == 400
    assert client.post("/payouts/policy/", {"levy_percent": "101"}).status_code == 400
    assert client.post("/payouts/policy/", {"levy_percent": "2,5"}).status_code == 302
    assert CooperativePayoutPolicy.objects.get().levy_bp == 250
    assert "2.5" in client.get("/payouts/").content.decode()


def test_the_statement_page_and_pdf(world, batch):
    line = batch.lines.order_by("farmer_id").first()
    client = client_for(world.seller.viewer)
    page = client.get(f"/payouts/members/{line.farmer_id}/statement/")
    text = page.content.decode()
    assert page.status_code == 200
    assert line.farmer.name in text and f"{shown(970_000)}" in text and f"{shown(19_400)}" in text
    assert world.listing.lot.code in text
    pdf = client.get(f"/payouts/members/{line.farmer_id}/statement.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_a_buyer_has_no_payout_pages(world):
    assert client_for(world.buyer.manager).get("/payouts/").status_code == 404


def _pages(batch):
    farmer_id = batch.lines.first().farmer_id
    return [
        ("get", f"/payouts/{batch.pk}/"),
        ("get", f"/payouts/{batch.pk}/payments.csv"),
        ("post", f"/payouts/{batch.pk}/move/approved/"),
        ("post", f"/payouts/{batch.pk}/move/executed/"),
        ("post", f"/payouts/{batch.pk}/move/cancelled/"),
        ("get", f"/payouts/members/{farmer_id}/statement/"),
        ("get", f"/payouts/members/{farmer_id}/statement.pdf"),
    ]


@pytest.mark.parametrize("who", ["other_coop", "buyer", "operator"])
def test_other_organisations_get_404_on_every_page(world, batch, who):
    services.payout_batch_approve(actor=world.seller.manager, batch_id=batch.pk)
    other = make_side(legal_name="Another Cooperative")
    client = client_for(other.manager if who == "other_coop" else world.actor(who))
    for method, url in _pages(batch):
        response = getattr(client, method)(url, {"reason": "x"} if method == "post" else None)
        assert response.status_code == 404, (url, response.status_code)
    if who == "other_coop":
        # Their own payouts page lists nothing of ours, and proposing there pays none of our orders.
        page = client.get("/payouts/").content.decode()
        assert batch.reference not in page
        assert client.post("/payouts/propose/").status_code == 400
    batch.refresh_from_db()
    assert batch.status == S.APPROVED and PayoutBatch.objects.count() == 1


def test_signed_out_visitors_are_sent_to_sign_in(world, batch):
    for method, url in [*_pages(batch), ("get", "/payouts/"), ("post", "/payouts/propose/")]:
        response = getattr(Client(), method)(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
