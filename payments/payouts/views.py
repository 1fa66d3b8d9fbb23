"""Payout pages: the cooperative's batches (propose, approve, execute, cancel, the payment file) and each member
farmer's statement (page and PDF).

Each view parses the request, calls one selector or service, and renders (house rules 1 and 2). A refusal shows
the service's message with its status code and changes nothing; batches and members of other organisations
are 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.core.errors import DomainError, NotFound, PermissionDenied
from marketplace.organisations.middleware import current_membership
from marketplace.organisations.models import Organisation
from marketplace.organisations.roles import Capability, role_can
from payments.payouts import selectors, services, statements
from payments.payouts.models import PayoutBatch

PAGE_SIZE = 25
MOVES = {
    PayoutBatch.Status.APPROVED: "approve",
    PayoutBatch.Status.EXECUTED: "execute",
    PayoutBatch.Status.CANCELLED: "cancel",
}


def _http_error(error: DomainError) -> Exception:
    if isinstance(error, NotFound):
        return Http404(error.message)
    if isinstance(error, PermissionDenied):
        return HttpForbidden(error.message)
    return error


def _cooperative(request: HttpRequest):
    membership = current_membership(request)
    if membership is None or membership.organisation.kind != Organisation.Kind.COOPERATIVE:
        raise Http404(_("Payouts are for cooperatives: switch to a cooperative you belong to."))
    return membership


def _render_list(request: HttpRequest, *, error: DomainError | None = None, status: int = 200) -> HttpResponse:
    membership = _cooperative(request)
    organisation = membership.organisation
    batches = selectors.payout_batch_list(viewer=request.user, organisation_id=organisation.pk)
    context = {
        "organisation": organisation,
        "page": Paginator(batches, PAGE_SIZE).get_page(request.GET.get("page")),
        "candidates": selectors.payout_candidates(viewer=request.user, organisation_id=organisation.pk),
        "policy": selectors.payout_policy_get(viewer=request.user, organisation_id=organisation.pk),
        "can_decide": role_can(membership.role, Capability.DECIDE),
        "error": error,
    }
    return render(request, "payouts/list.html", context, status=status)


@login_required
def batch_list(request: HttpRequest) -> HttpResponse:
    return _render_list(request)


@login_required
@require_POST
def batch_propose(request: HttpRequest) -> HttpResponse:
    membership = _cooperative(request)
    try:
        batch = services.payout_batch_propose(actor=request.user, organisation_id=membership.organisation_id)
    except (NotFound, PermissionDenied) as error:
        raise _http_error(error) from None
    except DomainError as error:
        return _render_list(request, error=error, status=error.status_code)
    messages.success(request, _("Payout batch %(reference)s proposed.") % {"reference": batch.reference})
    return redirect("payouts:detail", batch_id=batch.pk)


@login_required
@require_POST
def policy_set(request: HttpRequest) -> HttpResponse:
    membership = _cooperative(request)
    raw = request.POST.get("levy_percent", "").strip().replace(",", ".")
    try:
        try:
            levy_bp = round(float(raw) * 100)
        except (ValueError, OverflowError):  # "abc", "nan"; "inf" and "1e400" overflow
            from marketplace.core.errors import ValidationFailed

            raise ValidationFailed(
                _("Write the levy as a percentage, e.g. 2 or 2.5."), fields={"levy_percent": _("A number.")}
            ) from None
        services.payout_policy_set(actor=request.user, organisation_id=membership.organisation_id, levy_bp=levy_bp)
    except (NotFound, PermissionDenied) as error:
        raise _http_error(error) from None
    except DomainError as error:
        return _render_list(request, error=error, status=error.status_code)
    messages.success(request, _("The levy is now %(percent)s %%.") % {"percent": f"{levy_bp / 100:g}"})
    return redirect("payouts:list")


def _render_detail(request: HttpRequest, batch_id: int, *, error: DomainError | None = None, status: int = 200):
    try:
        batch = selectors.payout_batch_get(viewer=request.user, batch_id=batch_id)
    except NotFound:
        raise Http404(_("No such payout batch.")) from None
    membership = next((m for m in request.user.memberships.all() if m.organisation_id == batch.organisation_id), None)
    can_decide = membership is not None and role_can(membership.role, Capability.DECIDE)
    context = {
        "batch": batch,
        "lines": list(batch.lines.all()),
        "orders": list(batch.orders.all()),
        "can_decide": can_decide,
        "moves": [(to, MOVES[to]) for frm, to in sorted(services.PAYOUT_TRANSITIONS) if frm == batch.status],
        "has_file": batch.status in (PayoutBatch.Status.APPROVED, PayoutBatch.Status.EXECUTED),
        "failed_lines": sum(1 for line in batch.lines.all() if line.failed_at and line.net_amount)
        if batch.status == PayoutBatch.Status.EXECUTED
        else 0,
        "error": error,
    }
    return render(request, "payouts/detail.html", context, status=status)


@login_required
def batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    return _render_detail(request, batch_id)


@login_required
@require_POST
def batch_move(request: HttpRequest, batch_id: int, to_status: str) -> HttpResponse:
    if to_status not in MOVES:
        raise Http404(_("No such move."))
    try:
        batch = services.payout_batch_transition(
            actor=request.user, batch_id=batch_id, to_status=to_status, reason=request.POST.get("reason", "")
        )
    except (NotFound, PermissionDenied) as error:
        raise _http_error(error) from None
    except DomainError as error:
        return _render_detail(request, batch_id, error=error, status=error.status_code)
    messages.success(
        request,
        _("Payout batch %(reference)s is now %(status)s.")
        % {"reference": batch.reference, "status": batch.get_status_display().lower()},
    )
    return redirect("payouts:detail", batch_id=batch.pk)


@login_required
@require_POST
def batch_retry_failed(request: HttpRequest, batch_id: int) -> HttpResponse:
    try:
        reason = request.POST.get("reason", "")
        batch = services.payout_lines_retry(actor=request.user, batch_id=batch_id, reason=reason)
    except (NotFound, PermissionDenied) as error:
        raise _http_error(error) from None
    except DomainError as error:
        return _render_detail(request, batch_id, error=error, status=error.status_code)
    messages.success(
        request, _("The failed payments of batch %(reference)s are sent again.") % {"reference": batch.reference}
    )
    return redirect("payouts:detail", batch_id=batch.pk)


@login_required
def batch_csv(request: HttpRequest, batch_id: int) -> HttpResponse:
    try:
        name, text = selectors.payout_batch_csv(viewer=request.user, batch_id=batch_id)
    except NotFound as error:
        raise Http404(error.message) from None
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def member_statement(request: HttpRequest, farmer_id: int) -> HttpResponse:
    try:
        statement = selectors.member_statement(viewer=request.user, farmer_id=farmer_id)
    except NotFound:
        raise Http404(_("No such member farmer.")) from None
    return render(request, "payouts/statement.html", {"statement": statement})


@login_required
def member_statement_pdf(request: HttpRequest, farmer_id: int) -> HttpResponse:
    try:
        statement = selectors.member_statement(viewer=request.user, farmer_id=farmer_id)
    except NotFound:
        raise Http404(_("No such member farmer.")) from None
    response = HttpResponse(statements.statement_pdf(statement), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{statements.statement_filename(statement)}"'
    return response
