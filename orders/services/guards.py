"""Checks a higher app may put on some moves of orders and group orders, named in `settings.ORDER_ACTION_GUARDS`.

Orders never imports the apps above it (layers): the project's settings name the guards by dotted path. Each guard is
called as `guard(action=..., obj=..., actor=...)` under the object's lock, before the move is made, and refuses the
move by raising a `DomainError` (its message reaches the person who asked). The actions:

- `group_order.submit`: a cooperative submits a draft group input order to its supplier (obj: the `GroupOrder`);
- `order.accept`: a seller accepts a produce order (obj: the `Order`).

The member decisions app uses them so that a cooperative can require its members' vote before these moves, and the
vote's result then makes (or refuses) the move through `group_order_transition` / `order_transition` themselves.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from marketplace.organisations.models import User

ACTIONS = frozenset({"group_order.submit", "order.accept"})


def guard_check(*, action: str, obj: Any, actor: User | None) -> None:
    """Run every guard for `action`; the first refusal stops the move."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown guarded action {action!r}.")
    for path in getattr(settings, "ORDER_ACTION_GUARDS", ()):
        import_string(path)(action=action, obj=obj, actor=actor)
