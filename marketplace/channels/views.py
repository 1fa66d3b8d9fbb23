"""The gateway's callbacks (form posts, behind a secret path segment) and the clerk's PIN and language page."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from marketplace.channels import selectors, services
from marketplace.channels.forms import FarmerChannelForm
from marketplace.channels.gateways import africastalking
from marketplace.core.errors import DomainError, NotFound, PermissionDenied


def _check_secret(secret: str) -> None:
    expected = settings.CHANNELS_CALLBACK_SECRET
    if not expected or not hmac.compare_digest(secret.encode(), expected.encode()):
        raise Http404


def _text(body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")


def _callback(handler):
    def view(request: HttpRequest, secret: str) -> HttpResponse:
        _check_secret(secret)
        try:
            return handler(request)
        except DomainError as error:
            return _text(error.message, status=error.status_code)

    view.__name__ = handler.__name__
    view.__doc__ = handler.__doc__
    return csrf_exempt(require_POST(view))


@_callback
def africastalking_ussd(request: HttpRequest) -> HttpResponse:
    """USSD: sessionId, serviceCode, phoneNumber, networkCode, text. Answers CON/END text."""
    ussd = africastalking.parse_ussd(request.POST)
    return _text(services.ussd_answer(gateway_name=africastalking.NAME, request=ussd))


@_callback
def africastalking_sms_inbound(request: HttpRequest) -> HttpResponse:
    """Inbound SMS: id, text, from, to, date, linkId. The answer goes out as an SMS."""
    inbound = africastalking.parse_inbound(request.POST)
    services.sms_inbound_receive(gateway_name=africastalking.NAME, inbound=inbound)
    return _text("OK")


@_callback
def africastalking_sms_delivery(request: HttpRequest) -> HttpResponse:
    """Delivery report: id, status, phoneNumber, networkCode, failureReason, retryCount."""
    report = africastalking.parse_delivery_report(request.POST)
    services.delivery_report_receive(gateway_name=africastalking.NAME, report=report)
    return _text("OK")


@login_required
def farmer_channel(request: HttpRequest, farmer_id: int) -> HttpResponse:
    """The member's PIN and language for SMS and USSD, set by a clerk at the collection point."""
    try:
        channel = selectors.farmer_channel_get(viewer=request.user, farmer_id=farmer_id)
    except NotFound:
        raise Http404(_("No such member farmer.")) from None
    except PermissionDenied:
        raise Http404(_("No such member farmer.")) from None
    form = FarmerChannelForm(request.POST or None, initial={"language": channel.farmer.language})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.farmer_channel_update(
                    actor=request.user,
                    farmer_id=channel.farmer.pk,
                    pin=form.cleaned_data["pin"],
                    pin_again=form.cleaned_data["pin_again"],
                    language=form.cleaned_data["language"],
                )
            except DomainError as error:
                for field, errors in error.fields.items():
                    for message in errors:
                        form.add_error(field if field in form.fields else None, message)
                if not error.fields:
                    form.add_error(None, error.message)
            else:
                messages.success(request, _("Saved. The member can use SMS and USSD with this PIN."))
                return redirect("channels:farmer", farmer_id=channel.farmer.pk)
        status = 400
    return render(request, "channels/farmer_channel.html", {"channel": channel, "form": form}, status=status)
