"""A member farmer's statement as PDF (ReportLab) and the short SMS sent once per payout.

Output is deterministic for the same data, so a statement can be compared and archived.
"""

from __future__ import annotations

from html import escape
from io import BytesIO

from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from marketplace.core.money import Money, minor_unit_exponent
from marketplace.core.sms_segments import segment_count
from payments.payouts.models import PayoutLine
from payments.payouts.selectors import Statement

SMS_LIMIT = 160
SMS_MAX_SEGMENTS = 2  # one accented letter makes it UCS-2: 2 segments are 134 characters

_styles = getSampleStyleSheet()
BODY = ParagraphStyle("payout-body", parent=_styles["BodyText"], fontSize=9, leading=12)
HEAD = ParagraphStyle("payout-head", parent=BODY, fontName="Helvetica-Bold", spaceBefore=8)
TITLE = ParagraphStyle("payout-title", parent=_styles["Title"], fontSize=16, alignment=0, spaceAfter=4)


# --- SMS ---------------------------------------------------------------------------------------------


def _figure(amount: int, currency: str) -> str:
    """An amount without its currency: 1234567 XOF → "1,234,567"."""
    exponent = minor_unit_exponent(currency)
    return f"{Money(amount, currency).to_decimal():,.{exponent}f}"


def sms_text(line: PayoutLine, *, organisation_name: str, language: str = "en") -> str:
    """At most 160 characters: who pays, the reference, gross, levy, credit deducted and what was paid."""
    currency = line.batch.currency
    values = {
        "coop": organisation_name[:24].strip(),
        "reference": line.reference,
        "gross": _figure(line.gross_amount, currency),
        "levy": _figure(line.levy_amount, currency),
        "credit": _figure(line.credit_amount, currency),
        "net": _figure(line.net_amount, currency),
        "currency": currency,
    }
    with translation.override(language):
        candidates = [
            _("%(coop)s: payout %(reference)s. Sales %(gross)s, levy %(levy)s, input credit %(credit)s. "
              "Paid to you: %(net)s %(currency)s.") % values,
            _("Payout %(reference)s: sales %(gross)s, levy %(levy)s, credit %(credit)s, paid %(net)s %(currency)s.")
            % values,
            _("Payout %(reference)s: paid %(net)s %(currency)s.") % values,
        ]  # fmt: skip
    for text in candidates:
        if len(text) <= SMS_LIMIT and segment_count(text) <= SMS_MAX_SEGMENTS:
            return text
    return candidates[-1][:SMS_LIMIT]


# --- PDF ---------------------------------------------------------------------------------------------


def _p(text, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def _table(rows: list[list], widths: list[float], *, total_rows: int = 0) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    style = [
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
        ("FONT", (0, 1), (-1, -1), "Helvetica", 8),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if total_rows:
        style += [
            ("LINEABOVE", (0, -total_rows), (-1, -total_rows), 0.6, colors.black),
            ("FONT", (0, -total_rows), (-1, -1), "Helvetica-Bold", 8),
        ]
    table.setStyle(TableStyle(style))
    return table


def _kg(grams: int) -> str:
    return f"{grams / 1000:,.1f} kg"


def statement_filename(statement: Statement) -> str:
    return f"statement-{statement.farmer.member_number}.pdf"


def statement_pdf(statement: Statement) -> bytes:
    farmer, organisation = statement.farmer, statement.organisation
    story: list = [
        _p(_("Member statement"), TITLE),
        _p(f"{organisation.legal_name}\n{farmer.name} ({_('member number')} {farmer.member_number})"
           + (f"\n{farmer.phone}" if farmer.phone else "")),
        _p(_("Generated on %(date)s") % {"date": statement.generated_at.date().isoformat()}),
    ]  # fmt: skip

    story.append(_p(_("Deliveries"), HEAD))
    if statement.deliveries:
        rows = [[_("Receipt"), _("Date"), _("Commodity and grade"), _("Net weight")]]
        rows += [
            [d.receipt_number, d.delivered_on.isoformat(), f"{d.commodity.name} – {d.grade.name}", _kg(d.net_grams)]
            for d in statement.deliveries
        ]
        rows.append([_("Total"), "", "", _kg(statement.delivered_grams)])
        story.append(_table(rows, [40 * mm, 30 * mm, 80 * mm, 30 * mm], total_rows=1))
    else:
        story.append(_p(_("No delivery yet.")))

    story.append(_p(_("Lots"), HEAD))
    if statement.contributions:
        rows = [[_("Lot"), _("Grade"), _("Delivery"), _("Your share")]]
        rows += [
            [c.lot.code, c.lot.grade.name, c.delivery.receipt_number, _kg(c.grams)] for c in statement.contributions
        ]
        story.append(_table(rows, [50 * mm, 50 * mm, 50 * mm, 30 * mm]))
    else:
        story.append(_p(_("Not in any lot yet.")))

    story.append(_p(_("Sales"), HEAD))
    if statement.sales:
        rows = [[_("Order"), _("Lot"), _("Grade"), _("Your grams"), _("Your share")]]
        rows += [
            [s.order.number, s.lot.code, s.grade.name, _kg(s.grams), str(Money(s.amount, s.line.batch.currency))]
            for s in statement.sales
        ]
        story.append(_table(rows, [35 * mm, 45 * mm, 35 * mm, 30 * mm, 35 * mm]))
    else:
        story.append(_p(_("No sale paid out yet.")))

    story.append(_p(_("Payouts"), HEAD))
    if statement.payouts:
        rows = [[_("Payout"), _("Status"), _("Gross"), _("Levy"), _("Credit deducted"), _("Net"), _("Paid on")]]
        for line in statement.payouts:
            currency = line.batch.currency
            rows.append([
                line.reference, line.batch.get_status_display(), _figure(line.gross_amount, currency),
                _figure(line.levy_amount, currency), _figure(line.credit_amount, currency),
                _figure(line.net_amount, currency), line.paid_at.date().isoformat() if line.paid_at else "—",
            ])  # fmt: skip
        for t in statement.totals:
            rows.append([
                _("Total (%(currency)s)") % {"currency": t.currency}, "", _figure(t.gross, t.currency),
                _figure(t.levy, t.currency), _figure(t.credit, t.currency), _figure(t.net, t.currency),
                _figure(t.paid, t.currency),
            ])  # fmt: skip
        story.append(_table(rows, [32 * mm, 22 * mm, 26 * mm, 22 * mm, 26 * mm, 26 * mm, 26 * mm],
                            total_rows=len(statement.totals)))  # fmt: skip
    else:
        story.append(_p(_("No payout yet.")))
    if statement.outstanding_credit:
        story.append(Spacer(1, 4 * mm))
        owed = ", ".join(str(m) for m in statement.outstanding_credit)
        story.append(_p(_("Input credit still outstanding: %(amount)s") % {"amount": owed}))

    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=15 * mm,
        title=_("Member statement"), author=organisation.legal_name, invariant=1,
    )  # fmt: skip
    doc.build(story)
    return buffer.getvalue()
