"""Form fields with the same limits as the API's (marketplace.core.bounds): a page refuses what the API refuses."""

from django import forms

from marketplace.core.bounds import int_bounds


class BoundedIntegerField(forms.IntegerField):
    def __init__(self, *, column=None, domain: str | None = None, **kwargs):
        low, high = int_bounds(
            column=column,
            domain=domain,
            min_value=kwargs.pop("min_value", None),
            max_value=kwargs.pop("max_value", None),
        )
        super().__init__(min_value=low, max_value=high, **kwargs)


class IdField(BoundedIntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("domain", "id")
        super().__init__(**kwargs)
