"""Pages for member decisions: the list, a new decision, and a decision with its votes and results."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from marketplace.core.errors import DomainError, NotFound
from marketplace.decisions import selectors, services
from marketplace.decisions.forms import DecisionForm, DefaultsForm, TransitionForm, VoteForm
from marketplace.decisions.models import Kind
from marketplace.organisations.roles import Capability


def _get(request, decision_id):
    try:
        return selectors.decision_get(viewer=request.user, decision_id=decision_id)
    except NotFound as error:
        raise Http404(error.message) from None


@login_required
def decision_list(request: HttpRequest) -> HttpResponse:
    decisions = selectors.decision_list(viewer=request.user)[:200]
    can_decide = bool(selectors.organisation_ids_with(request.user, Capability.DECIDE))
    return render(request, "decisions/list.html", {"decisions": decisions, "can_decide": can_decide})


@login_required
@require_http_methods(["GET", "POST"])
def decision_new(request: HttpRequest) -> HttpResponse:
    organisations = selectors.organisation_ids_with(request.user, Capability.DECIDE)
    if not organisations:
        raise Http404(_("Only a cooperative's managers put questions to the members."))
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        percent = {"quorum_bp": data["quorum_percent"], "threshold_bp": data["threshold_percent"]}
        try:
            decision = services.decision_create(
                actor=request.user,
                organisation_id=organisations[0],
                data=services.DecisionInput(
                    kind=data["kind"], question=data["question"], options=data["options"],
                    opens_at=data["opens_at"], closes_at=data["closes_at"], description=data["description"],
                    subject=data["subject"], meeting_at=data["meeting_at"],
                    anonymous=data["anonymous"], results_before_close=data["results_before_close"],
                    **{k: (v * 100 if v is not None else None) for k, v in percent.items()},
                ),
            )  # fmt: skip
        except DomainError as error:
            for field, problems in error.fields.items():
                form.add_error(field if field in form.fields else None, problems)
            if not error.fields:
                form.add_error(None, error.message)
        else:
            return redirect("decisions:detail", decision.pk)
    return render(request, "decisions/new.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def decision_detail(request: HttpRequest, decision_id: int) -> HttpResponse:
    decision = _get(request, decision_id)
    results = selectors.decision_results(viewer=request.user, decision_id=decision.pk)
    can_record = decision.organisation_id in selectors.organisation_ids_with(request.user, Capability.RECORD)
    can_decide = decision.organisation_id in selectors.organisation_ids_with(request.user, Capability.DECIDE)
    vote_form = None
    if can_record and decision.status == decision.Status.OPEN:
        farmers = selectors.eligible_voters(viewer=request.user, decision_id=decision.pk).order_by("member_number")
        vote_form = VoteForm(farmers=farmers, options=decision.options.all())
    return render(request, "decisions/detail.html", {
        "decision": decision, "results": results, "vote_form": vote_form, "can_decide": can_decide,
        "can_record": can_record, "moves": services.DECISION_TRANSITIONS.next_of(decision.status),
    })  # fmt: skip


def _act(request, decision_id: int, call, *, done: str = "", **kwargs) -> HttpResponse:
    """Call one service; a refusal is shown on the decision's page, a success says `done`."""
    try:
        call(actor=request.user, decision_id=decision_id, **kwargs)
    except NotFound as error:
        raise Http404(error.message) from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if done:
            messages.success(request, done)
    return redirect("decisions:detail", decision_id)


@login_required
@require_POST
def decision_transition(request: HttpRequest, decision_id: int) -> HttpResponse:
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose open, closed or cancelled."))
        return redirect("decisions:detail", decision_id)
    return _act(request, decision_id, services.decision_transition, to_status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"])  # fmt: skip


@login_required
@require_POST
def vote_record(request: HttpRequest, decision_id: int) -> HttpResponse:
    decision = _get(request, decision_id)
    farmers = selectors.eligible_voters(viewer=request.user, decision_id=decision.pk)
    form = VoteForm(request.POST, farmers=farmers, options=decision.options.all())
    if not form.is_valid():
        messages.error(request, _("Choose a member on the list and one of the options."))
        return redirect("decisions:detail", decision_id)
    return _act(request, decision_id, services.vote_cast, farmer_id=form.cleaned_data["farmer"],
                option_id=form.cleaned_data["option"], done=_("Vote recorded."))  # fmt: skip


@login_required
@require_POST
def hands_record(request: HttpRequest, decision_id: int) -> HttpResponse:
    decision = _get(request, decision_id)
    counts = {}
    for option in decision.options.all():
        raw = request.POST.get(f"option_{option.pk}", "").strip()
        if raw:
            if not raw.isdigit() or len(raw) > 7:
                messages.error(request, _("Give each count as a whole number, 0 or more."))
                return redirect("decisions:detail", decision_id)
            counts[option.pk] = int(raw)
    if not counts:
        messages.error(request, _("Give at least one count."))
        return redirect("decisions:detail", decision_id)
    return _act(request, decision_id, services.show_of_hands_record, counts=counts, done=_("Counts recorded."))


@login_required
@require_http_methods(["GET", "POST"])
def defaults_edit(request: HttpRequest) -> HttpResponse:
    """The cooperative's defaults for each kind of decision (its managers): one form per kind."""
    organisations = selectors.organisation_ids_with(request.user, Capability.DECIDE)
    if not organisations:
        raise Http404(_("Only a cooperative's managers set the defaults of its decisions."))
    organisation_id = organisations[0]
    rows = selectors.decision_defaults(viewer=request.user, organisation_id=organisation_id)
    posted = request.POST.get("kind") if request.method == "POST" else None
    forms_by_kind = {row.kind: DefaultsForm.for_row(row, request.POST if row.kind == posted else None) for row in rows}
    status = 200
    if request.method == "POST":
        form = forms_by_kind.get(posted)
        if form is None:
            messages.error(request, _("Choose a kind of decision."))
            return redirect("decisions:defaults")
        if form.is_valid():
            try:
                services.decision_defaults_set(actor=request.user, organisation_id=organisation_id, kind=posted,
                                               **form.values())  # fmt: skip
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Defaults saved."))
                return redirect("decisions:defaults")
        status = 400
    kinds = dict(Kind.choices)
    return render(request, "decisions/defaults.html",
                  {"forms": [(kinds[kind], form) for kind, form in forms_by_kind.items()]}, status=status)  # fmt: skip
