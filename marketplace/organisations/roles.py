"""Who may do what. Clerks record, managers decide, admins manage members, viewers read."""

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    MANAGER = "manager", _("Manager")
    CLERK = "clerk", _("Clerk")
    VIEWER = "viewer", _("Viewer")


class Capability(StrEnum):
    VIEW = "view"  # read the organisation's data
    RECORD = "record"  # record facts: member farmers, plots, deliveries
    DECIDE = "decide"  # business decisions: imports, status changes, lots, orders, payouts
    INVITE = "invite"  # invite new users
    MANAGE_MEMBERS = "manage_members"  # change roles, remove users, invite admins


ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.VIEWER: frozenset({Capability.VIEW}),
    Role.CLERK: frozenset({Capability.VIEW, Capability.RECORD}),
    Role.MANAGER: frozenset({Capability.VIEW, Capability.RECORD, Capability.DECIDE, Capability.INVITE}),
    Role.ADMIN: frozenset(Capability),
}

ROLE_RANK = {Role.VIEWER: 0, Role.CLERK: 1, Role.MANAGER: 2, Role.ADMIN: 3}


def role_can(role: str, capability: Capability) -> bool:
    return capability in ROLE_CAPABILITIES.get(role, frozenset())


def can_grant(granter_role: str, role: str) -> bool:
    """Managers may invite up to their own rank; only admins may make admins."""
    if role_can(granter_role, Capability.MANAGE_MEMBERS):
        return True
    return role_can(granter_role, Capability.INVITE) and ROLE_RANK[role] <= ROLE_RANK[granter_role]
