"""Pages for the EU due-diligence statement: download a lot's or an order's statement, and record the upstream
statements received for an order."""

import json

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from catalogue import selectors, services
from marketplace.core.errors import Conflict, DomainError, NotFound, PermissionDenied


class StatementReferenceForm(forms.Form):
    reference_number = forms.RegexField(
        label=_("Reference number"),
        regex=r"^[A-Za-z0-9-]{1,14}$",
        max_length=14,
        error_messages={"invalid": _("1 to 14 letters, digits or dashes, as the EU system gave it.")},
    )
    verification_number = forms.CharField(label=_("Verification number"), min_length=5, max_length=35)


def _download(statements) -> HttpResponse:
    body = json.dumps(statements.as_json(), indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in statements.subject.rsplit("/", 1)[-1])
    response["Content-Disposition"] = f'attachment; filename="eudr-statement-{safe}.json"'
    return response


def _statement_or_page(request: HttpRequest, call, **kwargs) -> HttpResponse:
    try:
        return _download(call(viewer=request.user, **kwargs))
    except NotFound as error:
        raise Http404(error.message) from None
    except DomainError as error:  # not covered, or not EUDR-ready: say why on a page
        return render(request, "catalogue/eudr_refused.html", {"message": error.message, "fields": error.fields},
                      status=error.status_code)  # fmt: skip


@login_required
def lot_statement(request: HttpRequest, lot_id: int) -> HttpResponse:
    return _statement_or_page(request, selectors.lot_statement, lot_id=lot_id)


@login_required
def order_statement(request: HttpRequest, number: str) -> HttpResponse:
    return _statement_or_page(request, selectors.order_statement, order_number=number)


@login_required
@require_http_methods(["GET", "POST"])
def order_eudr(request: HttpRequest, number: str) -> HttpResponse:
    """The order's statement and the upstream statements the viewer's organisation recorded for it."""
    try:
        package, operator, references = selectors.statement_references(viewer=request.user, order_number=number)
    except NotFound as error:
        raise Http404(error.message) from None
    except DomainError as error:
        return render(request, "catalogue/eudr_refused.html", {"message": error.message}, status=error.status_code)
    form = StatementReferenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.order_statement_reference_add(actor=request.user, order_number=number, **form.cleaned_data)
        except PermissionDenied as error:
            return render(request, "catalogue/eudr_refused.html", {"message": error.message}, status=403)
        except (Conflict, DomainError) as error:
            for field, messages in error.fields.items():
                form.add_error(field if field in form.fields else None, messages)
            if not error.fields:
                form.add_error(None, error.message)
        else:
            return redirect("catalogue-order-eudr", number=package.reference)
    context = {"package": package, "operator": operator, "references": references, "form": form, "number": number}
    return render(request, "catalogue/order_eudr.html", context, status=400 if form.errors else 200)
