"""The catalogue's pages: parse the request, call one selector or service, render (house rules 1 and 2).

Every page works without JavaScript. A cooperative's pages act for the organisation the user currently acts
for; another organisation's records answer 404. The public catalogue and offer pages need no account.
"""

from collections.abc import Callable
from typing import Any

import segno
from django import forms as django_forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from rest_framework.throttling import SimpleRateThrottle

from catalogue import forms, selectors, services
from catalogue.models import Lot
from catalogue.pagination import SEARCH_PAGE_SIZE, CappedPaginator
from catalogue.parsing import listing_search_arguments, offer_search_arguments, parse_money
from catalogue.services import RegionInput, TierInput
from catalogue.services.listings import LISTING_TRANSITIONS
from catalogue.services.lots import LOT_TRANSITIONS
from catalogue.services.offers import OFFER_TRANSITIONS
from marketplace.core.errors import DomainError, NotFound, PermissionDenied
from marketplace.core.money import Money
from marketplace.organisations.middleware import current_membership
from marketplace.organisations.models import Organisation
from marketplace.organisations.roles import Capability, role_can
from marketplace.organisations.selectors import organisation_for

PAGE_SIZE = 25


def _http_error(error: DomainError) -> Exception:
    if isinstance(error, NotFound):
        return Http404(error.message)
    if isinstance(error, PermissionDenied):
        return HttpForbidden(error.message)
    return error


def _read(call: Callable[..., Any], /, **kwargs) -> Any:
    """Call a selector; a refusal becomes the 404 or 403 page."""
    try:
        return call(**kwargs)
    except DomainError as error:
        raise _http_error(error) from None


def _write(form, call: Callable[..., Any], /, **kwargs) -> Any | None:
    """Call a service; a 400/409 refusal goes onto the form (None is returned), 403/404 become pages."""
    try:
        return call(**kwargs)
    except (NotFound, PermissionDenied) as error:
        raise _http_error(error) from None
    except DomainError as error:
        forms.add_domain_error(form, error)
        return None


def _act(request: HttpRequest, call: Callable[..., Any], /, **kwargs) -> Any | None:
    """Call a service from a button: success or refusal becomes a message on the next page."""
    try:
        return call(**kwargs)
    except (NotFound, PermissionDenied) as error:
        raise _http_error(error) from None
    except DomainError as error:
        messages.error(request, error.message)
        return None


def _acting(request: HttpRequest, capability: Capability, kind: str) -> Organisation:
    """The organisation the user acts for, if its kind fits the page and the role allows `capability`."""
    membership = current_membership(request)
    if membership is None or membership.organisation.kind != kind:
        raise Http404(_("This page is for another kind of organisation."))
    return _read(organisation_for, viewer=request.user, organisation_id=membership.organisation_id,
                 capability=capability)  # fmt: skip


def _can(request: HttpRequest, organisation_id: int, capability: Capability) -> bool:
    membership = current_membership(request)
    return bool(membership and membership.organisation_id == organisation_id and role_can(membership.role, capability))


def _status(request: HttpRequest, *forms_: Any) -> int:
    return 400 if request.method == "POST" and any(f is not None and f.errors for f in forms_) else 200


def _page(request: HttpRequest, queryset, size: int = PAGE_SIZE, paginator=Paginator):
    return paginator(queryset, size).get_page(request.GET.get("page"))


COOP = Organisation.Kind.COOPERATIVE
SUPPLIER = Organisation.Kind.INPUT_SUPPLIER


# --- Public catalogue ---------------------------------------------------------------------


def listing_search(request: HttpRequest) -> HttpResponse:
    commodities = list(selectors.commodity_list(viewer=request.user))
    form = forms.ListingFilterForm(request.GET or None, commodities=commodities)
    page = None
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        status = 200
        params = form.search_arguments() if form.is_bound else {}
        try:
            listings = selectors.listing_search(viewer=request.user, **listing_search_arguments(params))
            page = _page(request, listings, SEARCH_PAGE_SIZE, CappedPaginator)
        except DomainError as error:
            forms.add_domain_error(form, error)
            status = 400
    context = {"form": form, "page": page, "filtered": form.is_bound}
    return render(request, "catalogue/listing_search.html", context, status=status)


