import threading

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from marketplace.organisations.models import Organisation
from marketplace.organisations.roles import Role
from tests.factories import MembershipFactory, OrganisationFactory
from traceability import identifiers, services
from traceability.chain import chains_verify, event_hash
from traceability.models import GENESIS_HASH, ChainHead, Event, EventLot
from traceability.tasks import trace_chains_verify


def tamper(*statements: tuple[str, list]) -> None:
    """Run SQL with the append-only triggers switched off (inside the test's transaction, so undone after it)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses to run with deferred checks pending
        cursor.execute("ALTER TABLE traceability_event DISABLE TRIGGER traceability_event_append_only")
        cursor.execute("ALTER TABLE traceability_eventlot DISABLE TRIGGER traceability_eventlot_append_only")
        for sql, params in statements:
            cursor.execute(sql, params)
        cursor.execute("ALTER TABLE traceability_event ENABLE TRIGGER traceability_event_append_only")
        cursor.execute("ALTER TABLE traceability_eventlot ENABLE TRIGGER traceability_eventlot_append_only")


def record(organisation, code: str, grams: int = 1_000) -> Event:
    return services.storage_recorded(
        actor=None,
        organisation=organisation,
        lot_uri=identifiers.lot_uri(organisation=organisation, lot_code=code),
        location=identifiers.location_uri(organisation),
        grams=grams,
    )


@pytest.mark.django_db
class TestAppendOnly:
    def test_raw_sql_update_of_an_event_fails(self, coop):
        event = record(coop, "A")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE traceability_event SET biz_step = 'shipping' WHERE id = %s", [event.pk])
        event.refresh_from_db()
        assert event.biz_step == "storing"

    def test_raw_sql_delete_of_an_event_or_its_lots_fails(self, coop):
        event = record(coop, "A")
        for sql in (
            "DELETE FROM traceability_eventlot WHERE event_id = %s",
            "UPDATE traceability_eventlot SET grams = 1 WHERE event_id = %s",
            "DELETE FROM traceability_event WHERE id = %s",
        ):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [event.pk])
        assert Event.objects.filter(pk=event.pk).exists()
        assert EventLot.objects.filter(event=event, grams=1_000).exists()

    def test_the_orm_cannot_edit_an_event_either(self, coop):
        event = record(coop, "A")
        event.biz_step = "shipping"
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            event.save()


@pytest.mark.django_db
class TestHashChain:
    def test_events_link_to_their_predecessor_per_organisation(self, coop):
        other = OrganisationFactory()
        first, second = record(coop, "A"), record(coop, "B")
        elsewhere = record(other, "A")
        assert (first.sequence, first.previous_hash) == (1, GENESIS_HASH)
        assert (second.sequence, second.previous_hash) == (2, first.hash)
        assert (elsewhere.sequence, elsewhere.previous_hash) == (1, GENESIS_HASH)
        head = ChainHead.objects.get(pk=coop.pk)
        assert (head.last_sequence, head.last_hash) == (2, second.hash)
        stored = Event.objects.select_related("declares").get(pk=second.pk)
        assert event_hash(stored, stored.lots.all(), declares_event_id=None) == second.hash
        report = chains_verify()
        assert report.ok and (report.chains, report.events) == (2, 3)

    def test_trace_verify_passes_on_an_intact_store(self, coop, capsys):
        record(coop, "A")
        services.error_declared(
            actor=None,
            organisation=coop,
            event_id=record(coop, "B").event_id,
            reason="incorrect_data",
            corrective={"lots": [(identifiers.lot_uri(organisation=coop, lot_code="B"), 2_000)]},
        )
        call_command("trace_verify")
        assert "OK: 1 chain(s), 4 event(s)" in capsys.readouterr().out

    @pytest.mark.parametrize(
        ("sql", "reason"),
        [
            ("UPDATE traceability_eventlot SET grams = 9000 WHERE event_id = {pk}", "altered"),
            ("UPDATE traceability_event SET biz_step = 'shipping' WHERE id = {pk}", "altered"),
            ("UPDATE traceability_event SET record_time = record_time - interval '1 day' WHERE id = {pk}", "altered"),
            ("UPDATE traceability_event SET previous_hash = repeat('1', 64) WHERE id = {pk}", "link"),
            ("DELETE FROM traceability_eventlot WHERE event_id = {pk}", "altered"),
        ],
    )
    def test_trace_verify_catches_a_changed_event(self, coop, sql, reason, capsys):
        record(coop, "A")
        victim = record(coop, "B")
        record(coop, "C")
        tamper((sql.replace("{pk}", "%s"), [victim.pk]))
        with pytest.raises(CommandError, match="1 broken chain"):
            call_command("trace_verify")
        err = capsys.readouterr().err
        assert f"event #2 ({victim.event_id})" in err
        assert reason in err

    def test_trace_verify_catches_a_removed_event_and_a_cut_tail(self, coop, capsys):
        first, second, third = record(coop, "A"), record(coop, "B"), record(coop, "C")
        tamper(
            ("DELETE FROM traceability_eventlot WHERE event_id IN (%s, %s)", [second.pk, third.pk]),
            ("DELETE FROM traceability_event WHERE id = %s", [second.pk]),
        )
        report = chains_verify()
        assert [(b.sequence, "gap" in b.reason) for b in report.breaks] == [(3, True)]
        tamper(("DELETE FROM traceability_event WHERE id = %s", [third.pk]))
        report = chains_verify()
        assert [(b.sequence, "head" in b.reason) for b in report.breaks] == [(None, True)]
        assert first.pk

    def test_the_nightly_task_mails_the_operator_admins_when_a_chain_breaks(self, coop, settings):
        settings.ADMINS = [("Ops", "ops@example.org")]
        operator = OrganisationFactory(kind=Organisation.Kind.OPERATOR, country="FR", currency="EUR")
        admin = MembershipFactory(organisation=operator, role=Role.ADMIN).user
        MembershipFactory(organisation=operator, role=Role.VIEWER)
        victim = record(coop, "A")
        assert trace_chains_verify.delay().get()["broken"] == []
        assert mail.outbox == []
        tamper(("UPDATE traceability_event SET disposition = 'stolen' WHERE id = %s", [victim.pk]))
        result = trace_chains_verify.delay().get()
        assert len(result["broken"]) == 1
        assert len(mail.outbox) == 1
        assert sorted(mail.outbox[0].to) == sorted([admin.email, "ops@example.org"])
        assert victim.event_id in mail.outbox[0].body


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_the_chain_linear():
    organisation = OrganisationFactory()
    per_thread, threads = 15, 3
    barrier = threading.Barrier(threads)
    failures: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            barrier.wait(timeout=10)
            for index in range(per_thread):
                record(organisation, f"T{worker}-{index}")
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=append, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert failures == []
    events = list(Event.objects.filter(organisation=organisation).order_by("sequence"))
    assert [e.sequence for e in events] == list(range(1, per_thread * threads + 1))
    previous = GENESIS_HASH
    for event in events:
        assert event.previous_hash == previous
        previous = event.hash
    assert ChainHead.objects.get(pk=organisation.pk).last_hash == previous
    assert chains_verify().ok
