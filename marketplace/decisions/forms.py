from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace.decisions.models import Kind


class DecisionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    question = forms.CharField(label=_("Question"), max_length=300)
    options = forms.CharField(
        label=_("Options, one per line"), widget=forms.Textarea(attrs={"rows": 3}), initial="Yes\nNo",
        help_text=_("For a vote that approves an action, the first option approves it."),
    )  # fmt: skip
    description = forms.CharField(label=_("Description and agenda"), widget=forms.Textarea(attrs={"rows": 4}),
                                  required=False, max_length=5000)  # fmt: skip
    subject = forms.CharField(
        label=_("Action decided (proposal_part:<id>, order:<id> or group_order:<id>)"), max_length=200, required=False
    )
    opens_at = forms.DateTimeField(label=_("Opens at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    closes_at = forms.DateTimeField(label=_("Closes at"), required=False,
                                    help_text=_("Empty: open for the cooperative's default number of days."),
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))  # fmt: skip
    meeting_at = forms.DateTimeField(label=_("Assembly date"), required=False,
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))  # fmt: skip
    quorum_percent = forms.IntegerField(
        label=_("Quorum (percent of members)"), min_value=0, max_value=100, required=False
    )
    threshold_percent = forms.IntegerField(label=_("Threshold (percent of votes cast)"), min_value=1, max_value=100,
                                           required=False)  # fmt: skip
    anonymous = forms.BooleanField(label=_("Secret ballot (cannot be changed later)"), required=False)
    results_before_close = forms.BooleanField(label=_("Show results before closing"), required=False)

    def clean_options(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["options"].splitlines() if line.strip()]


class VoteForm(forms.Form):
    farmer = forms.TypedChoiceField(label=_("Member"), coerce=int)
    option = forms.TypedChoiceField(label=_("Vote"), coerce=int)

    def __init__(self, *args, farmers=(), options=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["farmer"].choices = [(f.pk, f"{f.member_number} — {f.name}") for f in farmers]
        self.fields["option"].choices = [(o.pk, o.label) for o in options]


class TransitionForm(forms.Form):
    status = forms.ChoiceField(choices=[("open", "open"), ("closed", "closed"), ("cancelled", "cancelled")])
    reason = forms.CharField(required=False, max_length=1000)


class DefaultsForm(forms.Form):
    """A cooperative's defaults for one kind of decision, in percent on the page (basis points in the database)."""

    kind = forms.ChoiceField(choices=Kind.choices, widget=forms.HiddenInput)
    quorum_percent = forms.DecimalField(label=_("Quorum (percent of members)"), min_value=0, max_value=100,
                                        max_digits=5, decimal_places=2)  # fmt: skip
    threshold_percent = forms.DecimalField(label=_("Threshold (percent of votes cast)"), min_value=Decimal("0.01"),
                                           max_value=100, max_digits=5, decimal_places=2)  # fmt: skip
    duration_days = forms.IntegerField(label=_("Days open"), min_value=1, max_value=120)
    notice_days = forms.IntegerField(label=_("Notice period for an assembly (days)"), min_value=1, max_value=365)
    anonymous = forms.BooleanField(label=_("Secret ballot"), required=False)
    results_before_close = forms.BooleanField(label=_("Show results before closing"), required=False)
    vote_above_amount = forms.IntegerField(
        label=_("Vote required from this amount (minor units)"), min_value=0, max_value=10**15, required=False,
        help_text=_("Empty: never required."),
    )  # fmt: skip
    vote_above_kg = forms.IntegerField(
        label=_("Vote required from this quantity (kg)"), min_value=0, max_value=10**9, required=False,
        help_text=_("Empty: never required."),
    )  # fmt: skip

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            "quorum_bp": int(data["quorum_percent"] * 100),
            "threshold_bp": int(data["threshold_percent"] * 100),
            "duration_days": data["duration_days"],
            "notice_days": data["notice_days"],
            "anonymous": data["anonymous"],
            "results_before_close": data["results_before_close"],
            "vote_above_amount": data.get("vote_above_amount"),
            "vote_above_kg": data.get("vote_above_kg"),
        }

    @classmethod
    def for_row(cls, row, data=None):
        initial = {
            "kind": row.kind, "quorum_percent": Decimal(row.quorum_bp) / 100,
            "threshold_percent": Decimal(row.threshold_bp) / 100, "duration_days": row.duration_days,
            "notice_days": row.notice_days, "anonymous": row.anonymous,
            "results_before_close": row.results_before_close, "vote_above_amount": row.vote_above_amount,
            "vote_above_kg": row.vote_above_kg,
        }  # fmt: skip
        form = cls(data, initial=initial, prefix=row.kind)
        if row.kind not in ("proposal", "group_order"):
            del form.fields["vote_above_amount"], form.fields["vote_above_kg"]
        elif row.kind == "group_order":
            del form.fields["vote_above_kg"]
        return form
