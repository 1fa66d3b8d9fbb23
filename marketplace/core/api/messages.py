"""Error messages the API translates by the client's Accept-Language (LocaleMiddleware picks the language).

The exception handler (`errors.py`) looks every error message and field message up in the catalogues, so any
fixed message below, raised by our services or by Django REST framework, reaches the client in its language.
Messages built with values (f-strings) stay as written. DRF ships French but no Swahili: its frequent messages
are listed here so our own catalogue carries them in Swahili (and keeps them when `make messages` runs).
"""

from django.utils.translation import gettext_noop

# Django REST framework's own messages (exact msgids of rest_framework's catalogue).
DRF = [
    gettext_noop("This field is required."),
    gettext_noop("This field may not be null."),
    gettext_noop("This field may not be blank."),
    gettext_noop("This list may not be empty."),
    gettext_noop("A valid integer is required."),
    gettext_noop("A valid number is required."),
    gettext_noop("Not a valid string."),
    gettext_noop("Must be a valid boolean."),
    gettext_noop("Enter a valid email address."),
    gettext_noop("Ensure this value is less than or equal to {max_value}."),
    gettext_noop("Ensure this value is greater than or equal to {min_value}."),
    gettext_noop("Ensure this field has no more than {max_length} characters."),
    gettext_noop("Ensure that there are no more than {max_digits} digits in total."),
    gettext_noop('"{input}" is not a valid choice.'),
    gettext_noop('Expected a list of items but got type "{input_type}".'),
    gettext_noop("Invalid data. Expected a dictionary, but got {datatype}."),
    gettext_noop('Invalid pk "{pk_value}" - object does not exist.'),
    gettext_noop("Date has wrong format. Use one of these formats instead: {format}."),
    gettext_noop("Datetime has wrong format. Use one of these formats instead: {format}."),
    gettext_noop("Not found."),
    gettext_noop("Authentication credentials were not provided."),
    gettext_noop("Incorrect authentication credentials."),
    gettext_noop("Invalid token."),
    gettext_noop("Invalid token header. No credentials provided."),
    gettext_noop("User inactive or deleted."),
    gettext_noop("You do not have permission to perform this action."),
    gettext_noop('Method "{method}" not allowed.'),
    gettext_noop("Malformed request."),
    gettext_noop('Unsupported media type "{media_type}" in request.'),
    gettext_noop("Request was throttled."),
    gettext_noop("Invalid page."),
    gettext_noop("A server error occurred."),
]

# Our services' fixed messages that API clients meet most.
OURS = [
    gettext_noop("The request is invalid."),
    gettext_noop("No such order."),
    gettext_noop("No such lot."),
    gettext_noop("No such organisation."),
    gettext_noop("No such cooperative."),
    gettext_noop("No such member farmer."),
    gettext_noop("No such listing."),
    gettext_noop("No such offer."),
    gettext_noop("No such ordering window."),
    gettext_noop("No such group order."),
    gettext_noop("No such payment."),
    gettext_noop("No such payout batch."),
    gettext_noop("No such payout."),
    gettext_noop("No such plot."),
    gettext_noop("No such delivery."),
    gettext_noop("No such decision."),
    gettext_noop("No such proposal."),
    gettext_noop("No such request."),
    gettext_noop("No such invitation."),
    gettext_noop("Only the platform operator may do this."),
    gettext_noop("This invitation link is not valid."),
    gettext_noop("This plot is not the farmer's."),
    gettext_noop("This window does not collect that product."),
    gettext_noop("No member of this cooperative has that number."),
    gettext_noop("Give a quantity or a tolerance to add (positive) or remove (negative)."),
]
