"""Identifiers for things the events name: locations, parties, lots, deliveries, farmers, plots, orders.

GS1 Digital Link URIs (https://id.gs1.org/...) are used only where the organisation has registered GS1 keys:
its GLN (`Organisation.gln`) for locations (AI 414, with AI 254 for a sub-location) and parties (AI 417), and
a product's GTIN for lots (AI 01 + AI 10). Nothing here ever makes up a GS1 number: without a GLN or GTIN,
identifiers are HTTPS URIs under the deployment's own domain (`settings.SITE_BASE_URL`):

    <base>/id/org/<organisation-id>                  the organisation as a party
    <base>/id/location/<organisation-id>[/<code>]     the organisation's site or one of its sites
    <base>/id/lot/<organisation-id>/<lot-code>        a lot of produce
    <base>/id/delivery/<organisation-id>/<reference>  one member delivery (the produce as delivered)
    <base>/id/farmer/<farmer-id>                      a member farmer (a party)
    <base>/id/plot/<plot-id>                          a plot (a location)
    <base>/id/order/<number>                          a platform order (a business transaction)
    <base>/id/receipt/<number>                        a goods receipt (a business transaction)
    <base>/voc/<term>                                 this deployment's extension vocabulary

Orders may also be written `order:<number>`; `order_uri` and `parse_order` convert between the two.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from django.conf import settings
from django.utils.translation import gettext

from marketplace.core.errors import ValidationFailed
from marketplace.core.validators import gs1_check_digit

GS1_RESOLVER = "https://id.gs1.org"
ORDER_PREFIX = "order:"

_GLN_RE = re.compile(r"^\d{13}$")
_GTIN_RE = re.compile(r"^(\d{8}|\d{12}|\d{13}|\d{14})$")
# GS1 AI (10) batch/lot and AI (254) extension: up to 20 characters of GS1 AI encodable character set 82.
_GS1_CSET82_RE = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$")


def base_url() -> str:
    return settings.SITE_BASE_URL.rstrip("/")


def _segment(value: Any) -> str:
    text = str(value).strip()
    if not text:
        raise ValidationFailed("An identifier part is empty.")
    return quote(text, safe="")


def _valid_gln(gln: str) -> bool:
    return bool(_GLN_RE.match(gln or "")) and gs1_check_digit(gln[:-1]) == int(gln[-1])


def gtin14(gtin: str) -> str:
    """A GTIN-8/12/13/14 as the 14 digits Digital Link uses, after checking its check digit."""
    gtin = (gtin or "").strip()
    if not _GTIN_RE.match(gtin) or gs1_check_digit(gtin[:-1]) != int(gtin[-1]):
        raise ValidationFailed(
            gettext("%(gtin)s is not a valid GTIN: it needs 8, 12, 13 or 14 digits with a correct check digit.")
            % {"gtin": repr(gtin)},
            fields={"gtin": "Check the number with your GS1 office."},
        )
    return gtin.zfill(14)


# --- Parties and locations --------------------------------------------------------------


def organisation_uri(organisation) -> str:
    """The organisation as a party (owning or possessing party in source and destination lists)."""
    if organisation.gln and _valid_gln(organisation.gln):
        return f"{GS1_RESOLVER}/417/{organisation.gln}"
    return f"{base_url()}/id/org/{organisation.pk}"


def location_uri(organisation, code: str = "") -> str:
    """The organisation's site (read point or business location), or one of its sites named by `code`.

    With a GLN the site is https://id.gs1.org/414/<GLN>, and a sub-site uses the GLN extension component
    (AI 254), which must then fit GS1's rules (at most 20 characters of the GS1 character set).
    """
    if organisation.gln and _valid_gln(organisation.gln):
        uri = f"{GS1_RESOLVER}/414/{organisation.gln}"
        if code:
            if not _GS1_CSET82_RE.match(code):
                raise ValidationFailed(
                    gettext("%(code)s cannot be a GLN extension: use at most 20 letters, digits or GS1 punctuation.")
                    % {"code": repr(code)},
                    fields={"location": "Shorten or simplify the site code."},
                )
            uri += f"/254/{quote(code, safe='')}"
        return uri
    uri = f"{base_url()}/id/location/{organisation.pk}"
    return f"{uri}/{_segment(code)}" if code else uri


def farmer_uri(farmer) -> str:
    return f"{base_url()}/id/farmer/{farmer.pk}"


def plot_uri(plot) -> str:
    return f"{base_url()}/id/plot/{plot.pk}"


# --- Lots -----------------------------------------------------------------------------


def lot_uri(*, organisation, lot_code: str, gtin: str = "") -> str:
    """A lot: https://id.gs1.org/01/<GTIN>/10/<lot> when the product has a GTIN, else <base>/id/lot/<org>/<code>."""
    if gtin:
        if not _GS1_CSET82_RE.match(lot_code or ""):
            raise ValidationFailed(
                gettext(
                    "%(lot_code)s cannot be a GS1 batch/lot number: use at most 20 letters, digits or GS1 punctuation."
                )
                % {"lot_code": repr(lot_code)},
                fields={"lot_code": "Shorten or simplify the lot code."},
            )
        return f"{GS1_RESOLVER}/01/{gtin14(gtin)}/10/{quote(lot_code, safe='')}"
    return f"{base_url()}/id/lot/{organisation.pk}/{_segment(lot_code)}"


