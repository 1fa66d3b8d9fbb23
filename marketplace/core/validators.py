"""Validators for identifiers and codes used across apps."""

import pycountry
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def gs1_check_digit(digits: str) -> int:
    """GS1 mod-10 check digit for the digits that precede it."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def validate_gln(value: str) -> None:
    if not (len(value) == 13 and value.isdigit()):
        raise ValidationError(_("A GLN is exactly 13 digits."), code="invalid_gln")
    if gs1_check_digit(value[:-1]) != int(value[-1]):
        raise ValidationError(
            _("This GLN's check digit is wrong; check the number with your GS1 office."), code="invalid_gln"
        )


def validate_currency(value: str) -> None:
    if not (len(value) == 3 and value.isupper() and pycountry.currencies.get(alpha_3=value)):
        raise ValidationError(
            _("%(value)s is not an ISO 4217 currency code (for example XOF, RWF or KES)."),
            code="invalid_currency",
            params={"value": value},
        )


def validate_language(value: str) -> None:
    if not (len(value) == 2 and pycountry.languages.get(alpha_2=value)):
        raise ValidationError(
            _("%(value)s is not an ISO 639-1 language code (for example en, fr or sw)."),
            code="invalid_language",
            params={"value": value},
        )
