"""The buyer's side of the journey: add to basket from the catalogue, the order leads to the pay page, and after
paying the buyer's money page shows the payment and the amount held; another organisation sees none of it."""

import pytest
from django.test import Client, override_settings

from payments.models import Payment
from tests.formats import shown
from tests.orders.factories import advance, place

BACKEND = "django.contrib.auth.backends.ModelBackend"
pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user, backend=BACKEND)
    return client


def test_an_accepted_order_leads_the_buyer_to_the_pay_page_and_the_money_page_shows_the_payment(world, run_commits):
    """Without the demo button (DEBUG off) the buyer transfers the money and the operator confirms it was received;
    the pay page leads on to the order both while the transfer is awaited and once it is paid."""
    order = advance(world, place(world), "accepted")
    buyer = signed_in(world.buyer.manager)
    detail = buyer.get(f"/orders/{order.number}/").text
    assert f'href="/payments/orders/{order.number}/"' in detail and "Pay for the order" in detail
    assert "(demo)" not in buyer.get(f"/payments/orders/{order.number}/").text
    with run_commits():
        buyer.post(f"/payments/orders/{order.number}/pay/", {"amount": "3000000", "currency": "XOF"})
    waiting = buyer.get(f"/payments/orders/{order.number}/").text
    payment = Payment.objects.get(order=order)
    assert payment.status == Payment.Status.PENDING and payment.reference in waiting
    assert "Follow the order" in waiting and f'href="/orders/{order.number}/"' in waiting
    operator = signed_in(world.operator.manager)
    with run_commits():
        confirmed = operator.post(
            f"/payments/orders/{order.number}/confirm-received/",
            {"payment": payment.pk, "transfer_reference": "BANK-1"},
        )
    assert confirmed.status_code == 302
    assert "Follow the order" in buyer.get(f"/payments/orders/{order.number}/").text
    money = buyer.get("/payments/money/", follow=True).text
    assert f'class="num paid">{shown(3_000_000)}' in money and f'class="num held">{shown(3_000_000)}' in money
    assert order.number in money and "Set up payouts" not in money


def test_in_demo_mode_the_buyer_pays_at_once_and_is_led_on_to_the_order(world, run_commits):
    order = advance(world, place(world), "accepted")
    buyer = signed_in(world.buyer.manager)
    with override_settings(DEBUG=True):
        assert "(demo)" in buyer.get(f"/payments/orders/{order.number}/").text
        with run_commits():
            buyer.post(f"/payments/orders/{order.number}/pay/", {"amount": "3000000", "currency": "XOF", "demo": "1"})
        page = buyer.get(f"/payments/orders/{order.number}/").text
    assert Payment.objects.get(order=order).status == Payment.Status.SUCCEEDED
    assert "Follow the order" in page and f'href="/orders/{order.number}/"' in page
    money = buyer.get("/payments/money/", follow=True).text
    assert f'class="num paid">{shown(3_000_000)}' in money and f'class="num held">{shown(3_000_000)}' in money


def test_the_seller_sees_what_comes_next_but_no_pay_button(world):
    order = advance(world, place(world), "accepted")
    seller = signed_in(world.seller.manager)
    detail = seller.get(f"/orders/{order.number}/").text
    assert "Next: the buyer pays into escrow" in detail and "Pay for the order" not in detail


def test_another_organisation_gets_404_on_the_buyers_money(world, django_assert_max_num_queries):
    buyer = signed_in(world.buyer.manager)
    stranger = signed_in(world.seller.manager)
    assert stranger.get(f"/payments/money/{world.buyer.organisation.pk}/").status_code in (403, 404)
    with django_assert_max_num_queries(25):
        assert buyer.get(f"/payments/money/{world.buyer.organisation.pk}/").status_code == 200


def test_a_listing_card_and_page_offer_add_to_basket_to_buyers_only(world):
    listing = world.listing
    buyer = signed_in(world.buyer.manager)
    for url in ("/catalogue/", f"/catalogue/listings/{listing.pk}/"):
        text = buyer.get(url).text
        assert 'action="/orders/basket/add/"' in text and f'name="listing" value="{listing.pk}"' in text, url
    assert (
        'action="/orders/basket/add/"'
        not in signed_in(world.seller.manager).get(f"/catalogue/listings/{listing.pk}/").text
    )
    answer = buyer.post("/orders/basket/add/", {"listing": listing.pk, "quantity_kg": "2000"})
    assert answer.status_code == 302 and "Place the order" in buyer.get("/orders/basket/").text
