"""Form widgets shared by the apps."""

from django import forms


class IsoDateInput(forms.DateInput):
    """`<input type="date">`: its value is YYYY-MM-DD in every language (a localised date leaves it blank)."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")
