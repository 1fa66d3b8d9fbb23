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
    subject = forms.CharField(label=_("Action decided (e.g. proposal:12)"), max_length=200, required=False)
    opens_at = forms.DateTimeField(label=_("Opens at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    closes_at = forms.DateTimeField(label=_("Closes at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    meeting_at = forms.DateTimeField(label=_("Assembly date"), required=False,
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))  # fmt: skip
    quorum_percent = forms.IntegerField(label=_("Quorum (% of members)"), min_value=0, max_value=100, required=False)
    threshold_percent = forms.IntegerField(label=_("Threshold (% of votes cast)"), min_value=1, max_value=100,
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
