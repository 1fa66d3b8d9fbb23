from django.utils.functional import SimpleLazyObject

from marketplace.organisations.models import Membership, Organisation

SESSION_KEY = "current_organisation_id"


def memberships_of(request) -> list[Membership]:
    """The signed-in user's memberships with their organisations, loaded once per request."""
    if not hasattr(request, "_memberships_cache"):
        user = request.user
        request._memberships_cache = (
            list(user.memberships.select_related("organisation").order_by("organisation__legal_name"))
            if user.is_authenticated
            else []
        )
    return request._memberships_cache


def current_membership(request) -> Membership | None:
    """The membership the user acts through: the one chosen in the session, else the first."""
    memberships = memberships_of(request)
    if not memberships:
        return None
    chosen = request.session.get(SESSION_KEY)
    for membership in memberships:
        if membership.organisation_id == chosen:
            return membership
    return memberships[0]


def user_is_operator(request) -> bool:
    """Whether the user belongs to the platform operator (for navigation; services check again)."""
    return any(m.organisation.kind == Organisation.Kind.OPERATOR for m in memberships_of(request))


class CurrentOrganisationMiddleware:
    """Pages act for one organisation at a time; users in several switch between them.

    `request.membership` is a lazy proxy (it is falsy when the user has no membership); code that
    needs a real `None` calls `current_membership(request)`.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = SimpleLazyObject(lambda: current_membership(request))
        return self.get_response(request)
