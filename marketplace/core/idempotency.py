"""`Idempotency-Key` for the API endpoints that move money or stock or add to a quantity (DESIGN.md house rule 4).

    class OrderRefundView(APIView):
        @idempotent(required=True)
        def post(self, request, number): ...

A request with the header runs inside one transaction that first inserts (user, key, endpoint, a SHA-256 of the
method, path and body) into `IdempotentRequest` (INSERT ... ON CONFLICT DO NOTHING), then runs the view and stores
its answer. The same key again:
- with the same request, answers the stored response (with `Idempotent-Replayed: true`) and does nothing else;
  a second request arriving while the first still runs waits on the key's unique index, then gets the replay;
- with another request (another body or endpoint), 422 with a message saying so.
A refused request (4xx raised by the service) is not stored: nothing was done, so it may be corrected and sent
again with the same key. Keys are 1 to 80 letters, digits, '.', '_' or '-' (a UUID fits).
A view whose service calls a payment provider takes `atomic=False` instead (see `idempotent`), so that no lock of
its service is held during the call.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext
from rest_framework.response import Response

from marketplace.core.errors import Conflict, DomainError, ValidationFailed
from marketplace.core.models import IdempotentRequest

HEADER = "Idempotency-Key"
KEY_REUSED = "The Idempotency-Key was already used for another request (another endpoint or body)."
KEY = re.compile(r"[A-Za-z0-9._-]{1,80}")


class IdempotencyKeyReused(DomainError):
    status_code = 422
    default_code = "idempotency_key_reused"


class IdempotencyKeyInUse(Conflict):
    default_code = "idempotency_key_in_use"


def request_hash(request) -> str:
    try:
        body = json.dumps(request.data, sort_keys=True, cls=DjangoJSONEncoder, default=str)
    except TypeError:
        body = repr(request.data)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def idempotent(*, required: bool = False, atomic: bool = True):
    """Make an APIView method replayable with the Idempotency-Key header (`required`: refuse it without one).

    `atomic` (the default): the key's record commits with the view's effects, in one transaction. For a view whose
    service calls a payment provider with no lock held (house rule 4), `atomic=False`: the key is claimed and
    committed first, the view runs in its service's own transactions, and its answer is stored after; the same key
    while it runs is a 409, and a claim older than IDEMPOTENCY_IN_PROGRESS_SECONDS (a request that died) is taken
    over by the next one (such services are idempotent by our own ids)."""

    def wrap(method):
        @wraps(method)
        def inner(self, request, *args, **kwargs):
            key = request.headers.get(HEADER, "").strip()
            if not key:
                if required:
                    raise ValidationFailed(
                        gettext(
                            "Send an %(header)s header (for example a new UUID) with this request, "
                            "so that sending it again never moves the money twice."
                        )
                        % {"header": HEADER},
                        fields={"idempotency_key": "Required."},
                    )
                return method(self, request, *args, **kwargs)
            if not KEY.fullmatch(key):
                raise ValidationFailed(
                    gettext("The %(header)s header is 1 to 80 letters, digits, '.', '_' or '-'.") % {"header": HEADER},
                    fields={"idempotency_key": "Invalid."},
                )
            digest = request_hash(request)
            if not atomic:
                return _claimed_first(method, self, request, args, kwargs, key, digest)
            with transaction.atomic():
                record_id = _claim(request.user, key, request.path[:200], digest)
                if record_id is None:
                    return _replay(IdempotentRequest.objects.get(user=request.user, key=key), digest)
                response = method(self, request, *args, **kwargs)
                if response.status_code >= 500:
                    transaction.set_rollback(True)
                    return response
                _store(record_id, response)
                return response

        return inner

    return wrap


def _claimed_first(method, view, request, args, kwargs, key: str, digest: str):
    record_id = _claim(request.user, key, request.path[:200], digest)
    if record_id is None:
        record = IdempotentRequest.objects.get(user=request.user, key=key)
        if record.status_code or record.request_hash != digest:
            return _replay(record, digest)
        record_id = _take_over(record)
        if record_id is None:
            raise IdempotencyKeyInUse(
                gettext("A request with this %(header)s is still being processed; send it again in a moment.")
                % {"header": HEADER},
                fields={"idempotency_key": "In use by a request still being processed."},
            )
    try:
        response = method(view, request, *args, **kwargs)
    except Exception:
        IdempotentRequest.objects.filter(pk=record_id, status_code=0).delete()  # refused or failed: not remembered
        raise
    if response.status_code >= 500:
        IdempotentRequest.objects.filter(pk=record_id, status_code=0).delete()
        return response
    _store(record_id, response)
    return response


def _take_over(record: IdempotentRequest) -> int | None:
    stale = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_IN_PROGRESS_SECONDS)
    taken = IdempotentRequest.objects.filter(pk=record.pk, status_code=0, created_at__lt=stale).update(
        created_at=timezone.now()
    )
    return record.pk if taken else None


def _store(record_id: int, response) -> None:
    body = json.loads(json.dumps(getattr(response, "data", None), cls=DjangoJSONEncoder))
    IdempotentRequest.objects.filter(pk=record_id).update(status_code=response.status_code, response_body=body)


def _claim(user, key: str, endpoint: str, digest: str) -> int | None:
    """Insert the key's record and return its id; None when the user already holds the key. A first request with
    the same key still running is waited for on the unique index (ON CONFLICT does not need a savepoint to go on),
    so its answer is readable once this returns None."""
    table = connection.ops.quote_name(IdempotentRequest._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, key, endpoint, request_hash, status_code, created_at) "  # noqa: S608 (our table name)
            "VALUES (%s, %s, %s, %s, 0, %s) ON CONFLICT (user_id, key) DO NOTHING RETURNING id",
            [user.pk, key, endpoint, digest, timezone.now()],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def idempotent_requests_purge(*, days: int | None = None, batch: int | None = None) -> int:
    """Delete stored requests older than IDEMPOTENCY_KEY_RETENTION_DAYS, `batch` rows per statement (each its own
    short transaction, so a large backlog never holds many row locks at once). Returns how many were deleted.
    A key older than that is forgotten: sent again, it is a new request."""
    days = settings.IDEMPOTENCY_KEY_RETENTION_DAYS if days is None else days
    batch = settings.IDEMPOTENCY_PURGE_BATCH if batch is None else batch
    cutoff = timezone.now() - timedelta(days=days)
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                IdempotentRequest.objects.filter(created_at__lt=cutoff)
                .order_by("created_at")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                return deleted
            deleted += IdempotentRequest.objects.filter(pk__in=ids).delete()[0]


def _replay(record: IdempotentRequest, digest: str) -> Response:
    if record.request_hash != digest:
        raise IdempotencyKeyReused(
            f"The {HEADER} {record.key!r} was already used for another request ({record.endpoint}, or another "
            "body). Use a new key for a new request.",
            fields={"idempotency_key": "Already used for another request."},
        )
    return Response(record.response_body, status=record.status_code, headers={"Idempotent-Replayed": "true"})


def _parameter(required: bool):
    from drf_spectacular.utils import OpenApiParameter

    return OpenApiParameter(
        name=HEADER,
        type={"type": "string", "pattern": f"^{KEY.pattern}$"},
        location=OpenApiParameter.HEADER,
        required=required,
        description="A key of your own for this request (e.g. a new UUID): the same key again answers the first "
        "response and does nothing a second time; the same key with another request is a 422.",
    )


IDEMPOTENCY_KEY = _parameter(False)
IDEMPOTENCY_KEY_REQUIRED = _parameter(True)
