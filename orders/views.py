"""Order pages: the buyer's basket and orders, the seller's inbox, the operator's dispute desk.

Each view parses the request, calls one selector or service, and renders (house rules 1 and 2). A refusal by a
service shows its message with the service's status code (400 or 409) and changes nothing; orders of other
organisations are 404.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from catalogue.selectors import grade_list, listing_get, listing_search
from marketplace.core.errors import DomainError, NotFound, PermissionDenied
from marketplace.organisations.middleware import current_membership
from marketplace.organisations.selectors import is_operator
from orders import selectors, services
from orders.documents import KINDS
from orders.forms import BasketAddForm, grade_id, parse_amount, parse_quantity
from orders.models import Order
from orders.services.pricing import amount_for

BASKET = "orders_basket"
PAGE_SIZE = 25
LIST_STATUSES = [("", gettext_lazy("All")), *Order.Status.choices]


def _http_error(error: DomainError) -> Exception:
    if isinstance(error, NotFound):
        return Http404(error.message)
    if isinstance(error, PermissionDenied):
        return HttpForbidden(error.message)
    return error


def _order(request: HttpRequest, number: str) -> Order:
    try:
        return selectors.order_get(viewer=request.user, number=number)
    except NotFound:
        raise Http404(_("No such order.")) from None


# --- Lists ------------------------------------------------------------------------------------


def _list(request: HttpRequest, *, side: str, title: str, template: str = "orders/list.html") -> HttpResponse:
    membership = current_membership(request)
    status = request.GET.get("status", "")
    if status not in Order.Status.values:
        status = ""
    organisation_id = membership.organisation_id if membership is not None else None
    if side and organisation_id is None:
        raise Http404(_("You are not a member of any organisation."))
    orders = selectors.order_list(
        viewer=request.user, side=side, status=status, organisation_id=organisation_id if side else None
    )
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "side": side, "status": status, "statuses": LIST_STATUSES, "title": title}
    return render(request, template, context)


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    side = request.GET.get("side", "buying")
    if side not in selectors.SIDES:
        side = "buying"
    title = _("Orders we buy") if side == "buying" else _("Orders we sell")
    return _list(request, side=side, title=title)


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    return _list(request, side="selling", title=_("Order inbox"))


@login_required
def dispute_desk(request: HttpRequest) -> HttpResponse:
    if not is_operator(request.user):
        raise HttpForbidden(_("Only the platform operator may see the dispute desk."))
    show_all = request.GET.get("all") == "1"
    orders = selectors.dispute_list(viewer=request.user, open_only=not show_all)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "orders/disputes.html", {"page": page, "show_all": show_all})


# --- One order --------------------------------------------------------------------------------


def _detail(request: HttpRequest, order: Order, *, error: DomainError | None = None, status: int = 200):
    moves = selectors.order_moves(viewer=request.user, order=order)
    lines = list(order.lines.all())
    commodity_ids = {line.grade.commodity_id for line in lines if line.grade is not None}
    grades = list(grade_list(viewer=request.user).filter(commodity_id__in=commodity_ids)) if commodity_ids else []
    context: dict[str, Any] = {
        "order": order,
        "lines": lines,
        "moves": moves,
        "sides": selectors.order_sides(viewer=request.user, order=order),
        "grades": grades,
        "documents": [(kind, label) for kind, label in KINDS.items() if kind in _documents(order)],
        "error": error,
        "posted": request.POST if error is not None else {},
        "today": timezone.localdate().isoformat(),
        "dispute": getattr(order, "dispute", None),
    }
    return render(request, "orders/detail.html", context, status=status)


def _documents(order: Order) -> list[str]:
    from orders.documents import available

    return [kind for kind in KINDS if available(order, kind)]


@login_required
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    return _detail(request, _order(request, number))


def _move_details(request: HttpRequest, order: Order, to_status: str) -> dict:
    post = request.POST
    lines = list(order.lines.all())
    if to_status == Order.Status.ACCEPTED:
        return {}
    if to_status == Order.Status.DISPATCHED:
        return {
            "dispatched_on": post.get("dispatched_on") or None,
            "document_number": post.get("document_number", ""),
            "vehicle": post.get("vehicle", ""),
            "driver": post.get("driver", ""),
            "quantities": {
                line.pk: parse_quantity(post.get(f"line-{line.pk}", ""), line.quantity_unit, f"quantities.{line.pk}")
                for line in lines
                if post.get(f"line-{line.pk}", "") != ""
            },
        }
    if to_status == Order.Status.DELIVERED:
        received = {}
        for line in lines:
            value = post.get(f"line-{line.pk}", "")
            entry: dict[str, Any] = {}
            if value != "":
                entry["quantity"] = parse_quantity(value, line.quantity_unit, f"lines.{line.pk}.quantity")
            if post.get(f"grade-{line.pk}"):
                entry["grade"] = grade_id(post[f"grade-{line.pk}"])
            if entry:
                received[line.pk] = entry
        return {
            "received_on": post.get("received_on") or None,
            "inspection_notes": post.get("inspection_notes", ""),
            "lines": received,
        }
    if to_status == Order.Status.DISPUTED:
        files = request.FILES.getlist("evidence")
        return {"evidence": files} if files else {}
    if to_status == Order.Status.RESOLVED:
        details: dict[str, Any] = {"decision": post.get("decision", "")}
        refund = parse_amount(post.get("refund", ""), order.currency, "refund_amount")
        if refund is not None:
            details["refund_amount"] = refund
        return details
    return {}


@login_required
@require_POST
def order_move(request: HttpRequest, number: str, to_status: str) -> HttpResponse:
    order = _order(request, number)
    if to_status not in Order.Status.values:
        raise Http404(_("No such move."))
    try:
        if to_status == Order.Status.PAID:
            services.order_mark_paid(
                actor=request.user, order_id=order.pk, payment_reference=request.POST.get("payment_reference", "")
            )
        else:
            services.order_transition(
                actor=request.user,
                order_id=order.pk,
                to_status=to_status,
                reason=request.POST.get("reason", ""),
                **_move_details(request, order, to_status),
            )
    except (NotFound, PermissionDenied) as error:
        raise _http_error(error) from None
    except DomainError as error:
        return _detail(request, _order(request, number), error=error, status=error.status_code)
    messages.success(
        request,
        _("Order %(number)s is now %(status)s.")
        % {"number": order.number, "status": Order.Status(to_status).label.lower()},
    )
    return redirect("orders:detail", number=order.number)


@login_required
def order_document(request: HttpRequest, number: str, kind: str) -> HttpResponse:
    try:
        name, pdf = selectors.order_document(viewer=request.user, number=number, kind=kind)
    except NotFound as error:
        raise Http404(error.message) from None
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@login_required
def dispute_evidence(request: HttpRequest, number: str, evidence_id: int) -> FileResponse:
    try:
        evidence = selectors.dispute_evidence_get(viewer=request.user, number=number, evidence_id=evidence_id)
    except NotFound as error:
        raise Http404(error.message) from None
    return FileResponse(evidence.file.open("rb"), content_type=evidence.content_type, filename=evidence.original_name)


@login_required
def purchase_detail(request: HttpRequest, reference: str) -> HttpResponse:
    try:
        purchase = selectors.purchase_get(viewer=request.user, reference=reference)
    except NotFound:
        raise Http404(_("No such purchase.")) from None
    return render(request, "orders/purchase.html", {"purchase": purchase})


# --- Basket -----------------------------------------------------------------------------------


def _basket(request: HttpRequest) -> list[dict]:
    return list(request.session.get(BASKET, []))


def _basket_lines(request: HttpRequest) -> tuple[list[dict], list[dict]]:
    """The basket's lines with their listings, and the lines whose listing is no longer on sale."""
    shown, gone = [], []
    for entry in _basket(request):
        try:
            listing = listing_get(viewer=request.user, listing_id=entry["listing"])
        except NotFound:
            gone.append(entry)
            continue
        shown.append(
            {
                "listing": listing,
                "grams": entry["grams"],
                "total": amount_for(entry["grams"], listing.price_amount, listing.price_unit),
            }
        )
    return shown, gone


