"""Forms of the group input order pages: windows and the clerk's request form (no script needed)."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace.core.errors import DomainError
from marketplace.organisations.forms import PageForm
from orders.group_models import OrderingWindow


def unit_of(product) -> tuple[str, int]:
    """How a product's quantities are typed and shown: (label, base units per displayed unit)."""
    packaging = product.packaging
    if packaging.net_mass_grams:
        return "kg", 1000
    if packaging.net_volume_ml:
        return "L", 1000
    return str(_("pieces")), 1


def shown(base: int | None, product) -> str:
    if base is None:
        return ""
    label, factor = unit_of(product)
    value = Decimal(base) / factor
    text = f"{value:,.3f}".rstrip("0").rstrip(".") if factor != 1 else f"{base:,}"
    return f"{text} {label}"


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    placed = False
    aliases = {"quantity_delta": "quantity", "tolerance_delta": "tolerance", "products": "products",
               "farmer": "member_number"}  # fmt: skip
    for name, messages in error.fields.items():
        target = aliases.get(name, name)
        if target in form.fields:
            for message in messages:
                form.add_error(target, message)
            placed = True
    if not placed or len(error.fields) > 1:
        form.add_error(None, error.message)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class WindowForm(PageForm):
    name = forms.CharField(label=_("Name"), max_length=120, help_text=_("For example: Long rains 2027 inputs"))
    opens_at = forms.DateTimeField(label=_("Opens at"), widget=DateTimeInput())
    closes_at = forms.DateTimeField(label=_("Closes at"), widget=DateTimeInput())
    box_fill_at = forms.DateTimeField(
        label=_("Box-fill from (optional)"), required=False, widget=DateTimeInput(),
        help_text=_("From then on no change may reduce the number of filled packs."),
    )  # fmt: skip
    products = forms.MultipleChoiceField(label=_("Input products"), widget=forms.CheckboxSelectMultiple)
    allocation_rule = forms.ChoiceField(label=_("Allocation rule"), choices=OrderingWindow.Allocation.choices)
    on_credit = forms.BooleanField(label=_("Members buy on credit (recovered from a later payout)"), required=False)
    moq_action = forms.ChoiceField(label=_("If a supplier minimum is not met at closing"),
                                   choices=OrderingWindow.MoqAction.choices)  # fmt: skip
    extend_days = forms.IntegerField(label=_("Extend by (days)"), min_value=1, max_value=90, initial=7)

    def __init__(self, *args, products=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["products"].choices = [(p.pk, f"{p.name} ({p.packaging})") for p in products]


class RequestForm(PageForm):
    ADD, REMOVE = "add", "remove"
    member_number = forms.CharField(label=_("Member number"), max_length=32)
    product = forms.TypedChoiceField(label=_("Input"), coerce=int)
    action = forms.ChoiceField(label=_("Change"), choices=[(ADD, _("Add")), (REMOVE, _("Remove"))], initial=ADD,
                               widget=forms.RadioSelect)  # fmt: skip
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0, max_digits=14, decimal_places=3, required=False,
                                  help_text=_("In the unit shown next to the input (kg, L or pieces)."))  # fmt: skip
    tolerance = forms.DecimalField(label=_("Tolerance"), min_value=0, max_digits=14, decimal_places=3,
                                   required=False,
                                   help_text=_("How much more the member accepts to fill a pack."))  # fmt: skip

    def __init__(self, *args, products=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.products = {p.pk: p for p in products}
        self.fields["product"].choices = [(p.pk, f"{p.name} ({unit_of(p)[0]})") for p in products]

    def clean(self):
        data = super().clean()
        product = self.products.get(data.get("product"))
        if product is None:
            return data
        _label, factor = unit_of(product)
        sign = -1 if data.get("action") == self.REMOVE else 1
        for field in ("quantity", "tolerance"):
            value = data.get(field) or Decimal(0)
            base = value * factor
            if base != base.to_integral_value():
                self.add_error(field, _("Too many decimals for this unit."))
                continue
            data[f"{field}_delta"] = sign * int(base)
        if not self.errors and not data.get("quantity_delta") and not data.get("tolerance_delta"):
            self.add_error("quantity", _("Give a quantity or a tolerance."))
        return data