def listing_detail(request: HttpRequest, listing_id: int) -> HttpResponse:
    listing = _read(selectors.listing_get, viewer=request.user, listing_id=listing_id)
    owner = request.user.is_authenticated and _can(request, listing.organisation_id, Capability.VIEW)
    return render(request, "catalogue/listing_detail.html", {"listing": listing, "owner": owner})


def offer_search(request: HttpRequest) -> HttpResponse:
    form = forms.OfferFilterForm(request.GET or None)
    page = None
    status = 200
    if not form.is_bound or form.is_valid():
        params = {k: v for k, v in (form.cleaned_data if form.is_bound else {}).items() if v not in (None, "")}
        offers = selectors.offer_search(viewer=request.user, **offer_search_arguments(params))
        page = _page(request, offers, SEARCH_PAGE_SIZE, CappedPaginator)
    else:
        status = 400
    return render(request, "catalogue/offer_search.html", {"form": form, "page": page}, status=status)


def offer_detail(request: HttpRequest, offer_id: int) -> HttpResponse:
    offer = _read(selectors.offer_get, viewer=request.user, offer_id=offer_id)
    form = forms.QuoteForm(request.GET or None)
    quote = None
    if form.is_bound and form.is_valid():
        try:
            quote = selectors.offer_quote(viewer=request.user, offer_id=offer.pk, packs=form.cleaned_data["packs"])
        except DomainError as error:
            forms.add_domain_error(form, error)
    tiers = list(offer.tiers.all())
    rows = [
        {"tier": tier, "upper": tiers[i + 1].min_packs - 1 if i + 1 < len(tiers) else offer.max_order_packs}
        for i, tier in enumerate(tiers)
    ]
    context = {
        "offer": offer,
        "rows": rows,
        "form": form,
        "quote": quote,
        "owner": request.user.is_authenticated and _can(request, offer.organisation_id, Capability.VIEW),
    }
    return render(request, "catalogue/offer_detail.html", context, status=400 if form.errors else 200)  # fmt: skip


# --- Member deliveries --------------------------------------------------------------------


@login_required
def delivery_new(request: HttpRequest) -> HttpResponse:
    """The clerk's entry form: step 1 finds the member, step 2 records weights, grade and moisture."""
    organisation = _acting(request, Capability.RECORD, COOP)
    points = list(selectors.location_list(viewer=request.user, organisation_id=organisation.pk, purpose="collection",
                                          active_only=True))  # fmt: skip
    commodities = list(selectors.commodity_list(viewer=request.user))
    data = request.POST if request.method == "POST" else request.GET
    start = forms.DeliveryStartForm(
        data if "member_number" in data else None, points=points, commodities=commodities,
        initial={"collection_point": request.session.get("catalogue_collection_point",
                                                         points[0].pk if len(points) == 1 else None),
                 "commodity": _usual_commodity(request, organisation, commodities)},
    )  # fmt: skip
    if not start.is_bound or not start.is_valid():
        context = {"start": start, "organisation": organisation, "points": points}
        return render(request, "catalogue/delivery_new.html", context, status=400 if start.errors else 200)

    try:
        farmer = selectors.farmer_by_member_number(
            viewer=request.user, organisation_id=organisation.pk, member_number=start.cleaned_data["member_number"]
        )
    except NotFound as error:
        start.add_error("member_number", error.message)
        context = {"start": start, "organisation": organisation, "points": points}
        return render(request, "catalogue/delivery_new.html", context, status=400)
    request.session["catalogue_collection_point"] = start.cleaned_data["collection_point"]
    request.session["catalogue_commodity"] = start.cleaned_data["commodity"]
    commodity = next(c for c in commodities if c.pk == start.cleaned_data["commodity"])
    form_kwargs = {
        "plots": selectors.farmer_plots(viewer=request.user, farmer_id=farmer.pk),
        "grades": list(commodity.grades.all()),
        "packaging": selectors.packaging_list(viewer=request.user, mass_only=True),
    }
    if request.method == "POST":
        form = forms.DeliveryForm(request.POST, **form_kwargs)
        if form.is_valid():
            delivery = _write(form, services.delivery_record, actor=request.user, organisation_id=organisation.pk,
                              **form.service_fields())  # fmt: skip
            if delivery is not None:
                messages.success(request, _("Receipt %(receipt)s recorded for %(name)s.")
                                 % {"receipt": delivery.receipt_number, "name": farmer.name})  # fmt: skip
                return redirect("catalogue-delivery-detail", delivery_id=delivery.pk)
    else:
        plots = list(form_kwargs["plots"])
        form = forms.DeliveryForm(
            initial={"farmer": farmer.pk, "commodity": commodity.pk, "plot": plots[0].pk if len(plots) == 1 else None,
                     "collection_point": start.cleaned_data["collection_point"]},
            **form_kwargs,
        )  # fmt: skip
    context = {"start": start, "form": form, "farmer": farmer, "commodity": commodity, "organisation": organisation}
    return render(request, "catalogue/delivery_new.html", context, status=_status(request, form))


