"""Server-rendered pages: parse the request, call one selector or service, render (house rules 1 and 2).

Every page works without JavaScript; htmx only swaps the member register's results while typing.
"""

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from marketplace.core.errors import DomainError, NotFound, PermissionDenied
from marketplace.organisations import selectors, services
from marketplace.organisations.forms import (
    InvitationAcceptForm,
    InvitationForm,
    MemberEditForm,
    MemberFarmerForm,
    MemberSearchForm,
    MembershipRoleForm,
    OrganisationSwitchForm,
    PlotForm,
    VerificationForm,
    add_domain_error,
)
from marketplace.organisations.middleware import SESSION_KEY, current_membership, memberships_of
from marketplace.organisations.models import MemberFarmer, Organisation
from marketplace.organisations.roles import Capability, role_can

REGISTER_PAGE_SIZE = 25
ORGANISATIONS_PAGE_SIZE = 50


def _http_error(error: DomainError) -> Exception:
    """The HTTP exception for a selector's or service's refusal: 404 hides, 403 refuses."""
    if isinstance(error, NotFound):
        return Http404(error.message)
    if isinstance(error, PermissionDenied):
        return HttpForbidden(error.message)
    return error


def _call(form, service: Callable[..., Any], /, **kwargs) -> Any | None:
    """Call a service; a 400/409 refusal goes onto the form (and returns None), 403/404 become pages."""
    try:
        return service(**kwargs)
    except (NotFound, PermissionDenied) as error:
        raise _http_error(error) from None
    except DomainError as error:
        add_domain_error(form, error)
        return None


def _organisation_for(request: HttpRequest, capability: Capability, *, cooperative: bool = False) -> Organisation:
    """The organisation the user currently acts for, checked by the selector for `capability`."""
    membership = current_membership(request)
    if membership is None:
        raise Http404(_("You are not a member of any organisation."))
    try:
        organisation = selectors.organisation_for(
            viewer=request.user, organisation_id=membership.organisation_id, capability=capability
        )
    except DomainError as error:
        raise _http_error(error) from None
    if cooperative and organisation.kind != Organisation.Kind.COOPERATIVE:
        raise Http404(_("Only cooperatives have a member register."))
    return organisation


def _require_operator(request: HttpRequest) -> None:
    if not selectors.is_operator(request.user):
        raise HttpForbidden(_("Only the platform operator may see this page."))


def _form_status(request: HttpRequest, form) -> int:
    return 400 if request.method == "POST" and form.errors else 200


# --- Sign-in ------------------------------------------------------------------------------


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None, credentials=None):
    """What a locked-out sign-in gets (settings.AXES_LOCKOUT_CALLABLE).

    The API already answers with its own JSON error, so it is kept; pages get a friendly page.
    """
    if request.path.startswith("/api/") and original_response is not None:
        return original_response
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else None
    return render(
        request,
        "registration/lockout.html",
        {"cooloff_minutes": minutes},
        status=getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429),
    )


class SignInView(auth_views.LoginView):
    """Sign in, then show the pages in the language the user chose last time."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        language = form.get_user().preferred_language
        if language in dict(settings.LANGUAGES):
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
        return response


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """Django's language switch, which also remembers the choice on the signed-in user's account."""
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        services.user_set_language(actor=request.user, language=language)
    return set_language(request)


# --- Organisation switcher (the dashboard: marketplace.market.views.dashboard) ----------------------


@login_required
@require_POST
def organisation_switch(request: HttpRequest) -> HttpResponse:
    """Act for another of the user's organisations; the choice is kept only if the user is a member."""
    form = OrganisationSwitchForm(request.POST)
    if not form.is_valid():
        raise Http404(_("No such organisation."))
    try:
        organisation = selectors.organisation_for(
            viewer=request.user, organisation_id=form.cleaned_data["organisation"], capability=Capability.VIEW
        )
    except DomainError as error:
        raise _http_error(error) from None
    request.session[SESSION_KEY] = organisation.pk
    messages.success(request, _("You now act for %(organisation)s.") % {"organisation": organisation.name})
    return redirect("dashboard")


