"""E-mail and SMS to a cooperative when a proposal names one of its listings.

The part is claimed first with a conditional UPDATE (notified_at from empty to now) and committed, so no lock is
held while the mail server or SMS gateway is called and a second run sends nothing."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from marketplace.core.money import Money
from marketplace.core.sms import send_sms
from marketplace.matching.models import Proposal, ProposalPart
from marketplace.organisations.models import Membership

SMS_LIMIT = 320


def proposal_part_notify(*, part_id: int) -> bool:
    with transaction.atomic():
        claimed = ProposalPart.objects.filter(
            pk=part_id, notified_at__isnull=True, proposal__status=Proposal.Status.OPEN
        ).update(notified_at=timezone.now())
    if not claimed:
        return False
    part = ProposalPart.objects.select_related("proposal__request__commodity", "listing", "seller").get(pk=part_id)
    request = part.proposal.request
    seller = part.seller
    language = seller.preferred_language or "en"
    with translation.override(language):
        tonnes = f"{part.grams / 1_000_000:g}"
        price = Money(part.price_per_tonne_minor, request.currency)
        text = _(
            "CoopMarket: a buyer's request for %(commodity)s could take %(tonnes)s t of your listing "
            "'%(listing)s' at %(price)s per tonne, %(km)s km away. Answer by %(when)s: %(url)s"
        ) % {
            "commodity": request.commodity.name,
            "tonnes": tonnes,
            "listing": part.listing.title,
            "price": price,
            "km": part.distance_km,
            "when": timezone.localtime(part.proposal.expires_at).strftime("%Y-%m-%d %H:%M"),
            "url": reverse("api-matching-proposal-detail", args=[part.proposal_id]),
        }
        subject = _("A proposal names your listing %(listing)s") % {"listing": part.listing.title}
    emails = sorted(
        set(
            Membership.objects.filter(
                organisation=seller, user__is_active=True, role__in=["admin", "manager"]
            ).values_list("user__email", flat=True)
        )
    )
    if emails:
        send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, emails)
    if seller.phone:
        send_sms(to=str(seller.phone), body=text[:SMS_LIMIT])
    return True
