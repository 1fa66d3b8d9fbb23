"""The lineage digest: one query to read when the plots have not changed, recomputed and stored when they have, and a
reader never waits for (or overwrites) a transaction that is appending an event."""

import threading

import pytest
from django.db import connection, transaction

from marketplace.organisations.models import Plot
from traceability import services
from traceability.lineage import lineage_digest_live, lineage_digest_read
from traceability.models import Lineage


@pytest.fixture
def bulked(coop, clerk, farmer, plot, lot, delivery):
    for i in range(3):
        services.delivery_recorded(actor=clerk, organisation=coop, delivery_uri=delivery(i), grams=1_000 + i,
                                   farmer=farmer, plot=plot)  # fmt: skip
    services.lots_transformed(actor=clerk, organisation=coop, inputs=[(delivery(i), 1_000 + i) for i in range(3)],
                              outputs=[(lot("L"), 3_003)])  # fmt: skip
    return lot("L")


@pytest.mark.django_db
def test_a_fresh_digest_is_one_query_and_lists_the_plot_and_its_verdict(coop, plot, bulked,
                                                                        django_assert_num_queries):  # fmt: skip
    with django_assert_num_queries(1):
        digest = lineage_digest_read(identifier=bulked, organisation_id=coop.pk)
    assert digest == lineage_digest_live(identifier=bulked, organisation_id=coop.pk)
    events, verdict = digest["events"], digest["plots"]["verdict"]["ordinary"]
    assert events["plot_ids"] == [plot.pk] and events["deliveries"] == 3 and events["members"] == 1
    assert verdict["ready"] is False and verdict["rules"] == {"GEOMETRY_MISSING": 1}  # the factory's plot has none
    assert verdict["issues"][0]["plot"] == plot.pk


@pytest.mark.django_db
def test_an_unknown_subject_is_walked_and_says_so(coop, lot):
    digest = lineage_digest_read(identifier=lot("nothing"), organisation_id=coop.pk)
    assert digest["events"]["found"] is False
    assert digest["plots"]["verdict"]["ordinary"]["rules"] == {"TRACE_MISSING": 1}


@pytest.mark.django_db(transaction=True)
def test_a_stale_read_does_not_wait_for_an_appending_transaction_nor_overwrite_it(coop, plot, bulked):
    Plot.objects.filter(pk=plot.pk).update(established_on=None)
    stored = Lineage.objects.get(subject=bulked).digest
    locked, release = threading.Event(), threading.Event()

    def hold_the_row():
        try:
            with transaction.atomic():
                Lineage.objects.select_for_update().get(subject=bulked)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(10)
        digest = lineage_digest_read(identifier=bulked, organisation_id=coop.pk)  # would hang if it waited
        assert digest["plots"]["verdict"]["ordinary"]["rules"] == {"CUTOFF_EVIDENCE_MISSING": 1, "GEOMETRY_MISSING": 1}
        assert Lineage.objects.get(subject=bulked).digest == stored  # the holder's row was left alone
    finally:
        release.set()
        holder.join(10)
    lineage_digest_read(identifier=bulked, organisation_id=coop.pk)
    assert Lineage.objects.get(subject=bulked).digest["plots"] == digest["plots"]  # stored once the row is free
