from django.utils.functional import SimpleLazyObject

SESSION_KEY = "current_organisation_id"


def _current_membership(request):
    user = request.user
    if not user.is_authenticated:
        return None
    memberships = list(user.memberships.select_related("organisation").order_by("organisation__legal_name"))
    if not memberships:
        return None
    chosen = request.session.get(SESSION_KEY)
    for membership in memberships:
        if membership.organisation_id == chosen:
            return membership
    return memberships[0]


class CurrentOrganisationMiddleware:
    """Pages act for one organisation at a time; users in several switch between them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = SimpleLazyObject(lambda: _current_membership(request))
        return self.get_response(request)
