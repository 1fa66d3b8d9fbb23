"""The payouts API: every endpoint, its refusals (clear 4xx, nothing written) and isolation between
organisations."""

import csv
import io

import pytest

from marketplace.core.models import AuditEvent
from payments.models import LedgerTransaction
from payments.payouts import services
from payments.payouts.models import PayoutBatch
from tests.orders.factories import make_side
from tests.payouts.factories import released_order

S = PayoutBatch.Status


@pytest.fixture
def batch(world):
    released_order(world)
    return services.payout_batch_propose(actor=world.seller.manager, organisation_id=world.seller.organisation.pk)


def test_propose_approve_execute_through_the_api(world, as_user, django_capture_on_commit_callbacks, sms_outbox):
    order, net = released_order(world)
    client = as_user(world.seller.manager)
    candidates = client.get(f"/api/v1/payout-candidates/?organisation={world.seller.organisation.pk}")
    assert candidates.status_code == 200
    assert candidates.json() == [{"order": order.pk, "number": order.number, "amount": net, "currency": "XOF"}]
    created = client.post("/api/v1/payout-batches/", {"organisation": world.seller.organisation.pk}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "proposed" and body["proceeds_amount"] == net and len(body["lines"]) == 3
    assert body["proposed_by"]["id"] == world.seller.manager.pk and body["approved_by"] is None
    assert sum(line["gross_amount"] for line in body["lines"]) == net
    assert body["lines"][0]["shares"][0]["order"] == order.number
    batch_id = body["id"]
    approved = as_user(world.seller.admin).post(f"/api/v1/payout-batches/{batch_id}/approve/")
    assert approved.status_code == 200 and approved.json()["approved_by"]["id"] == world.seller.admin.pk
    with django_capture_on_commit_callbacks(execute=True):
        executed = client.post(f"/api/v1/payout-batches/{batch_id}/execute/")
    # The request starts the execution; the provider is called after the commit, by a task.
    assert executed.status_code == 200 and executed.json()["status"] == "executing"
    executed = client.get(f"/api/v1/payout-batches/{batch_id}/")
    assert executed.json()["status"] == "executed" and all(line["paid_at"] for line in executed.json()["lines"])
    assert len(sms_outbox) == 3
    listed = client.get(f"/api/v1/payout-batches/?organisation={world.seller.organisation.pk}&status=executed")
    assert [b["id"] for b in listed.json()["results"]] == [batch_id]
    file = client.get(f"/api/v1/payout-batches/{batch_id}/csv/")
    assert file.status_code == 200 and file["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(file.content.decode())))
    assert rows[0] == ["phone", "amount", "reference"] and len(rows) == 4
    assert rows[1][1] == "950600" and rows[1][0].startswith("225") and rows[1][2].startswith("PB")


def test_proposing_with_nothing_to_pay_is_400(world, as_user):
    response = as_user(world.seller.manager).post(
        "/api/v1/payout-batches/", {"organisation": world.seller.organisation.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "nothing_to_pay"
    assert "nothing to pay" in response.json()["error"]["message"]
    assert not PayoutBatch.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [({}, "organisation"), ({"organisation": "x"}, "organisation"), ({"organisation": 1, "orders": []}, "orders")],
)
def test_bad_proposals_name_the_field(world, as_user, payload, field):
    response = as_user(world.seller.manager).post("/api/v1/payout-batches/", payload, format="json")
    assert response.status_code == 400 and field in response.json()["error"]["fields"]


def test_approving_twice_is_409(world, as_user, batch):
    client = as_user(world.seller.manager)
    assert client.post(f"/api/v1/payout-batches/{batch.pk}/approve/").status_code == 200
    again = client.post(f"/api/v1/payout-batches/{batch.pk}/approve/")
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"
    assert LedgerTransaction.objects.filter(kind="payout_allocation").count() == 1


def test_executing_before_approval_is_409(world, as_user, batch):
    response = as_user(world.seller.manager).post(f"/api/v1/payout-batches/{batch.pk}/execute/")
    assert response.status_code == 409
    assert PayoutBatch.objects.get().status == S.PROPOSED


@pytest.mark.parametrize("role", ["clerk", "viewer"])
def test_a_clerk_reads_but_cannot_approve(world, as_user, batch, role):
    client = as_user(world.seller.by_role(role))
    assert client.get(f"/api/v1/payout-batches/{batch.pk}/").status_code == 200
    audits = AuditEvent.objects.count()
    response = client.post(f"/api/v1/payout-batches/{batch.pk}/approve/")
    assert response.status_code == 403 and "role" in response.json()["error"]["message"].lower()
    assert client.post(f"/api/v1/payout-batches/{batch.pk}/cancel/", {"reason": "x"}).status_code == 403
    assert client.put(
        f"/api/v1/organisations/{world.seller.organisation.pk}/payout-policy/", {"levy_bp": 1}, format="json"
    ).status_code == 403  # fmt: skip
    assert (
        client.post("/api/v1/payout-batches/", {"organisation": world.seller.organisation.pk}, format="json")
        .status_code == 403
    )  # fmt: skip
    batch.refresh_from_db()
    assert batch.status == S.PROPOSED and AuditEvent.objects.count() == audits


def test_cancel_needs_a_reason(world, as_user, batch):
    client = as_user(world.seller.manager)
    response = client.post(f"/api/v1/payout-batches/{batch.pk}/cancel/", {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["error"]["fields"]
    response = client.post(f"/api/v1/payout-batches/{batch.pk}/cancel/", {"reason": "Wrong"}, format="json")
    assert response.status_code == 200 and response.json()["cancel_reason"] == "Wrong"


def test_the_levy_policy(world, as_user):
    client = as_user(world.seller.manager)
    url = f"/api/v1/organisations/{world.seller.organisation.pk}/payout-policy/"
    assert client.get(url).json() == {"organisation": world.seller.organisation.pk, "levy_bp": 200, "is_default": True}
    assert client.put(url, {"levy_bp": 10_001}, format="json").status_code == 400
    response = client.put(url, {"levy_bp": 350}, format="json")
    assert response.status_code == 200 and response.json()["levy_bp"] == 350 and not response.json()["is_default"]
    buyer_url = f"/api/v1/organisations/{world.buyer.organisation.pk}/payout-policy/"
    assert as_user(world.buyer.manager).get(buyer_url).status_code == 404


def test_the_statement_api(world, as_user, batch):
    farmer_id = batch.lines.order_by("farmer_id").first().farmer_id
    client = as_user(world.seller.clerk)
    body = client.get(f"/api/v1/farmers/{farmer_id}/statement/").json()
    assert len(body["deliveries"]) == 1 and len(body["lots"]) == 1
    assert body["payouts"][0]["status"] == "proposed" and body["totals"][0]["gross"] == 970_000
    pdf = client.get(f"/api/v1/farmers/{farmer_id}/statement/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def _endpoints(world, batch):
    farmer_id = batch.lines.first().farmer_id
    organisation = world.seller.organisation.pk
    b = f"/api/v1/payout-batches/{batch.pk}/"
    return [
        ("get", b, None),
        ("get", f"{b}csv/", None),
        ("post", f"{b}approve/", None),
        ("post", f"{b}execute/", None),
        ("post", f"{b}cancel/", {"reason": "mine now"}),
        ("get", f"/api/v1/payout-candidates/?organisation={organisation}", None),
        ("get", f"/api/v1/organisations/{organisation}/payout-policy/", None),
        ("put", f"/api/v1/organisations/{organisation}/payout-policy/", {"levy_bp": 9000}),
        ("post", "/api/v1/payout-batches/", {"organisation": organisation}),
        ("get", f"/api/v1/farmers/{farmer_id}/statement/", None),
        ("get", f"/api/v1/farmers/{farmer_id}/statement/pdf/", None),
    ]


@pytest.mark.parametrize("who", ["other_coop", "buyer", "operator"])
def test_other_organisations_get_404_on_every_endpoint(world, as_user, batch, who):
    services.payout_batch_approve(actor=world.seller.manager, batch_id=batch.pk)
    actor = make_side(legal_name="Another Cooperative").manager if who == "other_coop" else world.actor(who)
    client = as_user(actor)
    for method, url, data in _endpoints(world, batch):
        response = getattr(client, method)(url, data, format="json") if data else getattr(client, method)(url)
        assert response.status_code == 404, (method, url, response.status_code)
    listed = client.get("/api/v1/payout-batches/")
    assert listed.status_code == 200 and listed.json()["results"] == []
    batch.refresh_from_db()
    assert batch.status == S.APPROVED and PayoutBatch.objects.count() == 1


def test_anonymous_requests_are_refused(world, api_client, batch):
    for method, url, data in _endpoints(world, batch):
        response = getattr(api_client, method)(url, data, format="json") if data else getattr(api_client, method)(url)
        assert response.status_code in (401, 403), url
