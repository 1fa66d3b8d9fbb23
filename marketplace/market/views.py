"""Pages of the market app: the public market prices (no login), their CSV, a cooperative's own prices against
the market, and the dashboard. Views parse the request, call selectors and render (house rules 1 and 2)."""

import csv
from datetime import date
from io import StringIO

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from marketplace.core.errors import DomainError, NotFound
from marketplace.market import selectors
from marketplace.market.charts import Line, line_chart
from marketplace.organisations.middleware import current_membership

# --- Render caching ----------------------------------------------------------------------------------------------
# The public figures change only when a refresh writes them, so the rendered body of a public page is cached under
# a key made of the data version (the time of the last refresh: one index-only query), the language and the query.
# A refresh writes a new version, so nothing needs deleting; old entries expire.
RENDER_CACHE_SECONDS = 24 * 3600


def _cached_body(request: HttpRequest, name: str, version, build) -> str:
    """The page body from the cache, or `build()` (returns (template, context)) rendered and cached. A page that
    must answer 404 raises from `build()` and is never cached."""
    import hashlib

    from django.core.cache import cache
    from django.template.loader import render_to_string
    from django.utils.translation import get_language

    query = "&".join(f"{k}={v}" for k, v in sorted(request.GET.items()))
    digest = hashlib.sha256(f"{request.path}?{query}".encode()).hexdigest()[:32]
    key = f"market:body:{name}:{version.isoformat() if version else 'none'}:{get_language()}:{digest}"
    body = cache.get(key)
    if body is None:
        template, context = build()
        body = render_to_string(template, context, request=None)
        cache.set(key, body, RENDER_CACHE_SECONDS)
    return mark_safe(body)


def _series_or_404(request: HttpRequest, commodity: str, country: str):
    period = request.GET.get("period") or "month"
    if period not in selectors.PERIODS:
        period = "month"
    try:
        series = selectors.market_series(
            viewer=request.user, commodity_code=commodity, country=country, region=request.GET.get("region", ""),
            period=period,
        )  # fmt: skip
    except NotFound as error:
        raise Http404(error.message) from None
    return series, period


def market_index(request: HttpRequest) -> HttpResponse:
    commodity = request.GET.get("commodity", "")[:60]
    country = request.GET.get("country", "")[:2]
    status = selectors.market_status(viewer=request.user)

    def build():
        rows = selectors.market_overview(viewer=request.user, commodity_code=commodity, country=country)
        return "market/_index_body.html", {
            "rows": rows, "filters": selectors.market_filters(viewer=request.user), "commodity": commodity,
            "country": country.upper(), "status": status,
        }  # fmt: skip

    body = _cached_body(request, "index", status["refreshed_at"], build)
    return render(request, "market/index.html", {"body": body})


def market_detail(request: HttpRequest, commodity: str, country: str) -> HttpResponse:
    status = selectors.market_status(viewer=request.user)
    body = _cached_body(request, "detail", status["refreshed_at"],
                        lambda: _detail_body(request, commodity, country, status))  # fmt: skip
    return render(request, "market/detail.html", {"body": body})


def _detail_body(request: HttpRequest, commodity: str, country: str, status: dict):
    series, period = _series_or_404(request, commodity, country)
    charts = []
    for item in series:
        title = _("%(commodity)s, %(region)s (%(currency)s %(unit)s)") % {
            "commodity": item.commodity.name, "region": item.region or item.country, "currency": item.currency,
            "unit": item.unit.label,
        }  # fmt: skip
        svg = line_chart(
            title=title,
            lines=[Line(g.grade.name, [(p.period_start, float(p.per_unit.to_decimal())) for p in g.points])
                   for g in item.grades],
            y_label=_("Settled price %(unit)s, one line per grade") % {"unit": item.unit.label},
        )  # fmt: skip
        charts.append({"series": item, "title": title, "svg": mark_safe(svg)})
    if not series and not _commodity_exists(commodity):
        raise Http404(_("No such commodity."))
    return "market/_detail_body.html", {
        "charts": charts, "commodity": commodity, "country": country.upper(), "period": period,
        "region": request.GET.get("region", ""), "status": status,
    }  # fmt: skip


