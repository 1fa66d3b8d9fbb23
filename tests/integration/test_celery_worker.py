"""A real Celery worker against a real Redis and the test database.

Everything else in the suite runs tasks eagerly. Here a domain service commits, its on-commit hook publishes
to Redis, and a separate `celery worker` process picks the task up and writes to the test database; running
the task a second time must change nothing.
"""

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from celery.backends.redis import RedisBackend
from django.core import mail
from django.db import connection
from kombu import pools as kombu_pools

from marketplace.celery import app as celery_app
from marketplace.core.tasks import database_ping
from marketplace.organisations import services
from marketplace.organisations.models import Invitation
from marketplace.organisations.roles import Role
from marketplace.organisations.tasks import send_invitation_email
from tests.integration import database_url

BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL", "")
REPOSITORY = Path(__file__).resolve().parents[2]
TIMEOUT = float(os.environ.get("TEST_WORKER_TIMEOUT", "30"))  # longer on a loaded machine

pytestmark = [
    pytest.mark.worker,
    pytest.mark.xdist_group("worker"),
    pytest.mark.skipif(
        not BROKER_URL,
        reason="set TEST_CELERY_BROKER_URL (for example redis://127.0.0.1:6379/14) to run a real Celery worker",
    ),
]


@dataclass
class Worker:
    process: subprocess.Popen
    queue: str
    log_path: Path
    results: RedisBackend

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, probe: Callable[[], object], what: str) -> object:
        """Poll until `probe` returns something truthy; fail with the worker's log after TIMEOUT seconds."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            value = probe()
            if value:
                return value
            if self.process.poll() is not None:
                pytest.fail(f"The worker exited ({self.process.returncode}) before {what}.\n{self.log()}")
            time.sleep(0.2)
        pytest.fail(f"Gave up after {TIMEOUT:.0f}s waiting for {what}.\nWorker log:\n{self.log()}")

    def result(self, task_id: str):
        """The return value of a task the worker ran (results go to the same Redis)."""
        meta = self.wait_for(
            lambda: (m := self.results.get_task_meta(task_id)) and m["status"] in {"SUCCESS", "FAILURE"} and m,
            f"the result of task {task_id}",
        )
        self.results.forget(task_id)
        assert meta["status"] == "SUCCESS", meta
        return meta["result"]


def _reset_broker_pools() -> None:
    """Celery caches its broker connection pools; drop them so that the next publish uses the current broker_url."""
    # kombu keeps its pools in a process-wide registry keyed by connection; a pool closed but left there
    # would be handed back to the next eager task. reset() closes them and empties the registry.
    kombu_pools.reset()
    celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@pytest.fixture(scope="module")
def worker(django_db_setup, tmp_path_factory) -> Iterator[Worker]:
    """One worker for this module, consuming a queue of its own, connected to the test database."""
    try:
        redis.Redis.from_url(BROKER_URL).ping()
    except redis.RedisError as error:
        pytest.fail(f"TEST_CELERY_BROKER_URL={BROKER_URL} is set but Redis does not answer: {error}")

    queue = f"coopmarket-test-{uuid.uuid4().hex[:12]}"
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "marketplace.settings_test",
        "CELERY_TEST_WORKER": "1",  # settings_test keeps the broker and turns eager mode off
        "CELERY_BROKER_URL": BROKER_URL,
        "CELERY_RESULT_BACKEND": BROKER_URL,
        "CELERY_TEST_QUEUE": queue,
        "DATABASE_URL": database_url(connection.settings_dict),  # the test database, not the development one
    }
    command = [
        sys.executable, "-m", "celery", "-A", "marketplace", "worker",
        "--pool=solo", "--queues", queue, "--hostname", f"{queue}@%h", "--loglevel=INFO",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip

    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager", "task_default_queue")}
    celery_app.conf.update(broker_url=BROKER_URL, task_always_eager=False, task_default_queue=queue)
    _reset_broker_pools()
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=REPOSITORY, env=env, stdout=log, stderr=subprocess.STDOUT)
    started = Worker(process, queue, log_path, RedisBackend(app=celery_app, url=BROKER_URL))
    try:
        started.wait_for(lambda: " ready." in started.log(), "the worker to start")
        yield started
    finally:
        process.terminate()  # warm shutdown: finish the current task, then exit
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        celery_app.conf.update(saved)
        _reset_broker_pools()
        _clean_up_redis(started)


def _clean_up_redis(worker: Worker) -> None:
    """Remove this run's queue, its bindings and the results the worker stored."""
    client = redis.Redis.from_url(BROKER_URL)
    for key in client.scan_iter(f"*{worker.queue}*"):
        client.delete(key)
    for key in client.scan_iter("_kombu.binding*"):
        if client.type(key) == b"set":
            for member in client.smembers(key):
                if worker.queue.encode() in member:
                    client.srem(key, member)
    for task_id in set(re.findall(r"\[([0-9a-f-]{36})\] (?:succeeded|raised)", worker.log())):
        worker.results.forget(task_id)


