"""Matching pages: a buyer's requests and the proposals made for them, a cooperative's open requests and the
proposals naming its listings. Each view parses, calls one selector or service, renders; a refusal shows the
service's message and changes nothing; another organisation's request or proposal is 404."""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.core.errors import DomainError, NotFound, PermissionDenied
from marketplace.core.money import Money
from marketplace.matching import selectors, services
from marketplace.matching.forms import BuyerRequestForm
from marketplace.matching.models import Proposal
from marketplace.organisations.middleware import current_membership
from marketplace.organisations.models import Organisation
from marketplace.organisations.roles import Capability
from marketplace.organisations.selectors import _organisation_ids_with
from orders.selectors import order_list

TONNE = 1_000_000


def _tonnes(grams: int) -> str:
    return f"{grams / TONNE:,.3f}".rstrip("0").rstrip(".")


def _money(amount: int, currency: str) -> str:
    return str(Money(int(amount), currency))


def _refuse(request: HttpRequest, error: DomainError) -> None:
    if isinstance(error, NotFound):
        raise Http404(error.message)
    if isinstance(error, PermissionDenied):
        raise HttpForbidden(error.message)
    messages.error(request, error.message)


def describe(proposal: Proposal, parts, *, for_buyer: bool) -> dict:
    """A proposal in words and figures: each part, the totals and why these lots and not the next best."""
    currency = proposal.request.currency
    rows, total_g, total_surplus = [], 0, 0
    for part in parts:
        surplus = part.grams * part.surplus_per_tonne_minor // TONNE
        total_g += part.grams
        total_surplus += surplus
        rows.append(
            {
                "part": part,
                "tonnes": _tonnes(part.grams),
                "price": _money(part.price_per_tonne_minor, currency),
                "transport": _money(part.transport_per_tonne_minor, currency),
                "surplus": _money(part.surplus_per_tonne_minor, currency),
                "words": _(
                    "%(tonnes)s t of %(listing)s from %(seller)s, %(km)s km from the delivery point: the ask is "
                    "%(price)s per tonne and transport %(transport)s per tonne, which leaves %(surplus)s per tonne "
                    "under the buyer's highest price."
                )
                % {
                    "tonnes": _tonnes(part.grams), "listing": part.listing.title, "seller": part.seller.name,
                    "km": part.distance_km, "price": _money(part.price_per_tonne_minor, currency),
                    "transport": _money(part.transport_per_tonne_minor, currency),
                    "surplus": _money(part.surplus_per_tonne_minor, currency),
                },
            }
        )  # fmt: skip
    alternatives = []
    if for_buyer:
        for alt in (proposal.explanation or {}).get("alternatives", []):
            surplus = _money(alt["surplus_per_tonne_minor"], currency)
            if alt["why"] == "taken":
                why = _(
                    "Listing %(listing)s, %(km)s km away, would leave %(surplus)s per tonne, but all of it went to "
                    "requests where it leaves more."
                )
            else:
                why = _(
                    "Listing %(listing)s, %(km)s km away, would leave %(surplus)s per tonne, but taking it would not "
                    "have made a better whole within every request's truckload and smallest fill."
                )
            alternatives.append(why % {"listing": alt["listing"], "km": alt["distance_km"], "surplus": surplus})
    return {
        "rows": rows,
        "tonnes": _tonnes(total_g),
        "surplus": _money(total_surplus, currency),
        "alternatives": alternatives,
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    organisation = membership.organisation if membership else None
    context: dict = {"organisation": organisation}
    if organisation is not None and organisation.kind == Organisation.Kind.BUYER:
        context["requests"] = list(selectors.buyer_request_list(viewer=request.user)[:100])
    if organisation is not None and organisation.kind == Organisation.Kind.COOPERATIVE:
        rows = selectors.requests_served_by(viewer=request.user, organisation_id=organisation.pk)
        context["open_requests"] = [
            {"request": r, "tonnes": _tonnes(r.remaining_grams), "listings": ids,
             "price": _money(r.max_price_per_tonne_minor, r.currency)}
            for r, ids in rows
        ]  # fmt: skip
    proposals = list(selectors.proposal_list(viewer=request.user)[:50])
    ids = set(_organisation_ids_with(request.user, Capability.VIEW))
    context["proposals"] = [
        {"proposal": p, "parts": selectors.visible_parts(viewer=request.user, proposal=p, ids=ids)} for p in proposals
    ]
    return render(request, "matching/home.html", context)


@login_required
def request_new(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None or membership.organisation.kind != Organisation.Kind.BUYER:
        raise HttpForbidden(_("Only a buying organisation posts requests."))
    form = BuyerRequestForm(request.POST or None, initial={"currency": membership.organisation.currency})
    if request.method == "POST" and form.is_valid():
        try:
            created = services.buyer_request_create(
                actor=request.user, buyer_id=membership.organisation_id, data=form.to_input()
            )
        except DomainError as error:
            _refuse(request, error)
            for field, msgs in error.fields.items():
                form.add_error(field if field in form.fields else None, msgs)
        else:
            messages.success(request, _("Your request is posted; proposals follow shortly."))
            return redirect("matching:request", created.pk)
    return render(request, "matching/request_form.html", {"form": form, "title": _("New request")},
                  status=400 if form.errors else 200)  # fmt: skip


@login_required
def request_edit(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        existing = selectors.buyer_request_get(viewer=request.user, request_id=pk)
    except NotFound:
        raise Http404(_("No such request.")) from None
    form = BuyerRequestForm(request.POST or None, initial=BuyerRequestForm.initial_from(existing))
    if request.method == "POST" and form.is_valid():
        try:
            services.buyer_request_update(actor=request.user, request_id=existing.pk, data=form.to_input())
        except DomainError as error:
            _refuse(request, error)
            for field, msgs in error.fields.items():
                form.add_error(field if field in form.fields else None, msgs)
        else:
            messages.success(request, _("Request updated; it is matched again."))
            return redirect("matching:request", existing.pk)
    return render(request, "matching/request_form.html", {"form": form, "title": _("Edit request"),
                  "existing": existing}, status=400 if form.errors else 200)  # fmt: skip


@login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        buyer_request = selectors.buyer_request_get(viewer=request.user, request_id=pk)
    except NotFound:
        raise Http404(_("No such request.")) from None
    proposals = list(selectors.proposal_list(viewer=request.user, request_id=pk))
    ids = set(_organisation_ids_with(request.user, Capability.VIEW))
    return render(
        request,
        "matching/request_detail.html",
        {
            "req": buyer_request,
            "tonnes": _tonnes(buyer_request.quantity_grams),
            "filled": _tonnes(buyer_request.filled_grams),
            "price": _money(buyer_request.max_price_per_tonne_minor, buyer_request.currency),
            "proposals": [
                {
                    "proposal": p,
                    **describe(p, selectors.visible_parts(viewer=request.user, proposal=p, ids=ids), for_buyer=True),
                }
                for p in proposals
            ],
        },
    )


@login_required
@require_POST
def request_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        selectors.buyer_request_get(viewer=request.user, request_id=pk)
        services.buyer_request_withdraw(actor=request.user, request_id=pk, reason=request.POST.get("reason", ""))
        messages.success(request, _("Request withdrawn."))
    except DomainError as error:
        _refuse(request, error)
    return redirect("matching:request", pk)


@login_required
def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        proposal = selectors.proposal_get(viewer=request.user, proposal_id=pk)
    except NotFound:
        raise Http404(_("No such proposal.")) from None
    ids = set(_organisation_ids_with(request.user, Capability.VIEW))
    for_buyer = proposal.buyer_id in ids
    parts = selectors.visible_parts(viewer=request.user, proposal=proposal, ids=ids)
    consignment = getattr(proposal, "consignment", None) if proposal.status == Proposal.Status.ACCEPTED else None
    return render(
        request,
        "matching/proposal_detail.html",
        {
            "proposal": proposal,
            "for_buyer": for_buyer,
            "consignment": consignment,
            "orders": _consignment_orders(request.user, consignment),
            **describe(proposal, parts, for_buyer=for_buyer),
        },
    )


def _consignment_orders(viewer, consignment) -> list:
    """The consignment's orders the viewer may see: the buyer all of them, a cooperative its own."""
    if consignment is None:
        return []
    return list(order_list(viewer=viewer).filter(purchase_id=consignment.purchase_id).select_related("seller"))


@login_required
@require_POST
def proposal_answer(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """The buyer's accept / decline, or a cooperative's accept / decline / counter of one part (`part`)."""
    try:
        selectors.proposal_get(viewer=request.user, proposal_id=pk)
        part_id = request.POST.get("part")
        if action == "accept" and part_id:
            services.proposal_part_accept(actor=request.user, part_id=_int(part_id))
        elif action == "decline" and part_id:
            services.proposal_part_decline(
                actor=request.user, part_id=_int(part_id), reason=request.POST.get("reason", "")
            )
        elif action == "counter" and part_id:
            proposal = selectors.proposal_get(viewer=request.user, proposal_id=pk)
            grams, price = _counter_figures(request, proposal.request.currency)
            services.proposal_part_counter(
                actor=request.user, part_id=_int(part_id), grams=grams, price_per_tonne_minor=price
            )
        elif action == "accept":
            services.proposal_accept(actor=request.user, proposal_id=pk)
        elif action == "decline":
            services.proposal_decline(actor=request.user, proposal_id=pk, reason=request.POST.get("reason", ""))
        else:
            raise Http404(_("No such action."))
        messages.success(request, _("Your answer is recorded."))
    except DomainError as error:
        _refuse(request, error)
        return _back(request, pk, status=400)
    return redirect("matching:proposal", pk)


def _counter_figures(request: HttpRequest, currency: str) -> tuple[int | None, int | None]:
    """Tonnes and a price per tonne in major units from the counter form; either may be left empty."""
    tonnes = request.POST.get("tonnes", "").strip().replace(",", ".")
    price = request.POST.get("price", "").strip().replace(",", ".").replace(" ", "")
    grams = minor = None
    if tonnes:
        try:
            value = Decimal(tonnes)
            if not value.is_finite() or not 0 < value <= 100_000:
                raise InvalidOperation
            grams = int((value * TONNE).to_integral_value())
        except InvalidOperation:
            raise DomainError(_("Give the quantity in tonnes, e.g. 6.5.")) from None
    if price:
        try:
            value = Decimal(price)
            if not value.is_finite() or not 0 < value <= 10**12:
                raise InvalidOperation
            minor = Money.from_decimal(value, currency).amount
        except (InvalidOperation, ValueError):
            raise DomainError(_("Give the price per tonne as a number, e.g. 1500000.")) from None
    return grams, minor


def _back(request: HttpRequest, pk: int, *, status: int) -> HttpResponse:
    response = proposal_detail(request, pk)
    response.status_code = status
    return response


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound("No such part.") from None
