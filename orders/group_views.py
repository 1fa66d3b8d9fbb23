"""Pages of group input orders: a cooperative's ordering windows, the clerk's request form (built for a phone,
no script needed) and the plan. Parse, call one selector or service, render. Another organisation's window
is 404."""

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
from orders import group_selectors as selectors
from orders.group_forms import RequestForm, WindowForm, add_domain_error, shown
from orders.group_models import OrderingWindow
from orders.services import group_windows as services

W = OrderingWindow.Status


def _http_error(error: DomainError) -> Exception:
    if isinstance(error, NotFound):
        return Http404(error.message)
    if isinstance(error, PermissionDenied):
        return HttpForbidden(error.message)
    return error


def _read(call, /, **kwargs):
    try:
        return call(**kwargs)
    except DomainError as error:
        raise _http_error(error) from None


def _write(form, call, /, **kwargs):
    try:
        return call(**kwargs)
    except (NotFound, PermissionDenied) as error:
        raise _http_error(error) from None
    except DomainError as error:
        add_domain_error(form, error)
        form.http_status = error.status_code
        return None


def _coop_membership(request: HttpRequest):
    membership = current_membership(request)
    if membership is None or membership.organisation.kind != Organisation.Kind.COOPERATIVE:
        raise Http404(_("This page is for cooperatives."))
    return membership


def _can(request: HttpRequest, window: OrderingWindow, capability: Capability) -> bool:
    membership = current_membership(request)
    return bool(membership and membership.organisation_id == window.organisation_id
                and role_can(membership.role, capability))  # fmt: skip


@login_required
def window_list(request: HttpRequest) -> HttpResponse:
    membership = _coop_membership(request)
    windows = _read(selectors.window_list, viewer=request.user, organisation_id=membership.organisation_id)
    can_decide = role_can(membership.role, Capability.DECIDE)
    form = None
    status = 200
    if can_decide:
        products = selectors.product_choices(viewer=request.user)
        form = WindowForm(request.POST or None, products=products)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            window = _write(form, services.window_create, actor=request.user,
                            organisation_id=membership.organisation_id, name=data["name"], opens_at=data["opens_at"],
                            closes_at=data["closes_at"], box_fill_at=data["box_fill_at"],
                            product_ids=[int(p) for p in data["products"]], allocation_rule=data["allocation_rule"],
                            on_credit=data["on_credit"], moq_action=data["moq_action"],
                            extend_days=data["extend_days"])  # fmt: skip
            if window is not None:
                messages.success(request, _("Window %(name)s created as a draft; open it when ready.")
                                 % {"name": window.name})  # fmt: skip
                return redirect("orders:group-window", window_id=window.pk)
        if request.method == "POST":
            status = getattr(form, "http_status", 400)
    elif request.method == "POST":
        raise HttpForbidden(_("Only managers create ordering windows."))
    return render(request, "orders/group_window_list.html",
                  {"windows": windows, "form": form}, status=status)  # fmt: skip


def _lines(result) -> list[dict]:
    rows = []
    for line in result.lines:
        product = line.product
        rows.append({"line": line, "quantity": shown(line.quantity, product),
                     "tolerance": shown(line.tolerance, product), "pack": shown(line.unit, product),
                     "shortfall": shown(line.rounded.shortfall, product),
                     "offers": result.offers_by_product.get(product.pk, [])})  # fmt: skip
    return rows


@login_required
def window_detail(request: HttpRequest, window_id: int) -> HttpResponse:
    window = _read(selectors.window_get, viewer=request.user, window_id=window_id)
    result = selectors.window_plan(viewer=request.user, window_id=window.pk)
    requests = selectors.request_list(viewer=request.user, window_id=window.pk)
    page = Paginator([r for r in requests if r.quantity or r.tolerance], 50).get_page(request.GET.get("page"))
    for member_request in page.object_list:
        member_request.shown_quantity = shown(member_request.quantity, member_request.product)
        member_request.shown_tolerance = shown(member_request.tolerance, member_request.product)
    context = {
        "window": window, "lines": _lines(result), "page": page,
        "moves": services.WINDOW_TABLE.next_of(window.status) if _can(request, window, Capability.DECIDE) else [],
        "can_record": _can(request, window, Capability.RECORD) and window.accepts_requests(),
        "group_orders": selectors.group_order_list(viewer=request.user, window_id=window.pk),
    }  # fmt: skip
    return render(request, "orders/group_window_detail.html", context)