# --- Member register ----------------------------------------------------------------------


@login_required
def member_list(request: HttpRequest) -> HttpResponse:
    organisation = _organisation_for(request, Capability.VIEW, cooperative=True)
    form = MemberSearchForm(request.GET)
    search = status = ""
    if form.is_valid():
        search = form.cleaned_data["q"].strip()
        status = form.cleaned_data["status"]
    farmers = selectors.member_farmer_list(
        viewer=request.user, organisation_id=organisation.pk, search=search, status=status
    ).order_by("member_number", "id")
    page = Paginator(farmers, REGISTER_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"organisation": organisation, "form": form, "page": page, "filtered": bool(search or status)}
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    template = "organisations/_member_results.html" if partial else "organisations/member_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _farmer_for(request: HttpRequest, farmer_id: int) -> MemberFarmer:
    try:
        return selectors.member_farmer_get(viewer=request.user, farmer_id=farmer_id)
    except DomainError as error:
        raise _http_error(error) from None


def _can_in(request: HttpRequest, organisation_id: int, capability: Capability) -> bool:
    return any(m.organisation_id == organisation_id and role_can(m.role, capability) for m in memberships_of(request))


@login_required
def member_detail(request: HttpRequest, farmer_id: int) -> HttpResponse:
    farmer = _farmer_for(request, farmer_id)
    plots = selectors.plot_list(viewer=request.user, farmer_id=farmer.pk).order_by("name", "id")
    context = {
        "farmer": farmer,
        "plots": plots,
        "total_area": sum((plot.area_hectares for plot in plots), start=0),
        "can_record": _can_in(request, farmer.organisation_id, Capability.RECORD),
        "overlaps": selectors.plot_overlap_list(viewer=request.user, farmer_id=farmer.pk),
    }
    return render(request, "organisations/member_detail.html", context)


