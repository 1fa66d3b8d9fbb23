"""The transactional outbox (house rule 4).

A service that wants work done after its transaction (a task to run, an SMS to send, a provider to call) calls
`enqueue(task, args=...)` inside that transaction: the intent is a row in the same commit, so it is never lost
when the transaction commits and never sent when it rolls back. On commit the row is handed to the broker; if the
broker is down then, the row stays unsent and `outbox_sweep` (a beat task) sends it later. The on-commit hand-over
sends the message from memory and marks it sent in one UPDATE (no read, no claim: the sweeper leaves young messages
alone); the sweeper claims each stored message before sending it. Delivery is therefore
at least once: every task sent through here takes ids and is idempotent.
"""

import json
import logging
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from celery import Task, current_app
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from marketplace.core.models import OutboxMessage

logger = logging.getLogger(__name__)

# A message younger than this is left to its own on-commit dispatch by the sweeper.
SWEEP_GRACE = timedelta(seconds=30)
SWEEP_BATCH = 500
# How long a dispatcher may take to hand a message over before another may try.
CLAIM_LEASE = timedelta(minutes=5)


def enqueue(
    task: Task,
    *,
    args: Iterable[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    key: str | None = None,
    countdown: int | None = None,
) -> OutboxMessage | None:
    """Record that `task(*args, **kwargs)` must run once this transaction commits.

    `key`, when given, makes the intent unique: enqueueing the same key again is a no-op (returns None)."""
    if not isinstance(task, Task):
        raise TypeError("outbox.enqueue takes an imported Celery task, not a name.")
    fields = {
        "task_name": task.name,
        "args": list(args),
        "kwargs": dict(kwargs or {}),
        "countdown": countdown,
    }
    if key:
        try:
            with transaction.atomic():
                message = OutboxMessage.objects.create(key=key, **fields)
        except IntegrityError:
            return None
    else:
        message = OutboxMessage.objects.create(**fields)
    send_on_commit(message)
    return message


def enqueue_many(task: Task, *, calls: Iterable[tuple[Iterable[Any], str]]) -> list[OutboxMessage]:
    """Record several calls of one task in one INSERT: `calls` are (args, key) pairs whose keys are new (derived
    from rows this transaction has just written), so none can already be in the outbox."""
    if not isinstance(task, Task):
        raise TypeError("outbox.enqueue_many takes an imported Celery task, not a name.")
    messages = OutboxMessage.objects.bulk_create(
        OutboxMessage(task_name=task.name, args=list(args), kwargs={}, key=key) for args, key in calls
    )
    for message in messages:
        send_on_commit(message)
    return messages


def insert_select_sql(task: Task, *, source: str, key_prefix: str, now) -> tuple[str, list]:
    """SQL and parameters of an INSERT ... SELECT that writes one message `task(id)` per row of `source` (a relation
    with an `id` column written earlier in the caller's statement, e.g. a data-modifying CTE), keyed
    `<key_prefix><id>`, returning each message's id and key: so rows and their messages take one statement. Pass
    the messages' ids with the rows' ids to `send_rows_on_commit`."""
    if not isinstance(task, Task):
        raise TypeError("outbox.insert_select_sql takes an imported Celery task, not a name.")
    table = connection.ops.quote_name(OutboxMessage._meta.db_table)
    # identifiers from the model, values as parameters
    sql = (
        f"INSERT INTO {table} (created_at, task_name, args, kwargs, countdown, key, attempts, last_error) "  # noqa: S608
        "SELECT %s, %s, jsonb_build_array(s.id), '{}'::jsonb, NULL, %s::text || s.id, 0, '' "
        f"FROM {source} AS s RETURNING id, key"
    )
    return sql, [now, task.name, key_prefix]


def send_rows_on_commit(task: Task, rows: Iterable[tuple[int, int]]) -> None:
    """Send on commit the messages `insert_select_sql` wrote: (message id, the id it was called with) pairs."""
    for message_id, arg in rows:
        send_on_commit(OutboxMessage(pk=message_id, task_name=task.name, args=[arg], kwargs={}))


def send_on_commit(message: OutboxMessage) -> None:
    """Hand the message to the broker once the transaction that wrote it commits, from memory (see `send_fresh`)."""
    transaction.on_commit(lambda: send_fresh(message))


def send_fresh(message: OutboxMessage) -> bool:
    """Hand a message just committed by this process to the broker without reading or claiming it first: the
    sweeper leaves messages younger than `SWEEP_GRACE` to their own dispatcher, so no other dispatcher competes
    for it. One UPDATE records the outcome (sent, or the error for the sweeper). True when sent."""
    attempt = message.attempts + 1
    try:
        task = current_app.tasks[message.task_name]
        task.apply_async(
            args=message.args, kwargs=message.kwargs, task_id=f"outbox-{message.pk}-{attempt}",
            countdown=message.countdown,
        )  # fmt: skip
    except Exception as error:
        OutboxMessage.objects.filter(pk=message.pk).update(attempts=F("attempts") + 1, last_error=repr(error)[:1000])
        if current_app.conf.task_always_eager:
            raise  # the task itself failed in this process: surface it, as a direct call would
        logger.warning("outbox: could not send message %s (%s): %r", message.pk, message.task_name, error)
        return False
    OutboxMessage.objects.filter(pk=message.pk, sent_at__isnull=True).update(
        sent_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
    )
    return True


def dispatch(message_id: int) -> bool:
    """Hand one stored message to the broker unless it is sent or claimed by another dispatcher (the sweeper's
    way, for messages left unsent). True when sent now.

    The claim is a lease (`claimed_until`), taken and committed before the broker call, so no database lock is
    held while the broker (or, in eager mode, the task itself) runs; a dispatcher that dies after claiming leaves
    the message to the sweeper once the lease ends. A message may so be sent twice, never lost."""
    now = timezone.now()
    # One statement claims the message and reads it back.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {OutboxMessage._meta.db_table} SET claimed_until = %s, attempts = attempts + 1 "  # noqa: S608
            "WHERE id = %s AND sent_at IS NULL AND (claimed_until IS NULL OR claimed_until < %s) "
            "RETURNING id, task_name, args, kwargs, countdown, attempts",
            [now + CLAIM_LEASE, message_id, now],
        )
        row = cursor.fetchone()
    if row is None:
        return False
    # Django reads jsonb as text (its JSONField decodes it); a raw cursor must decode it here.
    args, kwargs = (json.loads(value) if isinstance(value, str) else value for value in row[2:4])
    message = OutboxMessage(pk=row[0], task_name=row[1], args=args, kwargs=kwargs, countdown=row[4], attempts=row[5])
    try:
        task = current_app.tasks[message.task_name]
        task.apply_async(
            args=message.args,
            kwargs=message.kwargs,
            task_id=f"outbox-{message.pk}-{message.attempts}",
            countdown=message.countdown,
        )
    except Exception as error:
        OutboxMessage.objects.filter(pk=message.pk).update(claimed_until=None, last_error=repr(error)[:1000])
        if current_app.conf.task_always_eager:
            raise  # the task itself failed in this process: surface it, as a direct call would
        logger.warning("outbox: could not send message %s (%s): %r", message.pk, message.task_name, error)
        return False
    OutboxMessage.objects.filter(pk=message.pk).update(sent_at=timezone.now(), last_error="")
    return True


def sweep(*, older_than: timedelta = SWEEP_GRACE, limit: int = SWEEP_BATCH) -> int:
    """Send what was left unsent (the broker was down at commit, or the process died before dispatch)."""
    cutoff = timezone.now() - older_than
    pending = list(
        OutboxMessage.objects.filter(sent_at__isnull=True, created_at__lte=cutoff)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=timezone.now()))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in pending if dispatch(pk))