def delivery_uri(*, organisation, reference: Any) -> str:
    """One member delivery's produce, before it is bulked into a lot."""
    return f"{base_url()}/id/delivery/{organisation.pk}/{_segment(reference)}"


def lot_code_of(uri: str) -> str:
    """The lot code at the end of a lot URI (either form), or '' if the URI is not a lot URI."""
    path = urlsplit(uri).path
    parts = path.strip("/").split("/")
    if uri.startswith(GS1_RESOLVER) and len(parts) >= 4 and parts[0] == "01" and parts[2] == "10":
        return unquote(parts[3])
    if uri.startswith(base_url()) and len(parts) >= 4 and parts[-4:-2] == ["id", "lot"]:
        return unquote(parts[-1])
    return ""


def farmer_id_of(uri: str) -> int | None:
    """The member farmer id named by a farmer URI of this deployment (see `farmer_uri`), else None."""
    prefix = f"{base_url()}/id/farmer/"
    text = (uri or "").strip()
    if text.startswith(prefix) and text[len(prefix) :].isdigit():
        return int(text[len(prefix) :])
    return None


def plot_id_of(uri: str) -> int | None:
    """The plot id named by a plot URI of this deployment (see `plot_uri`), else None."""
    prefix = f"{base_url()}/id/plot/"
    text = (uri or "").strip()
    if text.startswith(prefix) and text[len(prefix) :].isdigit():
        return int(text[len(prefix) :])
    return None


def delivery_reference_of(uri: str) -> tuple[int, str] | None:
    """(organisation id, reference) named by a delivery URI of this deployment (see `delivery_uri`), else None."""
    prefix = f"{base_url()}/id/delivery/"
    text = (uri or "").strip()
    if not text.startswith(prefix):
        return None
    organisation, _, reference = text[len(prefix) :].partition("/")
    if not organisation.isdigit() or not reference or "/" in reference:
        return None
    return int(organisation), unquote(reference)


# --- Business transactions --------------------------------------------------------------


def order_uri(number: Any) -> str:
    """An order: accepts a number or `order:<number>` and returns <base>/id/order/<number>."""
    text = str(number).strip()
    if text.startswith(ORDER_PREFIX):
        text = text[len(ORDER_PREFIX) :]
    return f"{base_url()}/id/order/{_segment(text)}"


def receipt_uri(number: Any) -> str:
    return f"{base_url()}/id/receipt/{_segment(number)}"


def parse_order(identifier: str) -> str | None:
    """The order number named by `order:<n>` or by an order URI of this deployment, else None."""
    text = (identifier or "").strip()
    if text.startswith(ORDER_PREFIX) and len(text) > len(ORDER_PREFIX):
        return text[len(ORDER_PREFIX) :]
    prefix = f"{base_url()}/id/order/"
    if text.startswith(prefix) and len(text) > len(prefix):
        return unquote(text[len(prefix) :])
    return None


# --- Vocabulary and checks ------------------------------------------------------------------


def vocabulary_uri(term: str) -> str:
    """A term of this deployment's extension vocabulary (e.g. a measurement type CBV lacks, like moisture)."""
    return f"{base_url()}/voc/{_segment(term)}"


def is_uri(value: Any) -> bool:
    """An absolute URI without spaces (`https://...`, `urn:...`, `ni:///...`)."""
    if not isinstance(value, str) or not value or len(value) > 500:
        return False
    if any(ch.isspace() for ch in value) or "\x00" in value:
        return False
    parts = urlsplit(value)
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*$", parts.scheme or "")) and bool(
        parts.netloc or parts.path or parts.query
    )