def _only(items: list) -> int | None:
    return items[0].pk if len(items) == 1 else None


def _usual_commodity(request: HttpRequest, organisation: Organisation, commodities: list) -> int | None:
    """The commodity the clerk used last, else the one of the cooperative's latest delivery, else the only one."""
    known = {c.pk for c in commodities}
    last = request.session.get("catalogue_commodity")
    if last in known:
        return last
    latest = selectors.delivery_list(viewer=request.user, organisation_id=organisation.pk).first()
    if latest is not None and latest.commodity_id in known:
        return latest.commodity_id
    return _only(commodities)


@login_required
def collection_point_new(request: HttpRequest) -> HttpResponse:
    """A clerk adds a collection point from the delivery form; back to the form with it chosen."""
    organisation = _acting(request, Capability.RECORD, COOP)
    form = forms.CollectionPointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        point = _write(form, services.collection_point_create, actor=request.user, organisation_id=organisation.pk,
                       **form.cleaned_data)  # fmt: skip
        if point is not None:
            request.session["catalogue_collection_point"] = point.pk
            messages.success(request, _("Collection point %(name)s added.") % {"name": point.name})
            return redirect("catalogue-delivery-new")
    context = {"form": form, "organisation": organisation}
    return render(request, "catalogue/collection_point_form.html", context, status=_status(request, form))


@login_required
def delivery_list(request: HttpRequest) -> HttpResponse:
    organisation = _acting(request, Capability.VIEW, COOP)
    form = forms.DeliveryFilterForm(request.GET or None)
    search = form.cleaned_data["q"].strip() if form.is_valid() else ""
    deliveries = selectors.delivery_list(viewer=request.user, organisation_id=organisation.pk, search=search)
    context = {"organisation": organisation, "form": form, "page": _page(request, deliveries)}
    return render(request, "catalogue/delivery_list.html", context)