@login_required
def member_add(request: HttpRequest) -> HttpResponse:
    organisation = _organisation_for(request, Capability.RECORD, cooperative=True)
    form = MemberFarmerForm(request.POST or None, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        farmer = _call(
            form,
            services.member_farmer_create,
            actor=request.user,
            organisation_id=organisation.pk,
            **form.service_fields(),
        )
        if farmer is not None:
            messages.success(request, _("%(name)s was added to the register.") % {"name": farmer.name})
            return redirect("member-detail", farmer_id=farmer.pk)
    return render(
        request,
        "organisations/member_form.html",
        {"form": form, "organisation": organisation},
        status=_form_status(request, form),
    )


@login_required
def member_edit(request: HttpRequest, farmer_id: int) -> HttpResponse:
    farmer = _farmer_for(request, farmer_id)
    organisation = _organisation_in(request, farmer.organisation_id, Capability.RECORD)
    initial = {name: getattr(farmer, name, "") for name in ("member_number", "name", "phone", "gender", "birth_year",
                                                            "village", "language")}  # fmt: skip
    form = MemberEditForm(request.POST or None, organisation=organisation, initial=initial)
    if request.method == "POST" and form.is_valid():
        changed = {name: value for name, value in form.service_fields().items() if name in form.changed_data}
        updated = _call(form, services.member_farmer_update, actor=request.user, farmer_id=farmer.pk, **changed)
        if updated is not None:
            messages.success(request, _("%(name)s was updated.") % {"name": updated.name})
            return redirect("member-detail", farmer_id=farmer.pk)
    context = {"form": form, "farmer": farmer}
    return render(request, "organisations/member_edit.html", context, status=_form_status(request, form))


@login_required
def plot_edit(request: HttpRequest, farmer_id: int, plot_id: int) -> HttpResponse:
    farmer = _farmer_for(request, farmer_id)
    _organisation_in(request, farmer.organisation_id, Capability.RECORD)
    plot = selectors.plot_list(viewer=request.user, farmer_id=farmer.pk).filter(pk=plot_id).first()
    if plot is None:
        raise Http404(_("No such plot."))
    initial = {"name": plot.name, "area_hectares": plot.area_hectares, "country": plot.country.code,
               "geometry": plot.geometry}  # fmt: skip
    form = PlotForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changed = {name: value for name, value in form.service_fields().items() if name in form.changed_data}
        updated = _call(form, services.plot_update, actor=request.user, plot_id=plot.pk, **changed)
        if updated is not None:
            messages.success(request, _("Plot %(name)s was updated.") % {"name": updated.name})
            return redirect("member-detail", farmer_id=farmer.pk)
    overlaps = selectors.plot_overlap_list(viewer=request.user, plot_id=plot.pk)
    context = {"form": form, "farmer": farmer, "plot": plot, "overlaps": overlaps}
    return render(request, "organisations/plot_form.html", context, status=_form_status(request, form))


def _organisation_in(request: HttpRequest, organisation_id: int, capability: Capability) -> Organisation:
    try:
        return selectors.organisation_for(viewer=request.user, organisation_id=organisation_id, capability=capability)
    except DomainError as error:
        raise _http_error(error) from None


@login_required
def plot_add(request: HttpRequest, farmer_id: int) -> HttpResponse:
    farmer = _farmer_for(request, farmer_id)
    try:
        selectors.organisation_for(
            viewer=request.user, organisation_id=farmer.organisation_id, capability=Capability.RECORD
        )
    except DomainError as error:
        raise _http_error(error) from None
    form = PlotForm(request.POST or None, initial={"country": farmer.organisation.country.code})
    if request.method == "POST" and form.is_valid():
        plot = _call(form, services.plot_create, actor=request.user, farmer_id=farmer.pk, **form.service_fields())
        if plot is not None:
            messages.success(request, _("Plot %(name)s was added.") % {"name": plot.name})
            return redirect("member-detail", farmer_id=farmer.pk)
    return render(
        request, "organisations/plot_form.html", {"form": form, "farmer": farmer}, status=_form_status(request, form)
    )


# --- Members & invitations (the organisation's users) -------------------------------------


@login_required
def people(request: HttpRequest) -> HttpResponse:
    organisation = _organisation_for(request, Capability.INVITE)
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        invitation = _call(
            form,
            services.invitation_create,
            actor=request.user,
            organisation_id=organisation.pk,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
        )
        if invitation is not None:
            messages.success(request, _("An invitation was sent to %(email)s.") % {"email": invitation.email})
            return redirect("people")
    context = {
        "organisation": organisation,
        "form": form,
        "can_manage_members": _can_in(request, organisation.pk, Capability.MANAGE_MEMBERS),
        "role_choices": MembershipRoleForm.base_fields["role"].choices,
        "memberships": selectors.membership_list(viewer=request.user, organisation_id=organisation.pk),
        "invitations": [
            invitation
            for invitation in selectors.invitation_list(viewer=request.user, organisation_id=organisation.pk)
            if invitation.status == "open"
        ],
    }
    return render(request, "organisations/people.html", context, status=_form_status(request, form))


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    try:
        invitation = services.invitation_revoke(actor=request.user, invitation_id=invitation_id)
    except (NotFound, PermissionDenied) as error:
        raise _http_error(error) from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The invitation to %(email)s was revoked.") % {"email": invitation.email})
    return redirect("people")


@login_required
@require_POST
def membership_role(request: HttpRequest, membership_id: int) -> HttpResponse:
    form = MembershipRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the roles in the list."))
        return redirect("people")
    try:
        membership = services.membership_change_role(
            actor=request.user, membership_id=membership_id, role=form.cleaned_data["role"]
        )
    except (NotFound, PermissionDenied) as error:
        raise _http_error(error) from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("%(user)s is now %(role)s.") % {"user": membership.user, "role": membership.get_role_display()},
        )
    return redirect("people")


