from django.utils.functional import SimpleLazyObject

from marketplace.organisations.menu import build_menu
from marketplace.organisations.middleware import current_membership, memberships_of, user_is_operator
from marketplace.organisations.roles import Capability, role_can


def _capabilities(request) -> dict[str, bool]:
    membership = current_membership(request)
    if membership is None:
        return {}
    return {capability.value: role_can(membership.role, capability) for capability in Capability}


def _menu(request) -> list:
    membership = current_membership(request)
    match = getattr(request, "resolver_match", None)
    return build_menu(
        kind=getattr(getattr(membership, "organisation", None), "kind", None),
        role=getattr(membership, "role", None),
        is_operator=user_is_operator(request),
        view_name=getattr(match, "view_name", None),
    )


def navigation(request) -> dict:
    """Lazy values: nothing touches the database unless a template uses it (the 500 page does not)."""
    return {
        "current_membership": SimpleLazyObject(lambda: current_membership(request)),
        "current_organisation": SimpleLazyObject(lambda: getattr(current_membership(request), "organisation", None)),
        "can": SimpleLazyObject(lambda: _capabilities(request)),
        "user_memberships": SimpleLazyObject(lambda: memberships_of(request)),
        "user_is_operator": SimpleLazyObject(lambda: user_is_operator(request)),
        "menu": SimpleLazyObject(lambda: _menu(request)),
    }
