"""Payment pages and API: the buyer pays (offline, no script), the seller's money page, the operator's ledger;
bad input answers 4xx and writes nothing; other organisations get 404 on every page and endpoint."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from payments.models import Entry, LedgerTransaction, OfflinePaymentConfirmation, Payment
from tests.formats import shown
from tests.orders.factories import advance, place
from tests.payments.conftest import batch_of, move, onboard, paid_order, pay_members

BACKEND = "django.contrib.auth.backends.ModelBackend"
pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user, backend=BACKEND)
    return client


def test_the_buyer_pays_on_the_page_without_script(world, run_commits, settings):
    settings.DEBUG = True  # the demo button, which moves no money
    order = advance(world, place(world), "accepted")
    buyer = signed_in(world.buyer.manager)
    page = buyer.get(f"/payments/orders/{order.number}/")
    assert page.status_code == 200 and f"Pay {shown(3_000_000)} (demo)" in page.text and "Stripe(" not in page.text
    with run_commits():
        answer = buyer.post(
            f"/payments/orders/{order.number}/pay/", {"amount": "3000000", "currency": "XOF", "demo": "1"}
        )
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
    from payments.tasks import ledger_verify

    paid_order(world)
    page = signed_in(world.operator.viewer).get("/payments/ledger/")
    assert page.status_code == 200 and 'id="ledger-unchecked"' in page.text and "Order escrow" in page.text
    ledger_verify()
    page = signed_in(world.operator.viewer).get("/payments/ledger/")
    assert 'id="ledger-ok"' in page.text and 'id="ledger-checked-at"' in page.text


def test_the_api_pays_releases_once_and_refuses_overrefunds(world, run_commits, as_user):
    order = advance(world, place(world), "accepted")
    api = as_user(world.buyer.manager)
    wrong = api.post("/api/v1/payments/", {"order": order.number, "amount": 3_000_000, "currency": "EUR"})
    assert wrong.status_code == 400 and "currency" in wrong.json()["error"]["fields"]
    assert not Payment.objects.exists()
    started = api.post("/api/v1/payments/", {"order": order.number, "amount": 3_000_000, "currency": "XOF"})
    assert started.status_code == 201 and started.json()["status"] == "pending"
    payment_id = started.json()["id"]
    # No self-service "payment" outside demo mode: the operator confirms the transfer received.
    assert api.post(f"/api/v1/payments/{payment_id}/offline-pay/").status_code == 403
    confirm = f"/api/v1/payments/{payment_id}/confirm-received/"
    assert api.post(confirm, {"transfer_reference": "BANK-1"}).status_code == 404  # the buyer cannot confirm
    operator = as_user(world.operator.manager)
    assert operator.post(confirm, {"transfer_reference": ""}).status_code == 400
    evidence = SimpleUploadedFile("receipt.exe", b"MZ", content_type="application/octet-stream")
    bad = operator.post(confirm, {"transfer_reference": "BANK-1", "evidence": evidence}, format="multipart")
    assert bad.status_code == 400 and "evidence" in bad.json()["error"]["fields"]
    evidence = SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 receipt", content_type="application/pdf")
    with run_commits():
        paid = operator.post(confirm, {"transfer_reference": "BANK-1", "evidence": evidence}, format="multipart")
    assert paid.status_code == 200 and paid.json()["status"] == "succeeded"
    confirmation = OfflinePaymentConfirmation.objects.get(payment_id=payment_id)
    assert confirmation.transfer_reference == "BANK-1" and confirmation.confirmed_by == world.operator.manager
    assert confirmation.evidence.name.endswith(".pdf")
    api = as_user(world.buyer.manager)
    assert api.get(f"/api/v1/payments/orders/{order.number}/").json()["held"] == 3_000_000
    operator = as_user(world.operator.manager)
    too_much = operator.post(
        f"/api/v1/payments/orders/{order.number}/refunds/", {"amount": 3_000_001, "reason": "x"},
        headers={"Idempotency-Key": "too-much-1"},
    )  # fmt: skip
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
        f"/api/v1/payments/{payment.pk}/confirm-received/": {"transfer_reference": "X"},
        f"/api/v1/payments/orders/{order.number}/release/": {},
        f"/api/v1/payments/orders/{order.number}/refunds/": {"amount": 1, "reason": "mine"},
        f"/api/v1/payments/organisations/{seller_id}/payout-onboarding/": {"return_url": "http://x.test/"},
    }
    for number, (url, body) in enumerate(posts.items()):
        assert api.post(url, body, headers={"Idempotency-Key": f"other-{number}"}).status_code == 404, url
    # The seller sees its order's money but cannot act as the operator.
    seller = as_user(world.seller.manager)
    assert seller.get(f"/api/v1/payments/orders/{order.number}/").status_code == 200
    assert (
        seller.post(
            f"/api/v1/payments/orders/{order.number}/refunds/",
            {"amount": 1, "reason": "x"},
            headers={"Idempotency-Key": "seller-1"},
        ).status_code
        == 404
    )
    assert seller.get("/api/v1/payments/ledger/").status_code == 404
    assert Entry.objects.filter(transaction__kind="refund").count() == 0


def test_anonymous_visitors_are_sent_to_sign_in(world):
    order = paid_order(world)
    assert Client().get(f"/payments/orders/{order.number}/").status_code == 302
    assert Client().get("/api/v1/payments/").status_code in (401, 403)


def test_the_demo_button_exists_only_with_debug_on(world, settings):
    order = advance(world, place(world), "accepted")
    buyer = signed_in(world.buyer.manager)
    settings.DEBUG = False
    page = buyer.get(f"/payments/orders/{order.number}/")
    assert "(demo)" not in page.text and "Pay by bank or mobile-money transfer" in page.text
    demo = buyer.post(f"/payments/orders/{order.number}/pay/", {"amount": order.total_amount, "currency": "XOF",
                                                               "demo": "1"})  # fmt: skip
    assert demo.status_code == 302 and Payment.objects.get().status == "pending"  # started, not paid
    page = buyer.get(f"/payments/orders/{order.number}/")
    assert Payment.objects.get().reference in page.text
    settings.DEBUG = True
    assert "(demo)" in buyer.get(f"/payments/orders/{order.number}/").text


def test_without_offline_payments_the_deployment_takes_no_payment(world, settings):
    settings.OFFLINE_PAYMENTS = False
    order = advance(world, place(world), "accepted")
    page = signed_in(world.buyer.manager).get(f"/payments/orders/{order.number}/")
    assert "does not take payments yet" in page.text
    refused = signed_in(world.buyer.manager).post(
        f"/payments/orders/{order.number}/pay/", {"amount": order.total_amount, "currency": "XOF"}
    )
    assert refused.status_code == 409 and not Payment.objects.exists()


def test_the_operator_confirms_a_transfer_on_the_order_page(world, run_commits):
    order = advance(world, place(world), "accepted")
    signed_in(world.buyer.manager).post(
        f"/payments/orders/{order.number}/pay/", {"amount": order.total_amount, "currency": "XOF"}
    )
    payment = Payment.objects.get()
    operator = signed_in(world.operator.manager)
    assert "Confirm the transfer received" in operator.get(f"/payments/orders/{order.number}/").text
    url = f"/payments/orders/{order.number}/confirm-received/"
    assert (
        signed_in(world.seller.manager).post(url, {"payment": payment.pk, "transfer_reference": "X"}).status_code == 404
    )
    empty = operator.post(url, {"payment": payment.pk, "transfer_reference": ""})
    assert empty.status_code == 400 and Payment.objects.get().status == "pending"
    with run_commits():
        done = operator.post(url, {"payment": payment.pk, "transfer_reference": "MOMO-778"})
    assert done.status_code == 302
    order.refresh_from_db()
    assert Payment.objects.get().status == "succeeded" and order.status == "paid"


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["is held in escrow for order {number}; a refund of", "is more than that."]),
        ("fr", ["sont en séquestre pour la commande {number} ; un remboursement de", "dépasse ce montant."]),
        ("sw", ["zilizoshikiliwa kwa agizo {number}; kurejesha", "ni zaidi ya hapo."]),
    ],
)
def test_a_refund_above_the_escrow_is_refused_in_the_language_asked(world, run_commits, as_user, language, words):
    with run_commits():
        order = paid_order(world)
    operator = as_user(world.operator.manager)
    response = operator.post(
        f"/api/v1/payments/orders/{order.number}/refunds/",
        {"amount": 3_000_001, "reason": "x"},
        headers={"Idempotency-Key": f"too-much-{language}", "Accept-Language": language},
    )
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    for word in words:
        assert word.format(number=order.number) in message, message
    assert response["Content-Language"] == language
