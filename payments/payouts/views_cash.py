"""Cash payout pages: the list of members to pay by hand, the confirmation step, and the receipt to sign."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from marketplace.core.errors import DomainError, NotFound, PermissionDenied
from marketplace.organisations.roles import Capability, role_can
from payments.payouts import selectors_cash
from payments.payouts.services.cash import cash_handover_record, is_cash_line
from payments.payouts.views import _cooperative


def _line(request: HttpRequest, line_id: int):
    try:
        return selectors_cash.cash_line_get(viewer=request.user, line_id=line_id)
    except NotFound:
        raise Http404(_("No such payout.")) from None


@login_required
def cash_list(request: HttpRequest) -> HttpResponse:
    membership = _cooperative(request)
    organisation_id = membership.organisation_id
    context = {
        "organisation": membership.organisation,
        "to_hand_over": selectors_cash.cash_lines(viewer=request.user, organisation_id=organisation_id,
                                                  handed_over=False)[:200],
        "handed_over": selectors_cash.cash_lines(viewer=request.user, organisation_id=organisation_id,
                                                 handed_over=True).order_by("-cash_handover__handed_over_at")[:50],
        "can_record": role_can(membership.role, Capability.RECORD),
    }  # fmt: skip
    return render(request, "payouts/cash_list.html", context)


@login_required
def cash_confirm(request: HttpRequest, line_id: int) -> HttpResponse:
    """GET: "did you hand X to Y?" with the amount in words and figures; POST: record it, then the receipt."""
    line = _line(request, line_id)
    if not is_cash_line(line):
        raise Http404(_("No such payout."))
    error = None
    if request.method == "POST":
        try:
            cash_handover_record(actor=request.user, line_id=line.pk, note=request.POST.get("note", ""))
        except NotFound:
            raise Http404(_("No such payout.")) from None
        except PermissionDenied as denied:
            raise HttpForbidden(denied.message) from None
        except DomainError as refused:
            error = refused
        else:
            messages.success(request, _("Cash handover recorded. Print the receipt for the member to sign."))
            return redirect("payouts:cash-receipt", line_id=line.pk)
    status = error.status_code if error is not None else 200
    return render(request, "payouts/cash_confirm.html", {"line": line, "error": error}, status=status)


@login_required
def cash_receipt(request: HttpRequest, line_id: int) -> HttpResponse:
    line = _line(request, line_id)
    if not hasattr(line, "cash_handover"):
        return redirect("payouts:cash-confirm", line_id=line.pk)
    return render(request, "payouts/cash_receipt.html", {"line": line, "handover": line.cash_handover})
