"""Payment pages and API: the buyer pays (offline, no script), the seller's money page, the operator's ledger;
bad input answers 4xx and writes nothing; other organisations get 404 on every page and endpoint."""

import pytest
from django.test import Client

from payments.models import Entry, LedgerTransaction, Payment
from tests.formats import shown
from tests.orders.factories import advance, place
from tests.payments.conftest import batch_of, move, onboard, paid_order, pay_members

BACKEND = "django.contrib.auth.backends.ModelBackend"
pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user, backend=BACKEND)
    return client


def test_the_buyer_pays_on_the_page_without_script(world, run_commits):
    order = advance(world, place(world), "accepted")
    buyer = signed_in(world.buyer.manager)
    page = buyer.get(f"/payments/orders/{order.number}/")
    assert page.status_code == 200 and f"Pay {shown(3_000_000)} (demo)" in page.text and "Stripe(" not in page.text
    with run_commits():
        answer = buyer.post(f"/payments/orders/{order.number}/pay/", {"amount": "3000000", "currency": "XOF"})
    assert answer.status_code == 302
    order.refresh_from_db()
    assert order.status == "paid"
    page = buyer.get(f"/payments/orders/{order.number}/")
    assert f'id="held">{shown(3_000_000)}' in page.text and "(demo)" not in page.text


def test_a_wrong_amount_on_the_page_is_refused_and_nothing_is_written(world):
    order = advance(world, place(world), "accepted")
    buyer = signed_in(world.buyer.manager)
    answer = buyer.post(f"/payments/orders/{order.number}/pay/", {"amount": "2999999", "currency": "XOF"})
    assert (
        answer.status_code == 400 and "Nothing was changed" in answer.text and "comes to 3,000,000 XOF" in answer.text
    )
    assert not Payment.objects.exists() and not Entry.objects.exists()
    clerk = signed_in(world.buyer.clerk)
    assert (
        clerk.post(f"/payments/orders/{order.number}/pay/", {"amount": "3000000", "currency": "XOF"}).status_code == 403
    )


def test_the_cooperatives_money_page_shows_held_released_and_fees(world, run_commits, settings):
    settings.PLATFORM_FEE_BP = 300
    settings.PAYOUT_DEFAULT_LEVY_BP = 200
    onboard(world)
    held = paid_order(world)
    released = paid_order(world)
    with run_commits():
        move(world, released, "completed")
    url = f"/payments/money/{world.seller.organisation.pk}/"
    text = signed_in(world.seller.viewer).get(url).text
    # Released to the cooperative, waiting for its payout batch: owed, nothing sent yet.
    assert f'class="num held">{shown(3_000_000)}' in text and f'class="num released">{shown(3_000_000)}' in text
    assert f'class="num fees">{shown(90_000)}' in text and f'class="num owed">{shown(2_910_000)}' in text
    assert f'class="num sent">{shown(0)}' in text
    with run_commits():
        pay_members(world, batch_of(released))
    page = signed_in(world.seller.viewer).get(url)
    assert page.status_code == 200
    text = page.text
    # The members have their net; the levy is what was sent to the cooperative's own account.
    assert f'class="num held">{shown(3_000_000)}' in text and f'class="num released">{shown(3_000_000)}' in text
    assert f'class="num fees">{shown(90_000)}' in text and f'class="num owed">{shown(0)}' in text
    assert f'class="num sent">{shown(58_200)}' in text
    assert held.number in text
    assert signed_in(world.seller.manager).get("/payments/money/").status_code == 302


def test_the_operator_sees_the_ledger(world, run_commits):
    paid_order(world)
    page = signed_in(world.operator.viewer).get("/payments/ledger/")
    assert page.status_code == 200 and 'id="ledger-ok"' in page.text and "Order escrow" in page.text


