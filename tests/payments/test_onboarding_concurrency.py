"""Two managers start their cooperative's first payout onboarding at the same moment (a double click): the provider
is called with no row lock held, both get the onboarding link, and one payout account is recorded and audited
(before, the second hit the one-account-per-provider constraint: a 500)."""

import threading

import pytest
from django.db import connection

from marketplace.core.models import AuditEvent
from payments.models import PayoutAccount
from payments.providers.offline import OfflineProvider
from payments.services.payments import payout_onboarding_start
from tests.orders.factories import make_world

URL = "http://testserver/payments/money/"


@pytest.mark.django_db(transaction=True)
def test_two_first_onboardings_at_once_record_one_account(monkeypatch, settings):
    settings.OFFLINE_PAYMENTS = True
    world = make_world()
    both_inside = threading.Barrier(2, timeout=20)
    real_onboard = OfflineProvider.onboard

    def onboard_together(self, **kwargs):
        both_inside.wait()  # both requests are at the provider before either records the account
        return real_onboard(self, **kwargs)

    monkeypatch.setattr(OfflineProvider, "onboard", onboard_together)
    outcomes: list[object] = []

    def start(user):
        try:
            outcomes.append(
                payout_onboarding_start(
                    actor=user, organisation_id=world.seller.organisation.pk, return_url=URL, refresh_url=URL
                )
            )
        except Exception as error:
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=start, args=(user,)) for user in (world.seller.manager, world.seller.admin)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes == [URL, URL]
    assert PayoutAccount.objects.filter(organisation=world.seller.organisation).count() == 1
    created = AuditEvent.objects.filter(action="payments.payout_account_created")
    assert created.count() == 1