@login_required
@require_POST
def window_move(request: HttpRequest, window_id: int, to_status: str) -> HttpResponse:
    window = _read(selectors.window_get, viewer=request.user, window_id=window_id)
    try:
        services.window_transition(actor=request.user, window_id=window.pk, to_status=to_status,
                                   reason=request.POST.get("reason", ""))  # fmt: skip
        messages.success(request, _("Window %(name)s is now %(status)s.")
                         % {"name": window.name, "status": W(to_status).label.lower()})  # fmt: skip
    except (NotFound, PermissionDenied) as error:
        raise _http_error(error) from None
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("orders:group-window", window_id=window.pk)


@login_required
def window_request(request: HttpRequest, window_id: int) -> HttpResponse:
    """The clerk's form: member number, input, add or remove quantity and tolerance. One POST, no script."""
    window = _read(selectors.window_get, viewer=request.user, window_id=window_id)
    if not _can(request, window, Capability.RECORD):
        raise Http404(_("No such ordering window."))
    products = selectors.window_products(viewer=request.user, window_id=window.pk)
    first = request.GET.get("product") or (products[0].pk if products else None)
    form = RequestForm(request.POST or None, products=products, initial={"product": first})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            member_request = _write(form, services.request_change, actor=request.user, window_id=window.pk,
                                    member_number=data["member_number"], product_id=data["product"],
                                    quantity_delta=data.get("quantity_delta", 0),
                                    tolerance_delta=data.get("tolerance_delta", 0))  # fmt: skip
            if member_request is not None:
                product = form.products[data["product"]]
                messages.success(request, _("Recorded: %(member)s now asks for %(quantity)s of %(product)s "
                                            "(tolerance %(tolerance)s).")
                                 % {"member": member_request.farmer.name,
                                    "quantity": shown(member_request.quantity, product), "product": product.name,
                                    "tolerance": shown(member_request.tolerance, product)})  # fmt: skip
                return redirect(f"{request.path}?product={data['product']}")
            status = getattr(form, "http_status", 400)
    return render(request, "orders/group_request.html", {"window": window, "form": form}, status=status)


@login_required
def window_plan(request: HttpRequest, window_id: int) -> HttpResponse:
    window = _read(selectors.window_get, viewer=request.user, window_id=window_id)
    if request.method == "POST":
        if not _can(request, window, Capability.DECIDE):
            raise HttpForbidden(_("Only managers change the plan."))
        offer = request.POST.get("offer") or None
        try:
            services.window_offer_choose(actor=request.user, window_id=window.pk,
                                         product_id=request.POST.get("product"),
                                         offer_id=int(offer) if offer and offer.isdigit() else None)  # fmt: skip
            messages.success(request, _("The line's supplier offer was changed."))
        except (NotFound, PermissionDenied) as error:
            raise _http_error(error) from None
        except DomainError as error:
            messages.error(request, error.message)
        return redirect("orders:group-window-plan", window_id=window.pk)
    result = selectors.window_plan(viewer=request.user, window_id=window.pk)
    context = {"window": window, "lines": _lines(result), "result": result,
               "can_decide": _can(request, window, Capability.DECIDE)}  # fmt: skip
    return render(request, "orders/group_window_plan.html", context)


# --- Group orders ----------------------------------------------------------------------------------

from orders.services import group_orders as order_services  # noqa: E402


@login_required
@require_POST
def window_place_orders(request: HttpRequest, window_id: int) -> HttpResponse:
    window = _read(selectors.window_get, viewer=request.user, window_id=window_id)
    try:
        orders = order_services.window_place_orders(actor=request.user, window_id=window.pk)
    except (NotFound, PermissionDenied) as error:
        raise _http_error(error) from None
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("orders:group-window", window_id=window.pk)
    if orders:
        messages.success(request, _("%(count)s group orders prepared; submit each to its supplier.")
                         % {"count": len(orders)})  # fmt: skip
    else:
        messages.warning(request, _("A supplier minimum is not met: the window was extended or cancelled as set, "
                                    "and the members were told by SMS."))  # fmt: skip
    return redirect("orders:group-window", window_id=window.pk)