@pytest.fixture
def broker_settings(settings):
    """Django settings as a deployment with a broker has them (the Celery app itself is set by `worker`)."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = BROKER_URL
    return settings


def test_the_worker_uses_the_test_database(worker):
    result = database_ping.apply_async()
    assert worker.result(result.id) == connection.settings_dict["NAME"]


def test_invitation_email_is_sent_by_the_worker_exactly_once(transactional_db, broker_settings, worker, make_member):
    manager = make_member(Role.MANAGER)
    organisation_id = manager.memberships.get().organisation_id

    # transactional_db runs in autocommit, so the service's transaction really commits and its on-commit
    # hook publishes send_invitation_email to Redis.
    invitation = services.invitation_create(
        actor=manager, organisation_id=organisation_id, email="new.clerk@example.org", role=Role.CLERK
    )

    sent_at = worker.wait_for(
        lambda: Invitation.objects.filter(pk=invitation.pk).values_list("sent_at", flat=True).first(),
        "the worker to send the invitation",
    )
    assert mail.outbox == [], "the email went out from this process, so the task ran eagerly, not in the worker"
    assert "send_invitation_email[" in worker.log()

    # At-least-once delivery: the same task again must not send a second email.
    again = send_invitation_email.apply_async(args=[invitation.pk])
    assert worker.result(again.id) is False
    invitation.refresh_from_db()
    assert invitation.sent_at == sent_at
    assert worker.log().count("succeeded in") >= 2


def test_an_invitation_committed_while_the_broker_is_down_is_sent_by_the_sweeper(
    transactional_db, broker_settings, worker, make_member
):
    """The outbox: the intent commits with the invitation; the sweeper hands it to the broker once it is back."""
    from datetime import timedelta

    from marketplace.core import outbox
    from marketplace.core.models import OutboxMessage

    manager = make_member(Role.MANAGER)
    organisation_id = manager.memberships.get().organisation_id
    celery_app.conf.update(broker_url="redis://127.0.0.1:9/0", broker_connection_timeout=1)
    _reset_broker_pools()
    try:
        invitation = services.invitation_create(
            actor=manager, organisation_id=organisation_id, email="late.clerk@example.org", role=Role.CLERK
        )
    finally:
        celery_app.conf.update(broker_url=BROKER_URL)
        _reset_broker_pools()
    message = OutboxMessage.objects.get(key=f"invitation-email:{invitation.pk}")
    assert message.sent_at is None and message.last_error, "the broker was down: the intent must wait"
    assert Invitation.objects.get(pk=invitation.pk).sent_at is None

    OutboxMessage.objects.filter(pk=message.pk).update(created_at=message.created_at - timedelta(minutes=1))
    assert outbox.sweep() == 1
    worker.wait_for(
        lambda: Invitation.objects.filter(pk=invitation.pk).values_list("sent_at", flat=True).first(),
        "the worker to send the swept invitation",
    )
    assert outbox.sweep() == 0


def test_a_refund_committed_while_the_broker_is_down_is_sent_by_the_sweeper_once(
    transactional_db, broker_settings, worker
):
    """Money through the outbox: the operator's refund commits (posted, its send in the outbox) while the broker is
    unreachable; nothing is lost, and once the broker is back the sweeper hands it to the worker, which makes the
    refund at the provider once."""
    from datetime import timedelta

    from marketplace.core import outbox
    from marketplace.core.models import OutboxMessage
    from payments.models import Account, OfflineRecord, Refund
    from payments.selectors import ledger_problems
    from payments.services.escrow import escrow_refund
    from tests.orders.factories import make_world
    from tests.payments.conftest import paid_order

    broker_settings.OFFLINE_PAYMENTS = True
    world = make_world()
    order = paid_order(world)
    celery_app.conf.update(broker_url="redis://127.0.0.1:9/0", broker_connection_timeout=1)
    _reset_broker_pools()
    try:
        (refund,) = escrow_refund(
            actor=world.operator.manager, order_id=order.pk, amount=500_000, reason="Short weight", request_key="bd-1"
        )
    finally:
        celery_app.conf.update(broker_url=BROKER_URL)
        _reset_broker_pools()
    message = OutboxMessage.objects.get(key=f"refund-submit:{refund.pk}")
    assert message.sent_at is None and message.last_error, "the broker was down: the intent must wait"
    assert Refund.objects.get(pk=refund.pk).status == "pending"
    assert Account.objects.get(kind="order_escrow", order_id=order.pk).balance == order.total_amount - 500_000

    OutboxMessage.objects.filter(pk=message.pk).update(created_at=message.created_at - timedelta(minutes=1))
    assert outbox.sweep() == 1
    worker.wait_for(
        lambda: Refund.objects.filter(pk=refund.pk, status="succeeded").exists(),
        "the worker to make the swept refund",
    )
    assert outbox.sweep() == 0
    assert OfflineRecord.objects.filter(kind="re").count() == 1
    assert ledger_problems() == []
