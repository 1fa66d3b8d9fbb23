"""A listing created, changed, paused, withdrawn or with more available re-matches its market on commit, through
catalogue's settings-driven subscriber list and the outbox (catalogue imports nothing of matching)."""

from catalogue.services import listing_release, listing_reserve, listing_status_transition, listing_update
from marketplace.core.models import OutboxMessage
from marketplace.matching import tasks
from marketplace.matching.models import Proposal
from tests.matching.factories import post_request
from tests.orders.factories import TONNE

CHANGED = "marketplace.matching.tasks.listing_changed"
REMATCH = "marketplace.matching.tasks.rematch_commodity"


def open_proposal(market):
    request = post_request(market)
    tasks.rematch_all()
    return Proposal.objects.get(request=request, status="open")


def test_withdrawing_a_listing_withdraws_the_proposal_naming_it_on_commit(
    market, django_capture_on_commit_callbacks, settings
):
    settings.MATCHING_DEBOUNCE_SECONDS = 30
    proposal = open_proposal(market)
    assert set(proposal.parts.values_list("listing_id", flat=True)) == {market.listing_a.pk, market.listing_b.pk}
    OutboxMessage.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        listing_status_transition(actor=market.coop_b.manager, listing_id=market.listing_b.pk, to_status="withdrawn")
    (changed,) = OutboxMessage.objects.filter(task_name=CHANGED)
    assert changed.args == [market.listing_b.pk]
    (rematch,) = OutboxMessage.objects.filter(task_name=REMATCH)  # debounced: within the window, not minutes later
    assert rematch.args == [market.grade_1.commodity_id, "XOF"] and (rematch.countdown or 0) <= 30
    proposal.refresh_from_db()
    assert proposal.status == "withdrawn" and proposal.reason
    # Listing A alone holds 12 t, under the request's 15 t truckload: nothing replaces it.
    assert not Proposal.objects.filter(request=proposal.request, status="open").exists()


def test_a_price_change_publishes_and_reprices_the_proposal(market, django_capture_on_commit_callbacks):
    from marketplace.core.money import Money

    proposal = open_proposal(market)
    OutboxMessage.objects.all().delete()  # the request's own debounced re-match, in this window, has run
    with django_capture_on_commit_callbacks(execute=True):
        listing_update(actor=market.coop_b.manager, listing_id=market.listing_b.pk, price=Money(1_800, "XOF"))
    assert OutboxMessage.objects.filter(task_name=CHANGED, args=[market.listing_b.pk]).exists()
    proposal.refresh_from_db()
    assert proposal.status == "withdrawn"  # listing B now asks more than the buyer pays


def test_no_open_request_schedules_nothing_and_reservations_are_not_published(market):
    assert tasks.listing_changed(market.listing_a.pk) is False
    assert tasks.listing_changed(10**9) is False  # a listing that no longer exists
    OutboxMessage.objects.all().delete()
    listing_reserve(listing_id=market.listing_a.pk, grams=TONNE)
    assert not OutboxMessage.objects.filter(task_name=CHANGED).exists()
    listing_release(listing_id=market.listing_a.pk, grams=TONNE)
    assert OutboxMessage.objects.filter(task_name=CHANGED, args=[market.listing_a.pk]).exists()
    post_request(market)
    assert tasks.listing_changed(market.listing_a.pk) is True


def test_the_subscribers_come_from_the_settings(market, settings):
    settings.LISTING_EVENT_SUBSCRIBERS = {"created": [], "changed": []}
    OutboxMessage.objects.all().delete()
    listing_status_transition(actor=market.coop_a.manager, listing_id=market.listing_a.pk, to_status="paused")
    assert not OutboxMessage.objects.exists() or not OutboxMessage.objects.filter(task_name=CHANGED).exists()
