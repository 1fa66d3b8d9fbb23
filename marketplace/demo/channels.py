"""Demo data for the farmers' channel: one member per cooperative has a PIN, so the USSD menu and the SMS keywords
can be tried from the command line (README, "Try the farmers' USSD menu"). The Kenyan member uses Swahili."""

from typing import TextIO

from marketplace.channels.models import FarmerPin
from marketplace.channels.services import farmer_channel_update
from marketplace.demo.organisations import COOPERATIVES, account, organisation
from marketplace.organisations.models import MemberFarmer
from payments.payouts.models import PayoutBatch, PayoutLine

DEMO_PIN = "2580"
LANGUAGES = {"maize-transnzoia": "sw"}


def demo_farmer(coop_key: str) -> MemberFarmer:
    """The cooperative's first active member with a phone, preferring one in a payout batch (executing the batch in
    the demo then shows on the member's balance)."""
    coop = organisation(coop_key)
    members = MemberFarmer.objects.filter(organisation=coop, status=MemberFarmer.Status.ACTIVE).exclude(phone="")
    paid = (
        PayoutLine.objects.filter(farmer__in=members)
        .exclude(batch__status=PayoutBatch.Status.CANCELLED)
        .order_by("farmer__member_number")
        .values_list("farmer_id", flat=True)
        .first()
    )
    if paid is not None:
        return members.get(pk=paid)
    return members.order_by("member_number").first()


def seed(*, stdout: TextIO) -> None:
    created = 0
    for coop in COOPERATIVES:
        farmer = demo_farmer(coop.key)
        if farmer is None or FarmerPin.objects.filter(farmer=farmer).exists():
            continue
        farmer_channel_update(
            actor=account(f"clerk@{coop.key}.demo"),
            farmer_id=farmer.pk,
            pin=DEMO_PIN,
            pin_again=DEMO_PIN,
            language=LANGUAGES.get(coop.key, farmer.language),
        )
        created += 1
        stdout.write(f"channels: {farmer.member_number} {farmer.name} {farmer.phone} has PIN {DEMO_PIN}\n")
    stdout.write(f"channels: {created} PINs set\n")
