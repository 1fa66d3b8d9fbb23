"""The order's documents as PDF, drawn with ReportLab from what the order stores: the purchase order (from
placement), the delivery note (once dispatched) and the invoice (numbered per seller at dispatch). Each names
the seller's and the buyer's legal details. Output is deterministic for the same order."""

from html import escape
from io import BytesIO

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from marketplace.core.money import Money
from marketplace.organisations.models import Organisation
from orders.models import Order, OrderLine
from orders.services.pricing import amount_for, describe_price, describe_quantity

KINDS = {
    "purchase-order": gettext_lazy("Purchase order"),
    "delivery-note": gettext_lazy("Delivery note"),
    "invoice": gettext_lazy("Invoice"),
}

_styles = getSampleStyleSheet()
BODY = ParagraphStyle("body", parent=_styles["BodyText"], fontSize=9, leading=12)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8, leading=10, textColor=colors.HexColor("#444444"))
TITLE = ParagraphStyle("title", parent=_styles["Title"], fontSize=18, alignment=0, spaceAfter=4)
HEAD = ParagraphStyle("head", parent=BODY, fontName="Helvetica-Bold")


def available(order: Order, kind: str) -> bool:
    if kind == "purchase-order":
        return True
    if kind == "delivery-note":
        return hasattr(order, "dispatch")
    if kind == "invoice":
        return hasattr(order, "invoice")
    return False