def _commodity_exists(code: str) -> bool:
    from catalogue.selectors import commodity_list

    return commodity_list().filter(code=code).exists()


def market_csv(request: HttpRequest, commodity: str, country: str) -> HttpResponse:
    series, period = _series_or_404(request, commodity, country)
    buffer = StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["commodity", "country", "region", "grade", "currency", "period", "period_start", "trades",
                     "sellers", "tonnes", "price_per_tonne", "quoted_unit", "price_per_quoted_unit",
                     "ifpa"])  # fmt: skip
    for item in series:
        for grade in item.grades:
            for p in grade.points:
                writer.writerow([
                    item.commodity.code, item.country, item.region, grade.grade.code, item.currency, period,
                    p.period_start.isoformat(), p.trades, p.sellers, f"{p.tonnes:.3f}", p.per_tonne.to_decimal(),
                    item.unit.code, p.per_unit.to_decimal(), "" if p.ifpa is None else f"{p.ifpa:.3f}",
                ])  # fmt: skip
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="prices-{commodity}-{country.upper()}-{period}.csv"'
    return response


@login_required
def our_prices(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        raise Http404(_("No such page."))
    period = request.GET.get("period") or "month"
    status = selectors.market_status(viewer=request.user)

    def build():
        try:
            rows = selectors.organisation_prices(
                viewer=request.user, organisation_id=membership.organisation_id,
                period=period if period in selectors.PERIODS else "month",
            )  # fmt: skip
        except DomainError as error:
            raise Http404(error.message) from None
        return "market/_our_prices_body.html", {"rows": rows, "organisation": membership.organisation,
                                                "period": period, "today": date.today()}  # fmt: skip

    # The figures change only with a refresh (the data version); the key names the organisation (the viewer is a
    # member: current_membership) and the day.
    version = status["refreshed_at"]
    body = _cached_body(request, f"ours:{membership.organisation_id}:{date.today().isoformat()}", version, build)
    return render(request, "market/our_prices.html", {"body": body})


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The home page after signing in: the organisation's members (cooperatives), its stock, orders and money, and
    what needs doing now (cached per organisation until its next change: market.dashboard.dashboard_cached); the
    operator's verification queue."""
    from marketplace.market.dashboard import dashboard_cached
    from marketplace.organisations import selectors as organisations
    from marketplace.organisations.middleware import memberships_of
    from marketplace.organisations.models import Organisation

    membership = current_membership(request)
    context: dict = {"membership": membership}
    if membership is not None:
        board, _hit = dashboard_cached(viewer=request.user, membership=membership)
        context.update(board=board, figures=board.members, plots=board.plots,
                       deliveries_chart=mark_safe(board.deliveries_chart))  # fmt: skip
    if any(m.organisation.kind == Organisation.Kind.OPERATOR for m in memberships_of(request)):
        context["pending_organisations"] = (
            organisations.organisation_list(viewer=request.user)
            .filter(verification_status=Organisation.Verification.PENDING)
            .count()
        )
    return render(request, "market/dashboard.html", context)


@login_required
def alerts(request: HttpRequest) -> HttpResponse:
    """The signed-in user's price alerts for the current organisation, and a form to add one (managers of a
    cooperative or a buyer)."""
    from django.contrib import messages
    from django.shortcuts import redirect

    from marketplace.core.errors import ValidationFailed
    from marketplace.market import alerts as alert_services

    membership = current_membership(request)
    if membership is None:
        raise Http404(_("No such page."))
    errors: dict = {}
    values = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        try:
            if request.POST.get("delete"):
                alert_services.price_alert_delete(actor=request.user, alert_id=_int(request.POST.get("delete")))
                messages.success(request, _("The price alert is deleted."))
            else:
                alert_services.price_alert_create(
                    actor=request.user, organisation_id=membership.organisation_id,
                    grade_id=request.POST.get("grade", ""), country=request.POST.get("country", ""),
                    region=request.POST.get("region", ""), currency=request.POST.get("currency", ""),
                    direction=request.POST.get("direction", ""), threshold=request.POST.get("threshold", ""),
                    channel=request.POST.get("channel", "email"), phone=request.POST.get("phone", ""),
                )  # fmt: skip
                messages.success(request, _("The price alert is saved."))
            return redirect("market:alerts")
        except ValidationFailed as error:
            errors = error.fields or {"__all__": error.message}
        except NotFound as error:
            raise Http404(error.message) from None
        except DomainError as error:
            from django.core.exceptions import PermissionDenied as HttpForbidden

            raise HttpForbidden(error.message) from None
    response = render(request, "market/alerts.html", {
        "alerts": selectors.price_alert_list(viewer=request.user, organisation_id=membership.organisation_id),
        "grades": selectors.grade_choices(), "errors": errors, "values": values,
        "organisation": membership.organisation,
    }, status=400 if errors else 200)  # fmt: skip
    return response


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class _Echo:
    def write(self, value):
        return value


@login_required
def reports(request: HttpRequest) -> HttpResponse:
    """The export form: which report, which dates, which format (managers and admins)."""
    from marketplace.market.reports import FORMATS, KINDS

    membership = current_membership(request)
    if membership is None:
        raise Http404(_("No such page."))
    today = date.today()
    return render(request, "market/reports.html", {
        "kinds": KINDS, "formats": FORMATS, "organisation": membership.organisation,
        "start": today.replace(month=1, day=1).isoformat(), "end": today.isoformat(),
    })  # fmt: skip


@login_required
def report_download(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    """One report, streamed: CSV row by row; XLSX written row by row (openpyxl's write-only mode) to a temporary
    file that is then streamed."""
    import tempfile

    from django.core.exceptions import PermissionDenied as HttpForbidden
    from django.http import FileResponse, StreamingHttpResponse

    from marketplace.core.errors import PermissionDenied, ValidationFailed
    from marketplace.market.reports import FORMATS, report_rows

    membership = current_membership(request)
    if membership is None or fmt not in FORMATS:
        raise Http404(_("No such report."))
    try:
        rows = report_rows(viewer=request.user, organisation_id=membership.organisation_id, kind=kind,
                           start=request.GET.get("from", ""), end=request.GET.get("to", ""))  # fmt: skip
    except NotFound as error:
        raise Http404(error.message) from None
    except PermissionDenied as error:
        raise HttpForbidden(error.message) from None
    except ValidationFailed as error:
        details = "; ".join(
            f"{k}: {' '.join(v) if isinstance(v, list) else v}" for k, v in (error.fields or {}).items()
        )
        return HttpResponse(f"{error.message} {details}", status=400, content_type="text/plain; charset=utf-8")
    name = f"{kind}-{request.GET.get('from')}-{request.GET.get('to')}.{fmt}"
    if fmt == "csv":
        writer = csv.writer(_Echo())
        response = StreamingHttpResponse((writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8")
    else:
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(kind)
        for row in rows:
            sheet.append(row)
        spool = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it once streamed)
        workbook.save(spool)
        spool.seek(0)
        response = FileResponse(spool, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- Input prices ---------------------------------------------------------------------------------------------


def input_index(request: HttpRequest) -> HttpResponse:
    """Public: the latest monthly price per pack of every input product with published prices."""
    from catalogue.models import InputProduct

    kind = request.GET.get("kind", "")
    kind = kind if kind in InputProduct.Kind.values else ""
    country = request.GET.get("country", "")[:2]
    status = selectors.input_market_status(viewer=request.user)

    def build():
        return "market/_inputs_body.html", {
            "rows": selectors.input_market_overview(viewer=request.user, kind=kind, country=country),
            "filters": selectors.input_market_filters(viewer=request.user), "kind": kind,
            "country": country.upper(), "status": status,
        }  # fmt: skip

    body = _cached_body(request, "inputs", status["refreshed_at"], build)
    return render(request, "market/inputs.html", {"body": body})


def _input_series_or_404(request: HttpRequest, product: int):
    period = request.GET.get("period") or "month"
    if period not in selectors.PERIODS:
        period = "month"
    try:
        found, series = selectors.input_market_series(
            viewer=request.user, product_id=product, country=request.GET.get("country", "")[:2],
            region=request.GET.get("region", "")[:100], period=period,
        )  # fmt: skip
    except NotFound as error:
        raise Http404(error.message) from None
    return found, series, period


def input_detail(request: HttpRequest, product: int) -> HttpResponse:
    status = selectors.input_market_status(viewer=request.user)
    body = _cached_body(request, "input-detail", status["refreshed_at"],
                        lambda: _input_detail_body(request, product, status))  # fmt: skip
    return render(request, "market/input_detail.html", {"body": body})


def _input_detail_body(request: HttpRequest, product: int, status: dict):
    found, series, period = _input_series_or_404(request, product)
    charts = []
    for item in series:
        title = _("%(product)s, %(pack)s, %(region)s (%(currency)s per pack)") % {
            "product": found.name, "pack": item.packaging.name, "region": item.region or item.country,
            "currency": item.currency,
        }  # fmt: skip
        svg = line_chart(title=title, lines=[Line(item.packaging.name, [(p.period_start, float(p.per_pack.to_decimal()))
                                                                        for p in item.points])],
                         y_label=_("Settled price per pack"))  # fmt: skip
        charts.append({"series": item, "title": title, "svg": mark_safe(svg)})
    return "market/_input_detail_body.html", {
        "product": found, "charts": charts, "period": period, "region": request.GET.get("region", "")[:100],
        "country": request.GET.get("country", "")[:2].upper(), "status": status,
    }  # fmt: skip


def input_csv(request: HttpRequest, product: int) -> HttpResponse:
    found, series, period = _input_series_or_404(request, product)
    buffer = StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["product_id", "product", "kind", "pack", "country", "region", "currency", "period",
                     "period_start", "trades", "sellers", "packs", "price_per_pack"])  # fmt: skip
    for item in series:
        for p in item.points:
            writer.writerow([found.pk, found.name, found.kind, item.packaging.code, item.country, item.region,
                             item.currency, period, p.period_start.isoformat(), p.trades, p.sellers, p.packs,
                             p.per_pack.to_decimal()])  # fmt: skip
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="input-prices-{found.pk}-{period}.csv"'
    return response


@login_required
def saved_searches(request: HttpRequest) -> HttpResponse:
    """A buyer's saved searches for new listings, with a form to add one and a button to delete each."""
    from django.contrib import messages
    from django.shortcuts import redirect

    from catalogue.models import Certification
    from catalogue.selectors import commodity_list
    from marketplace.core.errors import ValidationFailed
    from marketplace.market import searches

    membership = current_membership(request)
    if membership is None:
        raise Http404(_("No such page."))
    errors: dict = {}
    values = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        try:
            if request.POST.get("delete"):
                searches.saved_search_delete(actor=request.user, search_id=_int(request.POST.get("delete")))
                messages.success(request, _("The saved search is deleted."))
            else:
                p = request.POST
                searches.saved_search_create(
                    actor=request.user, organisation_id=membership.organisation_id, name=p.get("name", ""),
                    commodity=p.get("commodity", ""), min_grade=p.get("min_grade", ""), country=p.get("country", ""),
                    region=p.get("region", ""), latitude=p.get("latitude") or None,
                    longitude=p.get("longitude") or None, radius_km=p.get("radius_km") or None,
                    certification=p.get("certification", ""), eudr_ready=bool(p.get("eudr_ready")),
                    channel=p.get("channel", "email"), phone=p.get("phone", ""),
                )  # fmt: skip
                messages.success(request, _("The search is saved: you will hear of every new listing that fits it."))
            return redirect("market:searches")
        except ValidationFailed as error:
            errors = error.fields or {"__all__": error.message}
        except NotFound as error:
            raise Http404(error.message) from None
    own = [s for s in selectors.saved_search_list(viewer=request.user)
           if s.organisation_id == membership.organisation_id]  # fmt: skip
    return render(request, "market/searches.html", {
        "searches": own, "commodities": commodity_list().order_by("name"), "errors": errors, "values": values,
        "schemes": Certification.Scheme.choices, "organisation": membership.organisation,
    }, status=400 if errors else 200)  # fmt: skip