def test_the_api_pays_releases_once_and_refuses_overrefunds(world, run_commits, as_user):
    order = advance(world, place(world), "accepted")
    api = as_user(world.buyer.manager)
    wrong = api.post("/api/v1/payments/", {"order": order.number, "amount": 3_000_000, "currency": "EUR"})
    assert wrong.status_code == 400 and "currency" in wrong.json()["error"]["fields"]
    assert not Payment.objects.exists()
    started = api.post("/api/v1/payments/", {"order": order.number, "amount": 3_000_000, "currency": "XOF"})
    assert started.status_code == 201 and started.json()["status"] == "pending"
    with run_commits():
        paid = api.post(f"/api/v1/payments/{started.json()['id']}/offline-pay/")
    assert paid.status_code == 200 and paid.json()["status"] == "succeeded"
    assert api.get(f"/api/v1/payments/orders/{order.number}/").json()["held"] == 3_000_000
    operator = as_user(world.operator.manager)
    too_much = operator.post(f"/api/v1/payments/orders/{order.number}/refunds/", {"amount": 3_000_001, "reason": "x"})
    assert too_much.status_code == 400 and "more than that" in too_much.json()["error"]["message"]
    early = operator.post(f"/api/v1/payments/orders/{order.number}/release/")
    assert early.status_code == 409
    with run_commits():
        move(world, order, "completed")
    again = operator.post(f"/api/v1/payments/orders/{order.number}/release/")
    assert again.status_code == 409 and "already been released" in again.json()["error"]["message"]
    assert LedgerTransaction.objects.filter(kind="release").count() == 1
    money = as_user(world.seller.manager).get(f"/api/v1/payments/organisations/{world.seller.organisation.pk}/money/")
    assert money.status_code == 200 and money.json()["figures"]["XOF"]["fees"] == 90_000
    assert as_user(world.operator.manager).get("/api/v1/payments/ledger/").json()["problems"] == []


def test_a_user_of_another_organisation_sees_and_does_nothing(world, run_commits, as_user):
    order = paid_order(world)
    payment = Payment.objects.get(order=order)
    stranger = world.stranger.manager
    page = signed_in(stranger)
    seller_id = world.seller.organisation.pk
    for url in [f"/payments/orders/{order.number}/", f"/payments/money/{seller_id}/", "/payments/ledger/"]:
        assert page.get(url).status_code == 404, url
    for url in [f"/payments/orders/{order.number}/pay/", f"/payments/money/{seller_id}/payouts/"]:
        assert page.post(url, {"amount": "3000000", "currency": "XOF"}).status_code == 404, url
    api = as_user(stranger)
    assert api.get("/api/v1/payments/").json() == []
    gets = [f"/api/v1/payments/{payment.pk}/", f"/api/v1/payments/orders/{order.number}/",
            f"/api/v1/payments/organisations/{seller_id}/money/", "/api/v1/payments/ledger/"]  # fmt: skip
    for url in gets:
        assert api.get(url).status_code == 404, url
    posts = {
        "/api/v1/payments/": {"order": order.number, "amount": 3_000_000, "currency": "XOF"},
        f"/api/v1/payments/{payment.pk}/offline-pay/": {},
        f"/api/v1/payments/orders/{order.number}/release/": {},
        f"/api/v1/payments/orders/{order.number}/refunds/": {"amount": 1, "reason": "mine"},
        f"/api/v1/payments/organisations/{seller_id}/payout-onboarding/": {"return_url": "http://x.test/"},
    }
    for url, body in posts.items():
        assert api.post(url, body).status_code == 404, url
    # The seller sees its order's money but cannot act as the operator.
    seller = as_user(world.seller.manager)
    assert seller.get(f"/api/v1/payments/orders/{order.number}/").status_code == 200
    assert (
        seller.post(f"/api/v1/payments/orders/{order.number}/refunds/", {"amount": 1, "reason": "x"}).status_code == 404
    )
    assert seller.get("/api/v1/payments/ledger/").status_code == 404
    assert Entry.objects.filter(transaction__kind="refund").count() == 0


def test_anonymous_visitors_are_sent_to_sign_in(world):
    order = paid_order(world)
    assert Client().get(f"/payments/orders/{order.number}/").status_code == 302
    assert Client().get("/api/v1/payments/").status_code in (401, 403)
