"""Payment pages: the buyer's payment step and an order's money, a seller's money page, the operator's ledger.

Each view parses the request, calls one selector or service, and renders (house rules 1 and 2). A refusal shows
the service's message with its status code and changes nothing; another organisation's data is 404.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.core.errors import DomainError, NotFound, PermissionDenied
from marketplace.organisations.middleware import current_membership
from payments import selectors
from payments.models import Payment
from payments.providers import provider_get
from payments.services import payments as services


def _order_page(request: HttpRequest, number: str, *, error: DomainError | None = None, status: int = 200):
    try:
        context = selectors.order_money(viewer=request.user, number=number)
    except NotFound:
        raise Http404(_("No such order.")) from None
    order = context["order"]
    waiting = next((p for p in context["payments"] if p.status == Payment.Status.PENDING), None)
    context.update(
        error=error,
        provider=provider_get().name,
        waiting=waiting,
        can_pay="buyer" in context["sides"] and order.status == "accepted",
        demo_button=settings.DEBUG,
        offline_payments=settings.OFFLINE_PAYMENTS,
        offline_instructions=settings.OFFLINE_PAYMENT_INSTRUCTIONS,
        can_confirm="operator" in context["sides"] and waiting is not None and waiting.provider == "offline",
        can_resend="operator" in context["sides"]
        and context["transfer"] is not None
        and context["transfer"].status == "failed",
        stripe_js_url=settings.STRIPE_JS_URL,
        stripe_publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
    )
    return render(request, "payments/order.html", context, status=status)


@login_required
def order_payment(request: HttpRequest, number: str) -> HttpResponse:
    return _order_page(request, number)


@login_required
@require_POST
def order_pay(request: HttpRequest, number: str) -> HttpResponse:
    """Start paying the order. Offline mode "pays" at once (no script needed); with Stripe the page then shows
    the card form for the PaymentIntent."""
    try:
        context = selectors.order_money(viewer=request.user, number=number)
    except NotFound:
        raise Http404(_("No such order.")) from None
    order = context["order"]
    try:
        amount = int(request.POST.get("amount", ""))
    except ValueError:
        amount = request.POST.get("amount")
    try:
        payment = services.payment_start(
            actor=request.user, order_id=order.pk, amount=amount, currency=request.POST.get("currency", "")
        )
        if payment.provider == "offline" and settings.DEBUG and request.POST.get("demo"):
            payment = services.payment_offline_pay(actor=request.user, payment_id=payment.pk)
            if payment.status == Payment.Status.SUCCEEDED:
                messages.success(request, _("Paid. The money is held in escrow until the order is settled."))
            else:
                messages.error(request, payment.failure_message or _("The payment failed."))
        elif payment.provider == "offline":
            messages.success(
                request,
                _("Transfer the amount quoting the reference %(reference)s; the order is paid once it is received.")
                % {"reference": payment.reference},
            )
    except PermissionDenied as error:
        raise HttpForbidden(error.message) from None
    except NotFound:
        raise Http404(_("No such order.")) from None
    except DomainError as error:
        return _order_page(request, number, error=error, status=error.status_code)
    return redirect("payments:order", number=order.number)


@login_required
@require_POST
def payment_confirm_received(request: HttpRequest, number: str) -> HttpResponse:
    """The operator confirms that the waiting offline payment's transfer was received."""
    try:
        payment = services.payment_offline_confirm(
            actor=request.user, payment_id=int(request.POST.get("payment") or 0),
            transfer_reference=request.POST.get("transfer_reference", ""), evidence=request.FILES.get("evidence"),
            note=request.POST.get("note", ""),
        )  # fmt: skip
    except (NotFound, ValueError):
        raise Http404(_("No such payment.")) from None
    except DomainError as error:
        return _order_page(request, number, error=error, status=error.status_code)
    messages.success(request, _("Received: payment %(reference)s funds the escrow.") % {"reference": payment.reference})
    return redirect("payments:order", number=number)


@login_required
@require_POST
def transfer_resend(request: HttpRequest, number: str) -> HttpResponse:
    """The operator re-sends the order's transfer that the provider refused."""
    try:
        transfer_id = int(request.POST.get("transfer") or 0)
        reason = request.POST.get("reason", "")
        transfer = services.transfer_resend(actor=request.user, transfer_id=transfer_id, reason=reason)
    except (NotFound, ValueError):
        raise Http404(_("No such transfer.")) from None
    except DomainError as error:
        return _order_page(request, number, error=error, status=error.status_code)
    messages.success(request, _("Transfer %(id)s is sent again.") % {"id": transfer.pk})
    return redirect("payments:order", number=number)


@login_required
def money(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        raise Http404(_("You are not a member of any organisation."))
    return redirect("payments:organisation-money", organisation_id=membership.organisation_id)


@login_required
def organisation_money(request: HttpRequest, organisation_id: int) -> HttpResponse:
    try:
        context = selectors.organisation_money(viewer=request.user, organisation_id=organisation_id)
        context |= selectors.organisation_purchases_money(viewer=request.user, organisation_id=organisation_id)
    except NotFound:
        raise Http404(_("No such organisation.")) from None
    except PermissionDenied as error:
        raise HttpForbidden(error.message) from None
    return render(request, "payments/money.html", context)


@login_required
@require_POST
def payout_onboarding(request: HttpRequest, organisation_id: int) -> HttpResponse:
    back = request.build_absolute_uri(reverse("payments:organisation-money", args=[organisation_id]))
    try:
        url = services.payout_onboarding_start(
            actor=request.user, organisation_id=organisation_id, return_url=back, refresh_url=back
        )
    except NotFound:
        raise Http404(_("No such organisation.")) from None
    except PermissionDenied as error:
        raise HttpForbidden(error.message) from None
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("payments:organisation-money", organisation_id=organisation_id)
    return redirect(url)


@login_required
def ledger(request: HttpRequest) -> HttpResponse:
    try:
        context = selectors.ledger_overview(viewer=request.user, page=request.GET.get("page", 1))
    except NotFound:
        raise Http404(_("No such page.")) from None
    return render(request, "payments/ledger.html", context)
