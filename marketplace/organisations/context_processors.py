from django.utils.functional import SimpleLazyObject

from marketplace.organisations.middleware import current_membership, memberships_of, user_is_operator
from marketplace.organisations.roles import Capability, role_can


def _capabilities(request) -> dict[str, bool]:
    membership = current_membership(request)
    if membership is None:
        return {}
    return {capability.value: role_can(membership.role, capability) for capability in Capability}


def navigation(request) -> dict:
    """Lazy values: nothing touches the database unless a template uses it (the 500 page does not)."""
    return {
        "current_membership": SimpleLazyObject(lambda: current_membership(request)),
        "current_organisation": SimpleLazyObject(lambda: getattr(current_membership(request), "organisation", None)),
        "can": SimpleLazyObject(lambda: _capabilities(request)),
        "user_memberships": SimpleLazyObject(lambda: memberships_of(request)),
        "user_is_operator": SimpleLazyObject(lambda: user_is_operator(request)),
    }