@login_required
@require_POST
def membership_remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    try:
        services.membership_remove(actor=request.user, membership_id=membership_id)
    except (NotFound, PermissionDenied) as error:
        raise _http_error(error) from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The user no longer has access to this organisation."))
    return redirect("people")


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Signed in: accept as yourself. Otherwise: create the account with a name and a password."""
    signed_in = request.user.is_authenticated
    form = None if signed_in else InvitationAcceptForm(request.POST or None)
    error: DomainError | None = None
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            if signed_in:
                membership = services.invitation_accept(token=token, user=request.user)
            else:
                membership = services.invitation_accept(
                    token=token, password=form.cleaned_data["password"], full_name=form.cleaned_data["full_name"]
                )
        except DomainError as refused:
            error = refused
            if form is not None:
                add_domain_error(form, refused)
        else:
            if not signed_in:
                login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[SESSION_KEY] = membership.organisation_id
            messages.success(
                request,
                _("Welcome to %(organisation)s. You are %(role)s.")
                % {"organisation": membership.organisation.name, "role": membership.get_role_display()},
            )
            return redirect("dashboard")
    status = 200
    if error is not None:
        status = error.status_code
    elif form is not None and form.errors:
        status = 400
    return render(
        request,
        "organisations/invitation_accept.html",
        {
            "form": form,
            "error": error,
            "token": token,
            "invitation": selectors.invitation_preview(token=token),
            "login_url": f"{reverse('login')}?{urlencode({'next': request.path})}",
        },
        status=status,
    )


# --- Operator: organisations and their verification ---------------------------------------

VERIFICATION_ACTIONS = {
    Organisation.Verification.VERIFIED: gettext_lazy("Verify"),
    Organisation.Verification.REJECTED: gettext_lazy("Reject"),
    Organisation.Verification.PENDING: gettext_lazy("Reopen"),
    Organisation.Verification.SUSPENDED: gettext_lazy("Suspend"),
}
NEEDS_REASON = {Organisation.Verification.REJECTED, Organisation.Verification.SUSPENDED}


def _organisation_rows(organisations) -> list[dict]:
    rows = []
    for organisation in organisations:
        allowed = services.VERIFICATION_TRANSITIONS.get(organisation.verification_status, set())
        actions = [
            {"to_status": to_status, "label": label, "needs_reason": to_status in NEEDS_REASON}
            for to_status, label in VERIFICATION_ACTIONS.items()
            if to_status in allowed
        ]
        rows.append({"organisation": organisation, "actions": actions})
    return rows


def _organisations_page(request: HttpRequest, *, error: DomainError | None = None, failed_id: int | None = None):
    status_filter = request.GET.get("status", "")
    organisations = selectors.organisation_list(viewer=request.user).order_by("legal_name", "id")
    if status_filter in Organisation.Verification.values:
        organisations = organisations.filter(verification_status=status_filter)
    else:
        status_filter = ""
    page = Paginator(organisations, ORGANISATIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": _organisation_rows(page.object_list),
        "status_filter": status_filter,
        "statuses": Organisation.Verification.choices,
        "error": error,
        "failed_id": failed_id,
    }
    return render(request, "organisations/organisation_list.html", context, status=error.status_code if error else 200)


@login_required
def organisation_list(request: HttpRequest) -> HttpResponse:
    _require_operator(request)
    return _organisations_page(request)


@login_required
@require_POST
def organisation_verification(request: HttpRequest, organisation_id: int) -> HttpResponse:
    _require_operator(request)
    form = VerificationForm(request.POST)
    if not form.is_valid():
        error = DomainError(_("Choose one of the buttons shown for this organisation."))
        return _organisations_page(request, error=error, failed_id=organisation_id)
    try:
        organisation = services.organisation_verification_transition(
            actor=request.user,
            organisation_id=organisation_id,
            to_status=form.cleaned_data["to_status"],
            reason=form.cleaned_data["reason"],
        )
    except NotFound as error:
        raise _http_error(error) from None
    except DomainError as error:
        return _organisations_page(request, error=error, failed_id=organisation_id)
    messages.success(
        request,
        _("%(organisation)s is now: %(status)s.")
        % {"organisation": organisation.name, "status": organisation.get_verification_status_display()},
    )
    query = request.GET.urlencode()
    return redirect(reverse("organisation-list") + (f"?{query}" if query else ""))
