"""Invoices: numbered per seller and year without gaps, under a row lock on the seller's counter."""

from django.utils import timezone

from orders.models import Invoice, InvoiceSequence, Order


def invoice_number(year: int, sequence: int) -> str:
    return f"INV-{year}-{sequence:05d}"


def invoice_issue(*, order: Order, amount: int) -> Invoice:
    """Issue the order's invoice inside the caller's transaction: the counter row stays locked until commit, so
    concurrent invoices of one seller queue up, and a rolled-back transaction gives its number back."""
    existing = Invoice.objects.filter(order=order).first()
    if existing is not None:
        return existing
    year = timezone.localdate().year
    InvoiceSequence.objects.bulk_create(
        [InvoiceSequence(seller_id=order.seller_id, year=year, last_value=0)], ignore_conflicts=True
    )
    counter = InvoiceSequence.objects.select_for_update().get(seller_id=order.seller_id, year=year)
    counter.last_value += 1
    counter.save(update_fields=["last_value"])
    return Invoice.objects.create(
        order=order,
        seller_id=order.seller_id,
        year=year,
        sequence=counter.last_value,
        number=invoice_number(year, counter.last_value),
        amount=amount,
        currency=order.currency,
    )
