from marketplace.organisations.roles import Capability, role_can


def navigation(request) -> dict:
    membership = getattr(request, "membership", None)
    if not membership:
        return {"current_membership": None, "can": {}}
    return {
        "current_membership": membership,
        "current_organisation": membership.organisation,
        "can": {capability.value: role_can(membership.role, capability) for capability in Capability},
    }