@login_required
def delivery_detail(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = _read(selectors.delivery_get, viewer=request.user, delivery_id=delivery_id)
    can_reverse = (
        _can(request, delivery.organisation_id, Capability.RECORD)
        and delivery.kind == "delivery"
        and not delivery.is_reversed
        and not delivery.bulked_lot_code
    )
    form = forms.ReverseForm()
    return render(request, "catalogue/delivery_detail.html", {"delivery": delivery, "form": form,
                                                              "can_reverse": can_reverse})  # fmt: skip


@login_required
@require_POST
def delivery_reverse(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = _read(selectors.delivery_get, viewer=request.user, delivery_id=delivery_id)
    form = forms.ReverseForm(request.POST)
    if form.is_valid():
        reversal = _write(form, services.delivery_reverse, actor=request.user, delivery_id=delivery.pk,
                          reason=form.cleaned_data["reason"])  # fmt: skip
        if reversal is not None:
            messages.success(request, _("Receipt %(receipt)s was reversed by %(reversal)s.")
                             % {"receipt": delivery.receipt_number, "reversal": reversal.receipt_number})  # fmt: skip
            return redirect("catalogue-delivery-detail", delivery_id=reversal.pk)
    context = {"delivery": delivery, "form": form, "can_reverse": True}
    return render(request, "catalogue/delivery_detail.html", context, status=400)


# --- Lots ---------------------------------------------------------------------------------


@login_required
def lot_list(request: HttpRequest) -> HttpResponse:
    organisation = _acting(request, Capability.VIEW, COOP)
    status = request.GET.get("status", "")
    status = status if status in Lot.Status.values else ""
    lots = selectors.lot_list(viewer=request.user, organisation_id=organisation.pk, status=status,
                              include_closed=bool(status))  # fmt: skip
    context = {
        "organisation": organisation,
        "page": _page(request, lots),
        "status": status,
        "statuses": Lot.Status.choices,
        "can_decide": _can(request, organisation.pk, Capability.DECIDE),
    }
    return render(request, "catalogue/lot_list.html", context)  # fmt: skip


@login_required
def lot_bulk(request: HttpRequest) -> HttpResponse:
    organisation = _acting(request, Capability.DECIDE, COOP)
    deliveries = list(
        selectors.delivery_list(viewer=request.user, organisation_id=organisation.pk, bulkable=True)[:300]
    )
    warehouses = list(selectors.location_list(viewer=request.user, organisation_id=organisation.pk, purpose="storage",
                                              active_only=True))  # fmt: skip
    form = forms.BulkForm(request.POST or None, deliveries=deliveries, warehouses=warehouses)
    if request.method == "POST" and form.is_valid():
        lot = _write(form, services.lot_bulk, actor=request.user, organisation_id=organisation.pk,
                     delivery_ids=form.cleaned_data["deliveries"],
                     storage_location_id=form.cleaned_data["storage_location"])  # fmt: skip
        if lot is not None:
            messages.success(request, _("Lot %(code)s was made.") % {"code": lot.code})
            return redirect("catalogue-lot-detail", lot_id=lot.pk)
    context = {"organisation": organisation, "form": form, "has_deliveries": bool(deliveries)}
    return render(request, "catalogue/lot_bulk.html", context, status=_status(request, form))


@login_required
def lot_merge(request: HttpRequest) -> HttpResponse:
    organisation = _acting(request, Capability.DECIDE, COOP)
    lots = list(selectors.lot_list(viewer=request.user, organisation_id=organisation.pk, status=Lot.Status.OPEN))
    form = forms.MergeForm(request.POST or None, lots=lots)
    if request.method == "POST" and form.is_valid():
        merged = _write(form, services.lot_merge, actor=request.user, lot_ids=form.cleaned_data["lots"])
        if merged is not None:
            messages.success(request, _("The lots were merged into %(code)s.") % {"code": merged.code})
            return redirect("catalogue-lot-detail", lot_id=merged.pk)
    context = {"organisation": organisation, "form": form, "has_lots": len(lots) >= 2}
    return render(request, "catalogue/lot_merge.html", context, status=_status(request, form))


def _lot_page(request: HttpRequest, lot: Lot, *, split=None, move=None, status: int = 200) -> HttpResponse:
    can_decide = _can(request, lot.organisation_id, Capability.DECIDE)
    warehouses = (
        list(selectors.location_list(viewer=request.user, organisation_id=lot.organisation_id, purpose="storage",
                                     active_only=True))
        if can_decide else []
    )  # fmt: skip
    actions = [
        {"to_status": to_status, "label": forms.LOT_ACTION_LABELS[to_status]}
        for to_status in Lot.Status.values
        if to_status in LOT_TRANSITIONS[lot.status] and to_status not in (Lot.Status.OPEN, Lot.Status.LISTED)
    ]
    shares = _read(selectors.lot_member_shares, viewer=request.user, lot_id=lot.pk)
    eudr = (
        _read(selectors.lot_due_diligence, viewer=request.user, lot_id=lot.pk) if lot.commodity.eudr_relevant else None
    )
    context = {
        "lot": lot,
        "shares": shares,
        "eudr": eudr,
        "trace_url": trace_url(lot),
        "show_producers": selectors.trace_settings_get(viewer=request.user, organisation_id=lot.organisation_id),
        "can_decide": can_decide,
        "split": split or forms.SplitForm(),
        "move": move or forms.MoveForm(warehouses=warehouses),
        "actions": actions if can_decide else [],
    }
    return render(request, "catalogue/lot_detail.html", context, status=status)


@login_required
def lot_detail(request: HttpRequest, lot_id: int) -> HttpResponse:
    lot = _read(selectors.lot_get, viewer=request.user, lot_id=lot_id)
    return _lot_page(request, lot)


@login_required
def lot_due_diligence(request: HttpRequest, lot_id: int) -> HttpResponse:
    """The EUDR due-diligence package as a JSON download (the cooperative's members and the lot's buyers)."""
    try:
        package = selectors.lot_due_diligence(viewer=request.user, lot_id=lot_id)
    except NotFound as error:
        raise Http404(error.message) from None
    except DomainError as error:  # a commodity the EUDR does not cover: there is nothing to download
        raise Http404(error.message) from None
    response = JsonResponse(package.as_json(), json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="{package.filename}"'
    return response


class PublicTraceThrottle(SimpleRateThrottle):
    """Scans of public trace pages per client address (settings.PUBLIC_TRACE_RATE, 60 a minute by default)."""

    scope = "public_trace"

    def get_rate(self) -> str:
        return getattr(settings, "PUBLIC_TRACE_RATE", "60/minute")

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def lot_trace_public(request: HttpRequest, public_id) -> HttpResponse:
    """The public trace page of a lot, reached from the QR code on its bags: no account needed. Throttled per
    address, and served from the cache until the cooperative records a new event."""
    throttle = PublicTraceThrottle()
    if not throttle.allow_request(request, None):
        wait = int(throttle.wait() or 60)
        response = HttpResponse(
            _("Too many requests from your address; try again in %(seconds)d seconds.") % {"seconds": wait},
            status=429,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = str(wait)
        return response
    public = _read(selectors.lot_public_trace_cached, public_id=public_id)
    response = render(request, "catalogue/lot_trace_public.html", {"trace": public})
    response["X-Robots-Tag"] = "noindex"
    return response


def trace_url(lot: Lot) -> str:
    """The address the QR code on the lot's bags opens: the public page, under the deployment's own domain."""
    return settings.SITE_BASE_URL.rstrip("/") + reverse("catalogue-lot-trace", args=[lot.public_id])


def qr_svg(url: str) -> str:
    """The QR code of `url` as inline SVG (error correction M survives a scuffed bag)."""
    return segno.make(url, error="m", micro=False).svg_inline(scale=4, title=url)


@login_required
def lot_label(request: HttpRequest, lot_id: int) -> HttpResponse:
    """A printable bag label: the QR code of the lot's public trace page and the lot code."""
    lot = _read(selectors.lot_get, viewer=request.user, lot_id=lot_id)
    url = trace_url(lot)
    context = {"lot": lot, "url": url, "qr": mark_safe(qr_svg(url))}
    return render(request, "catalogue/lot_label.html", context)


@login_required
@require_POST
def trace_settings(request: HttpRequest) -> HttpResponse:
    """A manager chooses whether the public trace pages name the cooperative's members and show their plots."""
    organisation = _acting(request, Capability.DECIDE, COOP)
    show = request.POST.get("show_producers") == "on"
    changed = _act(request, services.trace_settings_update, actor=request.user, organisation_id=organisation.pk,
                   show_producers=show)  # fmt: skip
    if changed is not None:
        messages.success(
            request,
            _("Public trace pages now name your members and show their plots.")
            if show
            else _("Public trace pages now keep your members anonymous and show plots as regions."),
        )
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/catalogue/lots/") else "catalogue-lots")


@login_required
@require_POST
def lot_split(request: HttpRequest, lot_id: int) -> HttpResponse:
    lot = _read(selectors.lot_get, viewer=request.user, lot_id=lot_id)
    form = forms.SplitForm(request.POST)
    if form.is_valid():
        parts = _write(form, services.lot_split, actor=request.user, lot_id=lot.pk,
                       parts_grams=form.cleaned_data["parts_kg"])  # fmt: skip
        if parts is not None:
            messages.success(request, _("Lot %(code)s was split into %(parts)s.")
                             % {"code": lot.code, "parts": ", ".join(p.code for p in parts)})  # fmt: skip
            return redirect("catalogue-lot-detail", lot_id=parts[0].pk)
    return _lot_page(request, lot, split=form, status=400)


@login_required
@require_POST
def lot_move(request: HttpRequest, lot_id: int) -> HttpResponse:
    lot = _read(selectors.lot_get, viewer=request.user, lot_id=lot_id)
    warehouses = _read(selectors.location_list, viewer=request.user, organisation_id=lot.organisation_id,
                       purpose="storage", active_only=True)  # fmt: skip
    form = forms.MoveForm(request.POST, warehouses=warehouses)
    if form.is_valid():
        moved = _write(form, services.lot_move, actor=request.user, lot_id=lot.pk,
                       storage_location_id=form.cleaned_data["storage_location"])  # fmt: skip
        if moved is not None:
            messages.success(request, _("Lot %(code)s is now at %(place)s.")
                             % {"code": moved.code, "place": moved.storage_location.name})  # fmt: skip
            return redirect("catalogue-lot-detail", lot_id=lot.pk)
    return _lot_page(request, lot, move=form, status=400)


@login_required
@require_POST
def lot_transition(request: HttpRequest, lot_id: int) -> HttpResponse:
    lot = _read(selectors.lot_get, viewer=request.user, lot_id=lot_id)
    form = forms.TransitionForm(request.POST)
    if form.is_valid():
        changed = _act(request, services.lot_status_transition, actor=request.user, lot_id=lot.pk,
                       to_status=form.cleaned_data["to_status"], reason=form.cleaned_data["reason"])  # fmt: skip
        if changed is not None:
            messages.success(request, _("Lot %(code)s is now %(status)s.")
                             % {"code": changed.code, "status": changed.get_status_display().lower()})  # fmt: skip
    return redirect("catalogue-lot-detail", lot_id=lot.pk)


# --- A cooperative's listings ---------------------------------------------------------------


def _eudr_gap(request: HttpRequest, lots: list, chosen) -> Any | None:
    """The due-diligence package of the chosen lot when its commodity falls under the EUDR and it is not ready."""
    lot = next((lot for lot in lots if str(lot.pk) == str(chosen)), None)
    if lot is None or not lot.commodity.eudr_relevant:
        return None
    package = _read(selectors.lot_due_diligence, viewer=request.user, lot_id=lot.pk)
    return None if package.ready else package


@login_required
def listing_new(request: HttpRequest) -> HttpResponse:
    organisation = _acting(request, Capability.DECIDE, COOP)
    lots = [lot for lot in selectors.lot_list(viewer=request.user, organisation_id=organisation.pk)
            if lot.status in (Lot.Status.OPEN, Lot.Status.LISTED)]  # fmt: skip
    warehouses = selectors.location_list(viewer=request.user, organisation_id=organisation.pk, purpose="storage",
                                         active_only=True)  # fmt: skip
    certifications = selectors.certification_list(viewer=request.user, organisation_id=organisation.pk)
    form = forms.ListingForm(
        request.POST or None, request.FILES or None, lots=lots, warehouses=warehouses, certifications=certifications,
        currency=organisation.currency, initial={"lot": request.GET.get("lot")},
    )  # fmt: skip
    chosen = request.POST.get("lot") or request.GET.get("lot")
    eudr_gap = _eudr_gap(request, lots, chosen)
    if eudr_gap is not None:
        form.fields["eudr_acknowledged"].widget = django_forms.CheckboxInput()
    if (
        request.method == "POST"
        and form.is_valid()
        and eudr_gap is not None
        and not form.cleaned_data["eudr_acknowledged"]
    ):
        form.add_error("eudr_acknowledged", _("This lot is not EUDR-ready: fix what is listed above, or tick the box "
                                              "to list it anyway."))  # fmt: skip
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            price = parse_money(data["price"], organisation.currency)
        except DomainError as error:
            forms.add_domain_error(form, error)
        else:
            listing = _write(
                form, services.listing_create, actor=request.user, lot_id=data["lot"], title=data["title"],
                description=data["description"], price=price, price_unit=data["price_unit"],
                quantity_grams=forms.grams(data["quantity_kg"]), min_order_grams=forms.grams(data["min_order_kg"]),
                delivery_terms=data["delivery_terms"], pickup_location_id=data["pickup_location"],
                delivery_country=data["delivery_country"], delivery_region=data["delivery_region"],
                available_from=data["available_from"], valid_until=data["valid_until"],
                certification_ids=data["certifications"], photo=data["photo"],
            )  # fmt: skip
            if listing is not None:
                messages.success(request, _("The listing “%(title)s” is published.") % {"title": listing.title})
                return redirect("catalogue-listing-detail", listing_id=listing.pk)
    context = {"organisation": organisation, "form": form, "has_lots": bool(lots), "eudr": eudr_gap}
    return render(request, "catalogue/listing_form.html", context, status=_status(request, form))


@login_required
def my_listings(request: HttpRequest) -> HttpResponse:
    organisation = _acting(request, Capability.VIEW, COOP)
    listings = selectors.listing_list_for_organisation(viewer=request.user, organisation_id=organisation.pk)
    page = _page(request, listings)
    rows = [{"listing": listing, "actions": sorted(LISTING_TRANSITIONS[listing.status])} for listing in page]
    context = {"organisation": organisation, "page": page, "rows": rows,
               "can_decide": _can(request, organisation.pk, Capability.DECIDE)}  # fmt: skip
    return render(request, "catalogue/my_listings.html", context)


@login_required
@require_POST
def listing_transition(request: HttpRequest, listing_id: int) -> HttpResponse:
    form = forms.TransitionForm(request.POST)
    if form.is_valid():
        listing = _act(request, services.listing_status_transition, actor=request.user, listing_id=listing_id,
                       to_status=form.cleaned_data["to_status"], reason=form.cleaned_data["reason"])  # fmt: skip
        if listing is not None:
            messages.success(request, _("“%(title)s” is now %(status)s.")
                             % {"title": listing.title, "status": listing.get_status_display().lower()})  # fmt: skip
    return redirect("catalogue-my-listings")


# --- A supplier's offers ------------------------------------------------------------------


@login_required
def supplier_offers(request: HttpRequest) -> HttpResponse:
    organisation = _acting(request, Capability.VIEW, SUPPLIER)
    offers = selectors.offer_list_for_organisation(viewer=request.user, organisation_id=organisation.pk)
    context = {"organisation": organisation, "page": _page(request, offers),
               "can_decide": _can(request, organisation.pk, Capability.DECIDE)}  # fmt: skip
    return render(request, "catalogue/supplier_offers.html", context)


def _offer_inputs(form: forms.OfferForm, currency: str) -> tuple[list[TierInput], list[RegionInput]]:
    tiers = [
        TierInput(row["min_packs"], parse_money(row["unit_price"], currency, field="tiers"), row["max_packs"])
        for row in form.tier_values()
    ]
    return tiers, [RegionInput(country, region) for country, region in form.region_values()]


@login_required
def offer_new(request: HttpRequest) -> HttpResponse:
    organisation = _acting(request, Capability.DECIDE, SUPPLIER)
    products = list(selectors.input_product_list_for_organisation(viewer=request.user, organisation_id=organisation.pk))
    form = forms.OfferForm(
        request.POST or None, products=products,
        initial={"currency": organisation.currency, "country": organisation.country.code, "tier_0_min": 1,
                 "product": request.GET.get("product")},
    )  # fmt: skip
    if request.method == "POST" and form.is_valid():
        currency = form.cleaned_data["currency"].upper()
        try:
            tiers, regions = _offer_inputs(form, currency)
        except (DomainError, ValueError) as error:
            form.add_error("currency" if isinstance(error, ValueError) else "tiers", str(error))
        else:
            offer = _write(
                form, services.supplier_offer_create, actor=request.user, organisation_id=organisation.pk,
                product_id=form.cleaned_data["product"], currency=currency,
                stock_packs=form.cleaned_data["stock_packs"], tiers=tiers, regions=regions,
                lead_time_days=form.cleaned_data["lead_time_days"], valid_from=form.cleaned_data["valid_from"],
                valid_until=form.cleaned_data["valid_until"], notes=form.cleaned_data["notes"],
            )  # fmt: skip
            if offer is not None:
                messages.success(request, _("Your offer of %(product)s is published.") % {"product": offer.product})
                return redirect("catalogue-offer-edit", offer_id=offer.pk)
    context = {"organisation": organisation, "form": form, "has_products": bool(products)}
    return render(request, "catalogue/offer_form.html", context, status=_status(request, form))


@login_required
def offer_edit(request: HttpRequest, offer_id: int) -> HttpResponse:
    offer = _read(selectors.offer_get, viewer=request.user, offer_id=offer_id)
    if not _can(request, offer.organisation_id, Capability.VIEW):
        raise Http404(_("No such offer."))
    tiers = list(offer.tiers.all())
    initial = {"stock_packs": offer.stock_packs, "lead_time_days": offer.lead_time_days,
               "valid_until": offer.valid_until, "notes": offer.notes,
               "country": offer.regions.all()[0].country.code if offer.regions.all() else "",
               "regions": ", ".join(r.region for r in offer.regions.all() if r.region)}  # fmt: skip
    for index, tier in enumerate(tiers[: forms.TIER_ROWS]):
        upper = tiers[index + 1].min_packs - 1 if index + 1 < len(tiers) else offer.max_order_packs
        initial.update({f"tier_{index}_min": tier.min_packs, f"tier_{index}_max": upper,
                        f"tier_{index}_price": Money(tier.unit_price_amount, offer.currency).to_decimal()})  # fmt: skip
    form = forms.OfferEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            tier_inputs, regions = _offer_inputs(form, offer.currency)
        except DomainError as error:
            forms.add_domain_error(form, error)
        else:
            updated = _write(
                form, services.supplier_offer_update, actor=request.user, offer_id=offer.pk,
                stock_packs=form.cleaned_data["stock_packs"], tiers=tier_inputs, regions=regions,
                lead_time_days=form.cleaned_data["lead_time_days"], valid_until=form.cleaned_data["valid_until"],
                notes=form.cleaned_data["notes"],
            )  # fmt: skip
            if updated is not None:
                messages.success(request, _("The offer was updated."))
                return redirect("catalogue-offer-edit", offer_id=offer.pk)
    context = {"offer": offer, "form": form, "actions": sorted(OFFER_TRANSITIONS[offer.status]),
               "can_decide": _can(request, offer.organisation_id, Capability.DECIDE)}  # fmt: skip
    return render(request, "catalogue/offer_edit.html", context, status=_status(request, form))


@login_required
@require_POST
def offer_transition(request: HttpRequest, offer_id: int) -> HttpResponse:
    form = forms.TransitionForm(request.POST)
    if form.is_valid():
        offer = _act(request, services.supplier_offer_status_transition, actor=request.user, offer_id=offer_id,
                     to_status=form.cleaned_data["to_status"], reason=form.cleaned_data["reason"])  # fmt: skip
        if offer is not None:
            messages.success(request, _("The offer is now %(status)s.")
                             % {"status": offer.get_status_display().lower()})  # fmt: skip
    return redirect("catalogue-offer-edit", offer_id=offer_id)


@login_required
def product_new(request: HttpRequest) -> HttpResponse:
    organisation = _acting(request, Capability.DECIDE, SUPPLIER)
    form = forms.InputProductForm(
        request.POST or None, packaging=selectors.packaging_list(viewer=request.user),
        crops=selectors.commodity_list(viewer=request.user),
    )  # fmt: skip
    if request.method == "POST" and form.is_valid():
        product = _write(form, services.input_product_create, actor=request.user, organisation_id=organisation.pk,
                         **form.service_fields())  # fmt: skip
        if product is not None:
            messages.success(request, _("%(name)s was added; you can now offer it.") % {"name": product.name})
            return redirect(reverse("catalogue-offer-new") + f"?product={product.pk}")
    return render(request, "catalogue/product_form.html", {"organisation": organisation, "form": form},
                  status=_status(request, form))  # fmt: skip
