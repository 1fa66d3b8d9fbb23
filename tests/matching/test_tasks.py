"""The periodic re-matches: nightly for every market with open requests, and every few minutes for the markets
whose listings changed."""

import datetime

from django.utils import timezone

from catalogue.models import Listing
from marketplace.core.models import OutboxMessage
from marketplace.matching import tasks
from marketplace.matching.models import Proposal
from tests.matching.factories import post_request

REMATCH = "marketplace.matching.tasks.rematch_commodity"


def test_rematch_all_proposes_for_every_open_market(market):
    request = post_request(market)
    assert tasks.rematch_all() == 1
    assert Proposal.objects.filter(request=request, status="open").count() == 1
    assert tasks.rematch_all() == 1  # again: the same proposal is kept
    assert Proposal.objects.filter(request=request).count() == 1


def test_a_listing_change_schedules_a_rematch_of_its_market_only(market):
    post_request(market)
    OutboxMessage.objects.all().delete()
    long_ago = timezone.now() - datetime.timedelta(hours=2)
    Listing.objects.update(updated_at=long_ago)
    assert tasks.rematch_changed_listings() == 0
    assert not OutboxMessage.objects.filter(task_name=REMATCH).exists()
    Listing.objects.filter(pk=market.listing_b.pk).update(updated_at=timezone.now())
    assert tasks.rematch_changed_listings() == 1
    (message,) = OutboxMessage.objects.filter(task_name=REMATCH)
    assert message.args == [market.grade_1.commodity_id, "XOF"]
