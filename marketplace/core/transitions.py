"""The one helper every `*_transition` service uses to change a status (house rule 3).

A service describes its model's moves in a `TransitionTable` and calls `transition()`: the row is locked, the
move checked against the table, the service's own effects applied under the lock, the status saved and an audit
record written, all in one transaction. Side effects that leave the process (tasks, SMS, provider calls) are put in
the outbox (`marketplace.core.outbox.enqueue`) from `apply` or after the call, in the same transaction.
"""

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from django.db import models, transaction
from django.utils.translation import gettext

from marketplace.core.errors import InvalidTransition, NotFound
from marketplace.core.services import audit_record

M = TypeVar("M", bound=models.Model)


class TransitionTable:
    """The allowed moves of one kind of record: `{from_status: {to_status, ...}}`. Anything not listed is refused."""

    def __init__(self, name: str, allowed: Mapping[str, Iterable[str]]) -> None:
        self.name = name
        self.allowed: dict[str, frozenset[str]] = {str(src): frozenset(map(str, dst)) for src, dst in allowed.items()}

    def __getitem__(self, from_status: str) -> frozenset[str]:
        return self.allowed.get(from_status, frozenset())

    def allows(self, from_status: str, to_status: str) -> bool:
        return to_status in self.allowed.get(from_status, ())

    def next_of(self, from_status: str) -> list[str]:
        return sorted(self.allowed.get(from_status, ()))

    def pairs(self) -> set[tuple[str, str]]:
        return {(src, dst) for src, targets in self.allowed.items() for dst in targets}

    def statuses(self) -> set[str]:
        return set(self.allowed) | {dst for targets in self.allowed.values() for dst in targets}

    def check(self, from_status: str, to_status: str, *, label: str = "") -> None:
        if self.allows(from_status, to_status):
            return
        moves = ", ".join(self.next_of(from_status)) or "none (it is final)"
        subject = label or f"The {self.name.replace('_', ' ')}"
        raise InvalidTransition(
            gettext(
                "%(subject)s is %(from_status)s; it cannot become %(to_status)s. From "
                "%(from_status)s it can become: %(moves)s."
            )
            % {"subject": subject, "from_status": from_status, "to_status": to_status, "moves": moves},
            fields={"status": gettext("Allowed next: %(moves)s.") % {"moves": moves}},
        )


def _lock(model: type[M], pk: Any, queryset: models.QuerySet | None) -> M:
    rows = (queryset if queryset is not None else model.objects.all()).select_for_update()
    try:
        obj = rows.filter(pk=pk).first()
    except (TypeError, ValueError):
        obj = None
    if obj is None:
        raise NotFound(gettext("No such %(verbose_name)s.") % {"verbose_name": model._meta.verbose_name})
    return obj


def transition_locked(
    *,
    obj: M,
    table: TransitionTable,
    to_status: str,
    actor: Any,
    reason: str = "",
    organisation_id: int | None = None,
    data: Mapping[str, Any] | None = None,
    apply: Callable[[M], Mapping[str, Any] | None] | None = None,
    status_field: str = "status",
    update_fields: Iterable[str] | None = None,
    label: str = "",
) -> M:
    """Move a row the caller has already locked (`select_for_update`) inside its own transaction.

    `update_fields`: the other columns `apply` changes, to save only those and the status (default: the whole row).
    """
    from_status = str(getattr(obj, status_field))
    table.check(from_status, str(to_status), label=label)
    audit_data = dict(data or {})
    if apply is not None:
        audit_data.update(apply(obj) or {})
    setattr(obj, status_field, to_status)
    if update_fields is None:
        obj.save()
    else:
        auto = [f.name for f in obj._meta.concrete_fields if getattr(f, "auto_now", False)]
        obj.save(update_fields=[status_field, *update_fields, *auto])
    audit_record(
        actor=actor,
        action=f"{table.name}.{to_status}",
        subject=obj,
        organisation_id=organisation_id,
        from_status=from_status,
        to_status=str(to_status),
        reason=reason,
        data=audit_data,
    )
    return obj


def transition(
    *,
    model: type[M],
    pk: Any,
    table: TransitionTable,
    to_status: str,
    actor: Any,
    reason: str = "",
    organisation_id: int | None = None,
    data: Mapping[str, Any] | None = None,
    apply: Callable[[M], Mapping[str, Any] | None] | None = None,
    status_field: str = "status",
    update_fields: Iterable[str] | None = None,
    queryset: models.QuerySet | None = None,
    label: str = "",
) -> M:
    """Lock `model` row `pk` (optionally within `queryset`, to scope it to what the actor may see), check the move
    against `table`, run `apply(obj)` under the lock, save the new status and audit it, in one transaction."""
    with transaction.atomic():
        obj = _lock(model, pk, queryset)
        return transition_locked(
            obj=obj,
            table=table,
            to_status=to_status,
            actor=actor,
            reason=reason,
            organisation_id=organisation_id,
            data=data,
            apply=apply,
            status_field=status_field,
            update_fields=update_fields,
            label=label,
        )