def _render_basket(request: HttpRequest, *, form=None, error: DomainError | None = None, status: int = 200):
    membership = current_membership(request)
    lines, gone = _basket_lines(request)
    if gone:
        request.session[BASKET] = [e for e in _basket(request) if e not in gone]
        messages.warning(request, _("A listing in your basket is no longer on sale; it was removed."))
    in_basket = {line["listing"].pk for line in lines}
    listings = listing_search(viewer=request.user, ordering="newest")
    if membership is not None:
        listings = listings.exclude(organisation_id=membership.organisation_id)
    context = {
        "lines": lines,
        "listings": [listing for listing in listings[:30] if listing.pk not in in_basket],
        "form": form or BasketAddForm(),
        "error": error,
        "organisation": membership.organisation if membership is not None else None,
        "currencies": sorted({line["listing"].currency for line in lines}),
    }
    return render(request, "orders/basket.html", context, status=status)


@login_required
def basket(request: HttpRequest) -> HttpResponse:
    return _render_basket(request)


@login_required
@require_POST
def basket_add(request: HttpRequest) -> HttpResponse:
    form = BasketAddForm(request.POST)
    if not form.is_valid():
        return _render_basket(request, form=form, status=400)
    listing_id = form.cleaned_data["listing"]
    try:
        listing = listing_get(viewer=request.user, listing_id=listing_id)
    except NotFound:
        raise Http404(_("No such listing.")) from None
    entries = [e for e in _basket(request) if e["listing"] != listing.pk]
    entries.append({"listing": listing.pk, "grams": form.grams()})
    request.session[BASKET] = entries
    messages.success(request, _("%(title)s is in your basket.") % {"title": listing.title})
    return redirect("orders:basket")


@login_required
@require_POST
def basket_remove(request: HttpRequest) -> HttpResponse:
    listing_id = request.POST.get("listing", "")
    request.session[BASKET] = [e for e in _basket(request) if str(e["listing"]) != listing_id]
    return redirect("orders:basket")


@login_required
@require_POST
def basket_place(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        raise Http404(_("You are not a member of any organisation."))
    lines = [services.LineInput(quantity=e["grams"], listing_id=e["listing"]) for e in _basket(request)]
    try:
        purchase = services.purchase_place(
            actor=request.user,
            buyer_id=membership.organisation_id,
            lines=lines,
            note=request.POST.get("note", ""),
        )
    except (NotFound, PermissionDenied) as error:
        raise _http_error(error) from None
    except DomainError as error:
        return _render_basket(request, error=error, status=error.status_code)
    request.session[BASKET] = []
    messages.success(
        request,
        _("Purchase %(reference)s is placed: %(count)s order(s) sent to the sellers.")
        % {"reference": purchase.reference, "count": purchase.orders.count()},
    )
    return redirect("orders:purchase", reference=purchase.reference)
