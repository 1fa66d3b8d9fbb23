"""Validators for identifiers and codes used across apps."""

import pycountry
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from phonenumber_field.phonenumber import PhoneNumber
from phonenumber_field.phonenumber import to_python as to_phone


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


def mobile_number(value: object) -> str | None:
    """The number in international (E.164) form, or None when `value` is empty, not a phone number or invalid."""
    if not isinstance(value, str | PhoneNumber):
        return None
    parsed = to_phone(value)
    if not isinstance(parsed, PhoneNumber) or not parsed.is_valid():  # an empty value parses to ""
        return None
    return str(parsed)
