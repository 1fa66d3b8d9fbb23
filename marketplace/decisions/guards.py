"""The members' say before a cooperative submits a group input order or accepts a large buyer's order.

Named in `settings.ORDER_ACTION_GUARDS`, called by the orders app before those moves (orders cannot import this app).
A move is refused while a vote on it is pending, when the members voted against it, and when the cooperative's
defaults for that kind of decision require a vote from a size (`DecisionDefaults.vote_above_amount` /
`vote_above_kg`) and none approved it. A closed decision whose approving option won lets the move through; the
decision's own closing makes that move through the orders services (gate_actions.py).
"""

from __future__ import annotations

from django.db.models import Sum
from django.utils.translation import gettext

from marketplace.core.errors import Conflict
from marketplace.decisions.models import Decision, DecisionDefaults, Kind
from marketplace.matching.models import Consignment
from marketplace.organisations.models import Organisation
from orders.models import Order, OrderLine


def _size(action: str, obj) -> tuple[int, int | None, str]:
    """(organisation id, amount, grams or None)."""
    if action == "group_order.submit":
        return obj.buyer_id, obj.total_amount, None
    grams = OrderLine.objects.filter(order=obj, quantity_unit=OrderLine.QuantityUnit.GRAM).aggregate(
        total=Sum("quantity")
    )["total"]
    return obj.seller_id, obj.total_amount, grams


def order_action_guard(*, action: str, obj, actor) -> None:
    if action == "group_order.submit":
        kind, subject, what = Kind.GROUP_ORDER, f"group_order:{obj.pk}", f"group order {obj.reference}"
    elif action == "order.accept":
        if obj.kind != Order.Kind.PRODUCE:
            return
        if obj.purchase_id and Consignment.objects.filter(purchase_id=obj.purchase_id).exists():
            return  # from a matching proposal: the cooperative's part was accepted (and voted on, if gated) already
        kind, subject, what = Kind.PROPOSAL, f"order:{obj.pk}", f"order {obj.number}"
    else:
        return
    organisation_id, amount, grams = _size(action, obj)
    if not Organisation.objects.filter(pk=organisation_id, kind=Organisation.Kind.COOPERATIVE).exists():
        return
    latest = (
        Decision.objects.filter(organisation_id=organisation_id, subject=subject)
        .exclude(status=Decision.Status.CANCELLED)
        .select_related("winning_option")
        .order_by("-pk")
        .first()
    )
    if latest is not None:
        if latest.status == Decision.Status.CLOSED:
            if latest.winning_option is not None and latest.winning_option.approves:
                return
            raise Conflict(
                gettext("The members did not approve %(what)s (decision %(pk)s: %(outcome)s)")
                % {"what": what, "pk": latest.pk, "outcome": latest.outcome},
                code="vote_against",
            )
        raise Conflict(
            gettext(
                "The members are voting on %(what)s until %(closes_at)s UTC (decision "
                "%(pk)s); it is done if they approve it."
            )
            % {"what": what, "closes_at": format(latest.closes_at, "%d %B %Y %H:%M"), "pk": latest.pk},
            code="vote_pending",
        )
    defaults = DecisionDefaults.objects.filter(organisation_id=organisation_id, kind=kind).first()
    if defaults is None:
        return
    by_amount = defaults.vote_above_amount is not None and amount >= defaults.vote_above_amount
    by_weight = defaults.vote_above_kg is not None and grams is not None and grams >= defaults.vote_above_kg * 1000
    if by_amount or by_weight:
        raise Conflict(
            gettext(
                "The cooperative's members decide on %(what)s: put it to a vote (kind "
                "%(value)s, subject %(subject)s); it is done when they approve it."
            )
            % {"what": what, "value": kind.value, "subject": subject},
            code="vote_required",
        )
