"""Actions a decision can gate: when it closes, the action is taken or refused through that action's own service.

A gate is named by the decision's `subject`, `<kind>:<id>` (e.g. `proposal_part:12`). Each kind registers a `Gate` with
how to check that the subject belongs to the cooperative and what to do once the members have decided. The first
option of a gated decision approves the action; any other outcome (another option, no quorum, no threshold) refuses it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext

from marketplace.core.errors import DomainError, ValidationFailed

SUBJECT = re.compile(r"^(?P<kind>[a-z_]{1,40}):(?P<pk>[0-9]{1,12})$")


@dataclass(frozen=True)
class Gate:
    exists: Callable[[int, int], bool]  # (organisation id, subject id) -> the cooperative's, waiting for an answer
    approve: Callable[[Any, int], str]  # (decision, subject id) -> what was done
    refuse: Callable[[Any, int], str]


GATES: dict[str, Gate] = {}
# Decision kinds that gate an action, and the subject kind each names.
GATED_KINDS: dict[str, tuple[str, ...]] = {"proposal": ("proposal_part", "order"), "group_order": ("group_order",)}


def register(kind: str, gate: Gate) -> None:
    GATES[kind] = gate


def parse_subject(subject: str) -> tuple[str, int] | None:
    match = SUBJECT.match((subject or "").strip())
    return (match["kind"], int(match["pk"])) if match else None


def check_subject(*, organisation, kind: str, subject: str) -> None:
    subject_kind, pk = parse_subject(subject) or ("", 0)
    expected = GATED_KINDS.get(kind, ())
    if subject_kind not in expected:
        written = " or ".join(f"{name}:<id>" for name in expected)
        raise ValidationFailed(
            gettext("This kind of vote decides a %(expected)s: write %(written)s.")
            % {"expected": " or a ".join(expected), "written": written},
            fields={"subject": gettext("Expected %(written)s.") % {"written": written}},
        )
    kind = subject_kind
    gate = GATES.get(kind)
    if gate is None:
        raise ValidationFailed(
            gettext("A vote cannot gate a %(kind)s action here.") % {"kind": kind or "missing"},
            fields={"subject": "No such kind of action."},
        )
    if not gate.exists(organisation.pk, pk):
        raise ValidationFailed(
            gettext("Your cooperative has no %(kind)s %(pk)s waiting for an answer.") % {"kind": kind, "pk": pk},
            fields={"subject": "Not found."},
        )


def take(decision, *, approved: bool) -> str:
    """Take or refuse the gated action of a closing decision; a refusal by the action's service is recorded."""
    parsed = parse_subject(decision.subject)
    if decision.kind not in GATED_KINDS or parsed is None:
        return ""
    gate = GATES.get(parsed[0])
    if gate is None:
        return f"No handler for {parsed[0]}; nothing was done."
    try:
        return (gate.approve if approved else gate.refuse)(decision, parsed[1])
    except DomainError as error:  # the action can no longer be taken (expired, already answered, ...)
        return f"Could not be done: {error.message}"
