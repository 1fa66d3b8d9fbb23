"""Pages of the event store's EUDR side: the bulk plot import (GeoJSON or KML)."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketplace.core.errors import DomainError, NotFound
from marketplace.organisations.middleware import current_membership
from marketplace.organisations.roles import Capability
from marketplace.organisations.selectors import organisation_for
from marketplace.organisations.services import PlotImportRejected
from traceability.plot_import import plots_import


class PlotImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("GeoJSON or KML file"),
        help_text=gettext_lazy(
            "One plot per feature, with the properties member_number and name (KML: the Placemark's name); "
            "optionally area_hectares, country and established_on (YYYY-MM-DD)."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".geojson,.json,.kml"}),
    )


@login_required
def plot_import(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        raise Http404(_("You are not a member of any organisation."))
    try:
        organisation = organisation_for(
            viewer=request.user, organisation_id=membership.organisation_id, capability=Capability.RECORD
        )
    except NotFound:
        raise Http404(_("No such organisation.")) from None
    except DomainError as error:
        raise HttpForbidden(error.message) from None
    form = PlotImportForm(request.POST or None, request.FILES or None)
    problems: list[dict] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                plots = plots_import(
                    actor=request.user,
                    organisation_id=organisation.pk,
                    data=upload.read(settings.PLOT_IMPORT_MAX_BYTES + 1),
                    file_name=upload.name or "",
                )
            except PlotImportRejected as error:
                problems = error.features
                form.add_error(None, error.message)
            except DomainError as error:
                form.add_error("file", error.message)
            else:
                messages.success(request, _("%(count)d plots were imported.") % {"count": len(plots)})
                return redirect("member-list")
    context = {"form": form, "organisation": organisation, "problems": problems,
               "max_features": settings.PLOT_IMPORT_MAX_FEATURES,
               "max_megabytes": settings.PLOT_IMPORT_MAX_BYTES // (1024 * 1024)}  # fmt: skip
    return render(request, "traceability/plot_import.html", context, status=status)
