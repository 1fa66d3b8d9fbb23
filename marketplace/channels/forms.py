from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class FarmerChannelForm(forms.Form):
    pin = forms.CharField(
        label=_("New PIN (4 digits)"),
        required=False,
        max_length=4,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]{4}"}),
    )
    pin_again = forms.CharField(
        label=_("The same PIN again"),
        required=False,
        max_length=4,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]{4}"}),
    )
    language = forms.ChoiceField(
        label=_("Language of SMS and USSD"),
        required=False,
        choices=[("", _("The cooperative's language")), *settings.LANGUAGES],
    )