@login_required
def group_order_inbox(request: HttpRequest) -> HttpResponse:
    """A supplier's group orders (or a cooperative's), newest first."""
    membership = current_membership(request)
    if membership is None:
        raise Http404(_("You are not a member of any organisation."))
    rows = selectors.group_order_list(viewer=request.user, organisation_id=membership.organisation_id)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "orders/group_order_list.html", {"page": page, "organisation": membership.organisation})


def _received_lines(request: HttpRequest, group_order) -> dict:
    return {str(line.pk): request.POST.get(f"received-{line.pk}", "") for line in group_order.lines.all()}


def _counter_lines(request: HttpRequest, group_order) -> dict:
    lines = {}
    for line in group_order.lines.all():
        entry = {}
        for name in ("packs", "unit_price"):
            value = request.POST.get(f"{name}-{line.pk}", "").strip().replace(",", "")
            if value and value != str(line.packs if name == "packs" else line.unit_price_amount):
                entry[name] = value
        if entry:
            lines[str(line.pk)] = entry
    return lines


@login_required
def group_order_detail(request: HttpRequest, group_order_id: int) -> HttpResponse:
    group_order = _read(selectors.group_order_get, viewer=request.user, group_order_id=group_order_id)
    status = 200
    error = None
    if request.method == "POST":
        to_status = request.POST.get("to", "")
        details = {}
        if to_status == "countered" or (to_status == "submitted" and group_order.status == "countered"):
            details["lines"] = _counter_lines(request, group_order)
        if to_status == "dispatched":
            details.update({k: request.POST.get(k, "") for k in ("document_number", "vehicle", "driver")})
        if to_status == "received":
            details["lines"] = _received_lines(request, group_order)
        try:
            order_services.group_order_transition(actor=request.user, group_order_id=group_order.pk,
                                                  to_status=to_status, reason=request.POST.get("reason", ""),
                                                  **details)  # fmt: skip
            messages.success(request, _("Group order %(ref)s is now %(status)s.")
                             % {"ref": group_order.reference, "status": to_status})  # fmt: skip
            return redirect("orders:group-order", group_order_id=group_order.pk)
        except (NotFound, PermissionDenied) as refusal:
            raise _http_error(refusal) from None
        except DomainError as refusal:
            error, status = refusal, refusal.status_code
            group_order = _read(selectors.group_order_get, viewer=request.user, group_order_id=group_order_id)
    moves = selectors.group_order_moves(viewer=request.user, group_order=group_order)
    sides = selectors.group_order_sides(viewer=request.user, group_order=group_order)
    lines = list(group_order.lines.all())
    allocations = []
    if "cooperative" in sides and group_order.status in ("distributed", "completed"):
        allocations = selectors.allocation_list(viewer=request.user, group_order_id=group_order.pk)
        for allocation in allocations:
            allocation.shown_quantity = shown(allocation.quantity, allocation.line.product)
    context = {"group_order": group_order, "lines": lines, "moves": moves, "error": error,
               "allocations": allocations, "is_buyer": "cooperative" in sides,
               "is_supplier": "supplier" in sides}  # fmt: skip
    return render(request, "orders/group_order_detail.html", context, status=status)


@login_required
@require_POST
def allocation_hand_over(request: HttpRequest, allocation_id: int) -> HttpResponse:
    try:
        allocation = order_services.allocation_hand_over(actor=request.user, allocation_id=allocation_id)
    except (NotFound, PermissionDenied) as error:
        raise _http_error(error) from None
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("orders:group-orders")
    messages.success(request, _("Receipt %(receipt)s: %(name)s collected the inputs.")
                     % {"receipt": allocation.receipt_number, "name": allocation.farmer.name})  # fmt: skip
    return redirect("orders:group-order", group_order_id=allocation.group_order_id)
