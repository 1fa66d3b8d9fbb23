"""The nightly chain check walks each chain only after the link the previous run verified, and still catches a
change after that link (or to the link itself); a full rescan, by flag, walks everything."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from marketplace.core.models import CheckRun
from tests.traceability.test_chain import record, tamper
from traceability.chain import CHECK_NAME, chains_check
from traceability.tasks import trace_chains_verify

pytestmark = pytest.mark.django_db


def test_the_second_run_walks_only_the_new_events_and_stores_its_checkpoint(coop):
    first, second = record(coop, "A"), record(coop, "B")
    report = chains_check()
    assert report.ok and report.events == 2
    run = CheckRun.objects.get(name=CHECK_NAME)
    assert run.full and run.checkpoint == {str(coop.pk): [2, second.hash]} and run.problems == []
    third = record(coop, "C")
    report = chains_check()
    assert report.ok and report.events == 2  # the anchor (#2, re-hashed) and the new #3
    run.refresh_from_db()
    assert not run.full and run.checkpoint == {str(coop.pk): [3, third.hash]}
    assert first.pk


def test_an_incremental_run_catches_a_change_after_the_checkpoint_and_to_the_checkpoint_itself(coop):
    record(coop, "A")
    anchor = record(coop, "B")
    chains_check()
    victim = record(coop, "C")
    record(coop, "D")
    tamper(("UPDATE traceability_event SET disposition = 'stolen' WHERE id = %s", [victim.pk]))
    report = chains_check()
    assert [(b.sequence, "altered" in b.reason) for b in report.breaks] == [(3, True)]
    run = CheckRun.objects.get(name=CHECK_NAME)
    assert run.checkpoint == {str(coop.pk): [2, anchor.hash]}  # a broken chain keeps its checkpoint
    assert run.problems == [str(report.breaks[0])]
    tamper(("UPDATE traceability_event SET biz_step = 'shipping' WHERE id = %s", [anchor.pk]))
    assert [b.sequence for b in chains_check().breaks] == [2]


def test_a_change_before_the_checkpoint_needs_the_full_rescan(coop, capsys):
    victim = record(coop, "A")
    record(coop, "B")
    chains_check()
    tamper(("UPDATE traceability_event SET disposition = 'stolen' WHERE id = %s", [victim.pk]))
    call_command("trace_verify", "--incremental")  # walks nothing before the last verified link
    with pytest.raises(CommandError, match="1 broken chain"):
        call_command("trace_verify")  # the full rescan (the command's default) finds it
    assert f"event #1 ({victim.event_id})" in capsys.readouterr().err


def test_the_nightly_task_rescans_everything_once_a_week(coop, settings):
    from datetime import timedelta

    from django.utils import timezone

    record(coop, "A")
    assert trace_chains_verify() == {"chains": 1, "events": 1, "broken": []}
    assert CheckRun.objects.get(name=CHECK_NAME).full  # the first run has no checkpoint
    record(coop, "B")
    trace_chains_verify()
    assert not CheckRun.objects.get(name=CHECK_NAME).full
    CheckRun.objects.filter(name=CHECK_NAME).update(last_full_at=timezone.now() - timedelta(days=8))
    assert trace_chains_verify()["events"] == 2
    assert CheckRun.objects.get(name=CHECK_NAME).full
