"""Status changes through one helper (house rule 3): lock the row, check the table, apply, save, audit.

Interim copy of the shared helper's interface; main's version replaces this file at merge.
"""

from collections.abc import Callable, Mapping
from typing import Any

from django.db import models, transaction

from marketplace.core.errors import InvalidTransition, NotFound
from marketplace.core.services import audit_record


class TransitionTable:
    def __init__(self, name: str, moves: Mapping[str, set[str] | frozenset[str]]) -> None:
        self.name = name
        self.moves = {source: frozenset(targets) for source, targets in moves.items()}

    def allows(self, from_status: str, to_status: str) -> bool:
        return to_status in self.moves.get(from_status, frozenset())

    def next_of(self, from_status: str) -> list[str]:
        return sorted(self.moves.get(from_status, frozenset()))


def transition_locked(
    *,
    obj: models.Model,
    table: TransitionTable,
    to_status: str,
    actor: Any,
    reason: str = "",
    organisation_id: int | None = None,
    data: dict | None = None,
    apply: Callable[[Any], dict | None] | None = None,
) -> Any:
    from_status = obj.status
    if not table.allows(from_status, to_status):
        allowed = ", ".join(table.next_of(from_status)) or "none"
        raise InvalidTransition(
            f"A {table.name} that is {from_status} cannot become {to_status}; it can become: {allowed}.",
            fields={"status": f"Allowed next: {allowed}."},
        )
    extra = (apply(obj) if apply is not None else None) or {}
    obj.status = to_status
    obj.save()
    audit_record(
        actor=actor,
        action=f"{table.name}.{to_status}",
        subject=obj,
        organisation_id=organisation_id,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        data={**(data or {}), **extra},
    )
    return obj


def transition(*, model: type[models.Model], pk: Any, table: TransitionTable, to_status: str, actor: Any,
               reason: str = "", organisation_id: int | None = None, data: dict | None = None,
               apply: Callable[[Any], dict | None] | None = None) -> Any:  # fmt: skip
    with transaction.atomic():
        obj = model.objects.select_for_update().filter(pk=pk).first()
        if obj is None:
            raise NotFound(f"No such {model._meta.verbose_name}.")
        return transition_locked(obj=obj, table=table, to_status=to_status, actor=actor, reason=reason,
                                 organisation_id=organisation_id, data=data, apply=apply)  # fmt: skip