def _p(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def _party(label: str, organisation: Organisation) -> list:
    lines = [organisation.legal_name]
    if organisation.display_name and organisation.display_name != organisation.legal_name:
        lines.append(f"({organisation.display_name})")
    if organisation.address:
        lines.append(organisation.address)
    place = ", ".join(part for part in [organisation.region, organisation.country.name] if part)
    if place:
        lines.append(place)
    lines.append(_("Registration no. %(number)s") % {"number": organisation.registration_number})
    if organisation.gln:
        lines.append(f"GLN {organisation.gln}")
    if organisation.email:
        lines.append(str(organisation.email))
    if organisation.phone:
        lines.append(str(organisation.phone))
    return [_p(label, HEAD), _p("\n".join(lines))]


def _table(rows: list[list], widths: list[float], *, total_rows: int = 0) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    style = [
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
        ("FONT", (0, 1), (-1, -1), "Helvetica", 8),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
        ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if total_rows:
        style += [
            ("LINEABOVE", (0, -total_rows), (-1, -total_rows), 0.6, colors.black),
            ("FONT", (0, -total_rows), (-1, -1), "Helvetica-Bold", 8),
        ]
    table.setStyle(TableStyle(style))
    return table


def _line_label(line: OrderLine) -> str:
    parts = [line.description]
    if line.grade is not None:
        parts.append(line.grade.name)
    if line.lot is not None:
        parts.append(_("lot %(code)s") % {"code": line.lot.code})
    return " · ".join(parts)


def _header(order: Order, kind: str, number: str, day) -> list:
    story = [
        _p(KINDS[kind], TITLE),
        _p(
            _("%(kind)s no. %(number)s · date %(day)s")
            % {"kind": KINDS[kind], "number": number, "day": f"{day:%Y-%m-%d}"},
            HEAD,
        ),
        _p(
            _("Order %(order)s · purchase %(purchase)s · placed %(placed)s · currency %(currency)s")
            % {
                "order": order.number,
                "purchase": order.purchase.reference if order.purchase else "—",
                "placed": f"{order.created_at:%Y-%m-%d}",
                "currency": order.currency,
            },
            SMALL,
        ),
        Spacer(1, 6 * mm),
    ]
    parties = Table(
        [[_party(_("Seller"), order.seller), _party(_("Buyer"), order.buyer)]], colWidths=[88 * mm, 88 * mm]
    )
    parties.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return [*story, parties, Spacer(1, 6 * mm)]


def _purchase_order(order: Order, lines: list[OrderLine]) -> list:
    rows = [[_("Item"), "", _("Quantity"), _("Unit price"), _("Line total")]]
    for line in lines:
        rows.append([
            _p(_line_label(line)), "", describe_quantity(line.quantity, line.quantity_unit),
            describe_price(line.unit_price_amount, order.currency, line.price_unit), str(line.line_total),
        ])  # fmt: skip
    rows.append([_("Total"), "", "", "", str(order.total)])
    story = [_table(rows, [70 * mm, 4 * mm, 30 * mm, 36 * mm, 36 * mm], total_rows=1), Spacer(1, 4 * mm)]
    for line in lines:
        prices = list(line.grade_prices.all())
        if prices:
            agreed = "; ".join(
                f"{p.grade.name}: {describe_price(p.unit_price_amount, order.currency, line.price_unit)}"
                for p in prices
            )
            story.append(
                _p(
                    _("Prices agreed for other grades (%(item)s): %(prices)s.")
                    % {"item": line.description, "prices": agreed},
                    SMALL,
                )
            )
    story.append(
        _p(
            _("The seller accepts this order by %(time)s UTC or it lapses.")
            % {"time": f"{order.accept_by:%Y-%m-%d %H:%M}"},
            SMALL,
        )
    )
    if order.purchase and order.purchase.note:
        story.append(_p(_("Buyer's note: %(note)s") % {"note": order.purchase.note}, SMALL))
    return story


def _delivery_note(order: Order, lines: list[OrderLine]) -> list:
    dispatch = order.dispatch
    facts = [
        _("Dispatched on %(day)s") % {"day": f"{dispatch.dispatched_on:%Y-%m-%d}"},
        _("document no. %(number)s") % {"number": dispatch.document_number},
    ]
    if dispatch.vehicle:
        facts.append(_("vehicle %(vehicle)s") % {"vehicle": dispatch.vehicle})
    if dispatch.driver:
        facts.append(_("driver %(driver)s") % {"driver": dispatch.driver})
    rows = [[_("Item"), "", _("Ordered"), _("Dispatched"), _("Received")]]
    for line in lines:
        rows.append([
            _p(_line_label(line)), "", describe_quantity(line.quantity, line.quantity_unit),
            describe_quantity(line.quantity_dispatched or 0, line.quantity_unit),
            "" if line.quantity_received is None else describe_quantity(line.quantity_received, line.quantity_unit),
        ])  # fmt: skip
    story = [_p(" · ".join(facts)), Spacer(1, 4 * mm), _table(rows, [70 * mm, 4 * mm, 34 * mm, 34 * mm, 34 * mm])]
    receipt = getattr(order, "receipt", None)
    if receipt is not None:
        story += [Spacer(1, 4 * mm), _p(_("Received on %(day)s.") % {"day": f"{receipt.received_on:%Y-%m-%d}"}, SMALL)]
        if receipt.inspection_notes:
            story.append(_p(_("Inspection: %(notes)s") % {"notes": receipt.inspection_notes}, SMALL))
    story += [
        Spacer(1, 12 * mm),
        _p(_("Received in good order by (name, signature, date):") + " ______________________"),
    ]
    return story


def _invoice(order: Order, lines: list[OrderLine]) -> list:
    invoice = order.invoice
    rows = [[_("Item"), "", _("Quantity"), _("Unit price"), _("Amount")]]
    for line in lines:
        shipped = line.quantity_dispatched or 0
        amount = amount_for(shipped, line.unit_price_amount, line.price_unit)
        rows.append([
            _p(_line_label(line)), "", describe_quantity(shipped, line.quantity_unit),
            describe_price(line.unit_price_amount, order.currency, line.price_unit), str(Money(amount, order.currency)),
        ])  # fmt: skip
    rows.append([_("Amount invoiced"), "", "", "", str(Money(invoice.amount, invoice.currency))])
    story = [_table(rows, [70 * mm, 4 * mm, 30 * mm, 36 * mm, 36 * mm], total_rows=1)]
    if order.payment_reference:
        story.append(
            _p(
                _("Paid into escrow on CoopMarket, payment reference %(reference)s.")
                % {"reference": order.payment_reference},
                SMALL,
            )
        )
    if order.amount_due is not None:
        story += [Spacer(1, 5 * mm), _p(_("Settlement after receipt"), HEAD)]
        for line in lines:
            for reason in (line.settlement or {}).get("reasons", []):
                story.append(_p(f"• {reason}", SMALL))
        story.append(
            _p(_("Amount due after receipt: %(amount)s") % {"amount": Money(order.amount_due, order.currency)}, HEAD)
        )
        dispute = getattr(order, "dispute", None)
        if dispute is not None and dispute.decision:
            story.append(
                _p(
                    _("Dispute decided %(day)s: %(decision)s, refund %(refund)s.")
                    % {
                        "day": f"{dispute.decided_at:%Y-%m-%d}",
                        "decision": dispute.get_decision_display(),
                        "refund": Money(dispute.refund_amount or 0, order.currency),
                    }
                    + f" {dispute.decision_reasons}",
                    SMALL,
                )
            )
    return story


def document_language(order: Order, kind: str) -> str:
    """The language a document is drawn in: the preferred language of the organisation it is for (the seller
    receives the purchase order; the buyer the delivery note and the invoice), else the site's default. Everyone
    who downloads it gets the same document."""
    supported = {code for code, _name in settings.LANGUAGES}
    organisation = order.seller if kind == "purchase-order" else order.buyer
    for code in (organisation.preferred_language, settings.LANGUAGE_CODE):
        if code in supported:
            return code
    return "en"


def render(order: Order, kind: str, *, language: str | None = None) -> bytes:
    """The PDF of one of the order's documents; the caller checks it is `available`. `language` None: the
    language of the organisation the document is for (see `document_language`)."""
    with translation.override(language or document_language(order, kind)):
        return _render(order, kind)


def _render(order: Order, kind: str) -> bytes:
    lines = list(order.lines.all())
    if kind == "purchase-order":
        number, day, body = order.number, order.created_at, _purchase_order(order, lines)
    elif kind == "delivery-note":
        number, day, body = f"{order.number}-DN", order.dispatch.dispatched_on, _delivery_note(order, lines)
    elif kind == "invoice":
        number, day, body = order.invoice.number, order.invoice.issued_at, _invoice(order, lines)
    else:
        raise ValueError(kind)
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=17 * mm, rightMargin=17 * mm, topMargin=15 * mm, bottomMargin=15 * mm,
        title=f"{KINDS[kind]} {number}", author=order.seller.legal_name, creator="CoopMarket", invariant=1,
    )  # fmt: skip
    footer = f"CoopMarket · {KINDS[kind]} {number}"

    def on_page(canvas, doc):
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(17 * mm, 8 * mm, f"{footer} · " + _("page %(number)s") % {"number": doc.page})
        canvas.restoreState()

    document.build([*_header(order, kind, number, day), *body], onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()


def filename(order: Order, kind: str) -> str:
    number = order.invoice.number if kind == "invoice" else order.number
    return f"{kind}-{number}.pdf"
