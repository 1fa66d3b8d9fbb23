"""The transactional outbox (house rule 4).

A service that wants work done after its transaction (a task to run, an SMS to send, a provider to call) calls
`enqueue(task, args=...)` inside that transaction: the intent is a row in the same commit, so it is never lost
when the transaction commits and never sent when it rolls back. On commit the row is handed to the broker; if the
broker is down then, the row stays unsent and `outbox_sweep` (a beat task) sends it later. Delivery is therefore
at least once: every task sent through here takes ids and is idempotent.
"""

import logging
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from celery import Task, current_app
from django.db import IntegrityError, transaction
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
    transaction.on_commit(lambda: dispatch(message.pk))
    return message


def dispatch(message_id: int) -> bool:
    """Hand one message to the broker unless it is sent or claimed by another dispatcher. True when sent now.

    The claim is a lease (`claimed_until`), taken and committed before the broker call, so no database lock is
    held while the broker (or, in eager mode, the task itself) runs; a dispatcher that dies after claiming leaves
    the message to the sweeper once the lease ends. A message may so be sent twice, never lost."""
    now = timezone.now()
    claimed = (
        OutboxMessage.objects.filter(pk=message_id, sent_at__isnull=True)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + CLAIM_LEASE, attempts=F("attempts") + 1)
    )
    if not claimed:
        return False
    message = OutboxMessage.objects.get(pk=message_id)
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
