"""Writes for matching (house rule 1): buyer requests, re-matching, answers to proposals, consignments.

Every answer to a proposal locks the proposal row first, so the parties' answers and a re-match touching the same
proposal take turns. When the buyer and every cooperative have accepted, the proposal becomes one purchase through
`orders.services.purchase_place` (one order per cooperative, the listings reserved by its conditional UPDATEs) in
a savepoint: if a listing no longer has the quantity, nothing of the purchase is written and the proposal is
withdrawn with that reason. A re-match never touches a proposal that anyone has accepted.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from catalogue.models import Certification, Commodity, Grade, Listing
from marketplace.core import outbox
from marketplace.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from marketplace.core.services import audit_record
from marketplace.core.transitions import TransitionTable, transition, transition_locked
from marketplace.matching import engine
from marketplace.matching.models import BuyerRequest, Consignment, Proposal, ProposalPart
from marketplace.organisations.models import Organisation, User
from marketplace.organisations.roles import Capability
from marketplace.organisations.selectors import organisation_for
from orders.services import LineInput, purchase_place

REQUEST_TABLE = TransitionTable(
    "buyer_request",
    {"open": {"filled", "withdrawn", "expired"}},
)
PROPOSAL_TABLE = TransitionTable(
    "proposal",
    {"open": {"accepted", "declined", "withdrawn", "expired"}},
)
PART_TABLE = TransitionTable(
    "proposal_part",
    {
        "pending": {"accepted", "declined", "countered"},
        "countered": {"accepted", "declined", "pending"},
    },
)

MAX_ROUNDS = 3
TONNE = 1_000_000
EDITABLE = (
    "commodity",
    "min_grade",
    "quantity_grams",
    "min_fill_grams",
    "min_truckload_grams",
    "max_price_per_tonne_minor",
    "currency",
    "delivery_place",
    "delivery_latitude",
    "delivery_longitude",
    "window_start",
    "window_end",
    "max_distance_km",
    "certifications",
    "eudr_required",
)


def fail(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationFailed(
            "Check the highlighted fields: " + "; ".join(f"{k}: {v}" for k, v in errors.items()), fields=errors
        )


def _round_hours() -> int:
    return getattr(settings, "MATCHING_PROPOSAL_HOURS", 48)


def transport_rate(currency: str) -> int:
    """Minor units per tonne-km for a currency (a deployment setting; 0 when the currency has none)."""
    return int(getattr(settings, "MATCHING_TRANSPORT_MINOR_PER_TONNE_KM", {}).get(currency, 0))


# --- Buyer requests ------------------------------------------------------------------------------


@dataclass
class RequestInput:
    commodity_id: int
    quantity_grams: int
    max_price_per_tonne_minor: int
    currency: str
    delivery_latitude: Decimal
    delivery_longitude: Decimal
    window_start: datetime.date
    window_end: datetime.date
    max_distance_km: int
    min_grade_id: int | None = None
    min_fill_grams: int = 0
    min_truckload_grams: int = 5_000_000
    delivery_place: str = ""
    certifications: tuple[str, ...] = ()
    eudr_required: bool = False


def _whole(value, field: str, errors: dict, *, minimum: int = 0) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        errors[field] = f"Give a whole number of at least {minimum}."
        return None
    return value


def _clean(data: RequestInput, buyer: Organisation) -> dict:
    errors: dict[str, str] = {}
    commodity = Commodity.objects.filter(pk=data.commodity_id, is_active=True).first()
    if commodity is None:
        errors["commodity"] = "Choose one of the catalogue's commodities."
    grade = None
    if data.min_grade_id is not None:
        grade = Grade.objects.filter(pk=data.min_grade_id).first()
        if grade is None or (commodity is not None and grade.commodity_id != commodity.pk):
            errors["min_grade"] = "Choose a grade of this commodity, or none."
    quantity = _whole(data.quantity_grams, "quantity_grams", errors, minimum=1)
    fill = _whole(data.min_fill_grams, "min_fill_grams", errors)
    truck = _whole(data.min_truckload_grams, "min_truckload_grams", errors)
    price = _whole(data.max_price_per_tonne_minor, "max_price_per_tonne_minor", errors, minimum=1)
    distance = _whole(data.max_distance_km, "max_distance_km", errors, minimum=1)
    if quantity and fill is not None and fill > quantity:
        errors["min_fill_grams"] = "The smallest fill cannot exceed the quantity wanted."
    if distance and distance > 5000:
        errors["max_distance_km"] = "Keep the sourcing distance within 5,000 km."
    currency = (data.currency or "").upper()
    if len(currency) != 3 or not currency.isalpha():
        errors["currency"] = "Give an ISO 4217 currency code such as XOF or EUR."
    try:
        lat, lon = Decimal(str(data.delivery_latitude)), Decimal(str(data.delivery_longitude))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["delivery_latitude"] = "Give the delivery point as latitude (-90..90) and longitude (-180..180)."
        lat = lon = Decimal(0)
    if not isinstance(data.window_start, datetime.date) or not isinstance(data.window_end, datetime.date):
        errors["window_end"] = "Give the delivery window as two dates."
    elif data.window_end < data.window_start:
        errors["window_end"] = "The window ends after it starts."
    elif data.window_end < timezone.localdate():
        errors["window_end"] = "The window has already ended."
    schemes = set(Certification.Scheme.values)
    certifications = sorted(set(data.certifications or ()))
    unknown = [c for c in certifications if c not in schemes]
    if unknown:
        errors["certifications"] = f"Unknown certification {unknown[0]!r}; choose from {', '.join(sorted(schemes))}."
    if len(data.delivery_place or "") > 120:
        errors["delivery_place"] = "Keep the place under 120 characters."
    fail(errors)
    return {
        "commodity": commodity,
        "min_grade": grade,
        "quantity_grams": quantity,
        "min_fill_grams": fill,
        "min_truckload_grams": truck,
        "max_price_per_tonne_minor": price,
        "currency": currency,
        "delivery_place": (data.delivery_place or "").strip(),
        "delivery_latitude": lat.quantize(Decimal("0.000001")),
        "delivery_longitude": lon.quantize(Decimal("0.000001")),
        "window_start": data.window_start,
        "window_end": data.window_end,
        "max_distance_km": distance,
        "certifications": certifications,
        "eudr_required": bool(data.eudr_required),
    }


def _buyer_for(actor: User, organisation_id) -> Organisation:
    buyer = organisation_for(viewer=actor, organisation_id=organisation_id, capability=Capability.DECIDE)
    if buyer.kind != Organisation.Kind.BUYER:
        raise PermissionDenied("Only a buying organisation posts requests.")
    return buyer


@transaction.atomic
def buyer_request_create(*, actor: User, buyer_id: int, data: RequestInput) -> BuyerRequest:
    buyer = _buyer_for(actor, buyer_id)
    fields = _clean(data, buyer)
    request = BuyerRequest.objects.create(buyer=buyer, created_by=actor, **fields)
    audit_record(
        actor=actor,
        action="buyer_request.created",
        subject=request,
        organisation_id=buyer.pk,
        to_status=request.status,
        data={"quantity_grams": request.quantity_grams, "commodity": request.commodity.code},
    )
    schedule_rematch(commodity_id=request.commodity_id, currency=request.currency)
    return request


def _request_for_buyer(actor: User, request_id) -> BuyerRequest:
    request = BuyerRequest.objects.select_for_update().filter(pk=request_id).first()
    if request is None:
        raise NotFound("No such request.")
    _buyer_for(actor, request.buyer_id)
    return request


@transaction.atomic
def buyer_request_update(*, actor: User, request_id: int, data: RequestInput) -> BuyerRequest:
    """Edit an open request; its open proposals are withdrawn and the commodity re-matched."""
    request = _request_for_buyer(actor, request_id)
    if request.status != BuyerRequest.Status.OPEN:
        raise DomainError(
            gettext("This request is %(status)s; it can no longer be edited.")
            % {"status": request.get_status_display().lower()}
        )
    fields = _clean(data, request.buyer)
    if fields["quantity_grams"] < request.filled_grams:
        fail({"quantity_grams": "The quantity cannot be less than what is already filled."})
    before = {"commodity_id": request.commodity_id, "currency": request.currency}
    changed = {k: str(v) for k, v in fields.items() if getattr(request, k) != v}
    for key, value in fields.items():
        setattr(request, key, value)
    request.save()
    _withdraw_open_proposals(request, actor, "The buyer changed the request.")
    audit_record(actor=actor, action="buyer_request.updated", subject=request, organisation_id=request.buyer_id,
                 data={"changed": changed})  # fmt: skip
    schedule_rematch(commodity_id=request.commodity_id, currency=request.currency)
    if before != {"commodity_id": request.commodity_id, "currency": request.currency}:
        schedule_rematch(**before)
    return request


@transaction.atomic
def buyer_request_withdraw(*, actor: User, request_id: int, reason: str = "") -> BuyerRequest:
    request = _request_for_buyer(actor, request_id)
    _withdraw_open_proposals(request, actor, "The buyer withdrew the request.")
    request = transition_locked(obj=request, table=REQUEST_TABLE, to_status=BuyerRequest.Status.WITHDRAWN,
                                actor=actor, reason=reason[:500], organisation_id=request.buyer_id)  # fmt: skip
    schedule_rematch(commodity_id=request.commodity_id, currency=request.currency)
    return request


def _withdraw_open_proposals(request: BuyerRequest, actor, reason: str) -> None:
    """Withdraw the request's open proposals that nobody has accepted yet (those with an acceptance stand)."""
    for proposal in Proposal.objects.select_for_update().filter(request=request, status=Proposal.Status.OPEN):
        if not _has_acceptance(proposal):
            _proposal_move(proposal, Proposal.Status.WITHDRAWN, actor, reason)


def _has_acceptance(proposal: Proposal) -> bool:
    return proposal.buyer_accepted_at is not None or proposal.parts.filter(status=ProposalPart.Status.ACCEPTED).exists()


def _proposal_move(proposal: Proposal, to_status: str, actor, reason: str = "") -> Proposal:
    proposal.reason = reason
    return transition_locked(obj=proposal, table=PROPOSAL_TABLE, to_status=to_status, actor=actor, reason=reason,
                             organisation_id=proposal.buyer_id, update_fields=["reason"])  # fmt: skip


# --- Re-matching ---------------------------------------------------------------------------------


def schedule_rematch(*, commodity_id: int, currency: str) -> None:
    """Re-match a commodity once this transaction commits, debounced: every change within the same window of
    MATCHING_DEBOUNCE_SECONDS shares one task, which runs at the window's end."""
    from marketplace.matching.tasks import rematch_commodity

    window = max(1, int(getattr(settings, "MATCHING_DEBOUNCE_SECONDS", 30)))
    now = timezone.now().timestamp()
    bucket = int(now // window)
    countdown = max(0, math.ceil((bucket + 1) * window - now))
    outbox.enqueue(
        rematch_commodity,
        args=[commodity_id, currency],
        key=f"matching-rematch:{commodity_id}:{currency}:{bucket}",
        countdown=countdown or None,
    )


@transaction.atomic
def listing_changed_rematch(*, listing_id: int) -> bool:
    """A listing changed (catalogue published it): schedule the debounced re-match of its commodity and currency if
    any request is open there. True when one was scheduled."""
    market = Listing.objects.filter(pk=listing_id).values_list("commodity_id", "currency").first()
    if market is None:
        return False
    commodity_id, currency = market
    if not BuyerRequest.objects.filter(
        commodity_id=commodity_id, currency=currency, status=BuyerRequest.Status.OPEN
    ).exists():
        return False
    schedule_rematch(commodity_id=commodity_id, currency=currency)
    return True


def _listing_point(listing: Listing) -> tuple[float, float] | None:
    if listing.latitude is not None and listing.longitude is not None:
        return float(listing.latitude), float(listing.longitude)
    location = listing.pickup_location
    if location is not None and location.latitude is not None and location.longitude is not None:
        return float(location.latitude), float(location.longitude)
    return None


def _eudr_ready(listing: Listing) -> bool:
    from catalogue.due_diligence import lot_package

    try:
        return bool(lot_package(listing.lot).ready)
    except Exception:  # a lot whose trace cannot be built is not ready
        return False


@dataclass
class RematchOutcome:
    proposals_created: list[int]
    proposals_kept: list[int]
    proposals_withdrawn: list[int]
    objective: int
    stale: bool = False  # results solved elsewhere were for an instance that has changed since


def matching_rematch(
    *,
    commodity_id: int,
    currency: str,
    actor: User | None = None,
    solved: list[dict] | None = None,
    fingerprint: str = "",
) -> RematchOutcome:
    """Re-match one commodity in one currency: expire what is past, solve the open requests against the live
    listings (less what proposals with an acceptance hold), keep the open proposals the new allocation repeats,
    withdraw the others with a reason, and propose the rest. One re-match per commodity at a time.

    `solved`, `fingerprint`: the components' results solved elsewhere (a chord) for the instance whose fingerprint
    is given; if the instance changed meanwhile, nothing is applied and another re-match is scheduled."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"matching:{commodity_id}:{currency}"])
        _expire(commodity_id, currency)
        return _rematch_locked(commodity_id, currency, actor, solved=solved, fingerprint=fingerprint)


def instance_fingerprint(instance: engine.Instance) -> str:
    text = json.dumps(engine.instance_to_dict(instance), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def rematch_parts(*, commodity_id: int, currency: str) -> tuple[list[dict], str]:
    """The current instance of a commodity split into its components (JSON, for solve tasks), and its fingerprint.
    Reads only (in its own transaction); the proposals are written by matching_rematch(solved=...)."""
    with transaction.atomic():
        instance = _build(commodity_id, currency)[0]
    return [engine.instance_to_dict(part) for part in engine.split(instance)], instance_fingerprint(instance)


def _expire(commodity_id: int, currency: str) -> None:
    today, now = timezone.localdate(), timezone.now()
    for pk in BuyerRequest.objects.filter(
        commodity_id=commodity_id, currency=currency, status=BuyerRequest.Status.OPEN, window_end__lt=today
    ).values_list("pk", flat=True):
        request = BuyerRequest.objects.select_for_update().get(pk=pk)
        _withdraw_open_proposals(request, None, "The request expired.")
        transition_locked(obj=request, table=REQUEST_TABLE, to_status="expired", actor=None,
                          reason="The delivery window ended.", organisation_id=request.buyer_id)  # fmt: skip
    for proposal in Proposal.objects.select_for_update().filter(
        request__commodity_id=commodity_id, request__currency=currency, status=Proposal.Status.OPEN, expires_at__lt=now
    ):
        _proposal_move(proposal, Proposal.Status.EXPIRED, None, "Not everyone answered in time.")


def _rematch_locked(commodity_id: int, currency: str, actor, *, solved=None, fingerprint="") -> RematchOutcome:
    instance, by_listing, by_request, unaccepted = _build(commodity_id, currency)
    if solved is not None:
        if instance_fingerprint(instance) != fingerprint:
            schedule_rematch(commodity_id=commodity_id, currency=currency)
            return RematchOutcome([], [], [], 0, stale=True)
        result = engine.merge(solved)
    else:
        result = engine.solve(instance)
    wanted: dict[int, list[engine.Allocation]] = defaultdict(list)
    for allocation in result.allocations:
        wanted[allocation.request].append(allocation)
    outcome = RematchOutcome([], [], [], result.objective)
    for request_id, proposal in unaccepted.items():
        same = sorted((a.lot, a.kg * 1000) for a in wanted.get(request_id, []))
        if same and same == sorted((p.listing_id, p.grams) for p in proposal.parts.all()):
            outcome.proposals_kept.append(proposal.pk)
            wanted.pop(request_id)
            continue
        reason = (
            "The lots it named were given a better use or are no longer available."
            if request_id not in wanted
            else "A better allocation replaced it."
        )
        _proposal_move(proposal, Proposal.Status.WITHDRAWN, actor, reason)
        outcome.proposals_withdrawn.append(proposal.pk)
    alternatives = _alternatives(instance, result)
    for request_id, allocations in sorted(wanted.items()):
        proposal = _proposal_create(by_request[request_id], allocations, by_listing, alternatives.get(request_id, []))
        outcome.proposals_created.append(proposal.pk)
    return outcome


def _build(commodity_id: int, currency: str):
    """(instance, listings by id, requests by id, open unaccepted proposal by request id), the open proposals
    locked."""
    today = timezone.localdate()
    requests = list(
        BuyerRequest.objects.filter(commodity_id=commodity_id, currency=currency, status=BuyerRequest.Status.OPEN)
        .select_related("min_grade")
        .order_by("pk")
    )
    open_proposals = list(
        Proposal.objects.select_for_update()
        .filter(request__in=requests, status=Proposal.Status.OPEN)
        .prefetch_related("parts")
        .order_by("pk")
    )
    held_listing: dict[int, int] = defaultdict(int)
    held_requests: set[int] = set()
    unaccepted: dict[int, Proposal] = {}
    for proposal in open_proposals:
        parts = list(proposal.parts.all())
        if proposal.buyer_accepted_at or any(p.status == ProposalPart.Status.ACCEPTED for p in parts):
            held_requests.add(proposal.request_id)
            for part in parts:
                held_listing[part.listing_id] += part.grams
        else:
            unaccepted[proposal.request_id] = proposal
    listings = list(
        Listing.objects.filter(
            commodity_id=commodity_id,
            currency=currency,
            status=Listing.Status.ACTIVE,
            valid_until__gte=today,
            quantity_available_grams__gt=0,
            organisation__verification_status=Organisation.Verification.VERIFIED,
        )
        .select_related("grade", "pickup_location", "lot__organisation", "lot__commodity")
        .prefetch_related("certifications")
        .order_by("pk")
    )
    eudr_asked = any(r.eudr_required for r in requests if r.pk not in held_requests)
    lots, by_listing = [], {}
    for listing in listings:
        point = _listing_point(listing)
        kg = (listing.quantity_available_grams - held_listing.get(listing.pk, 0)) // 1000
        if point is None or kg <= 0:
            continue
        by_listing[listing.pk] = listing
        certs = frozenset(c.scheme for c in listing.certifications.all() if c.valid_from <= today <= c.valid_until)
        lots.append(
            engine.Lot(
                id=listing.pk, commodity=str(commodity_id), grade=-listing.grade_rank, kg=kg,
                ask_minor_per_tonne=listing.price_per_tonne_minor, lat=point[0], lon=point[1], certifications=certs,
                eudr_ready=eudr_asked and _eudr_ready(listing),
            )
        )  # fmt: skip
    reqs, by_request = [], {}
    for request in requests:
        if request.pk in held_requests:
            continue
        by_request[request.pk] = request
        reqs.append(
            engine.Request(
                id=request.pk, commodity=str(commodity_id),
                min_grade=-request.min_grade.rank if request.min_grade else -(2**31),
                kg=request.remaining_grams // 1000, max_price_minor_per_tonne=request.max_price_per_tonne_minor,
                lat=float(request.delivery_latitude), lon=float(request.delivery_longitude),
                max_distance_km=float(request.max_distance_km), certifications=frozenset(request.certifications),
                eudr_required=request.eudr_required, min_fill_kg=-(-request.threshold_grams // 1000),
            )
        )  # fmt: skip
    instance = engine.Instance(transport_rate(currency), lots, reqs)
    return instance, by_listing, by_request, unaccepted


def _alternatives(instance: engine.Instance, result: engine.Result) -> dict:
    """For each request, the best feasible listings the allocation did not use, and why (for the explanation)."""
    arrays = engine._Arrays(instance)
    pairs = engine.feasible_pairs(arrays)
    used = {(a.lot, a.request) for a in result.allocations}
    taken: dict = defaultdict(int)
    for a in result.allocations:
        taken[a.lot] += a.kg
    out: dict = defaultdict(list)
    for k in sorted(range(len(pairs)), key=lambda k: (-int(pairs.surplus[k]), int(pairs.lot[k]))):
        lot = instance.lots[int(pairs.lot[k])]
        request = instance.requests[int(pairs.request[k])]
        if (lot.id, request.id) in used or len(out[request.id]) >= 2:
            continue
        left = lot.kg - taken[lot.id]
        out[request.id].append(
            {
                "listing": lot.id,
                "surplus_per_tonne_minor": int(pairs.surplus[k]),
                "distance_km": round(float(pairs.distance[k]), 1),
                "why": "taken" if left <= 0 else "threshold",
                "left_kg": max(0, left),
            }
        )
    return out


def _proposal_create(request: BuyerRequest, allocations, by_listing: dict, alternatives: list) -> Proposal:
    from marketplace.matching.tasks import notify_proposal_part

    proposal = Proposal.objects.create(
        request=request,
        buyer_id=request.buyer_id,
        expires_at=timezone.now() + datetime.timedelta(hours=_round_hours()),
        explanation={"alternatives": alternatives},
    )
    parts = []
    for a in sorted(allocations, key=lambda a: (-a.surplus_minor_per_tonne, a.lot)):
        listing = by_listing[a.lot]
        parts.append(
            ProposalPart(
                proposal=proposal, listing=listing, seller_id=listing.organisation_id, grams=a.kg * 1000,
                price_per_tonne_minor=listing.price_per_tonne_minor,
                transport_per_tonne_minor=a.transport_minor_per_tonne,
                distance_km=Decimal(str(round(a.distance_km, 1))), surplus_per_tonne_minor=a.surplus_minor_per_tonne,
            )
        )  # fmt: skip
    ProposalPart.objects.bulk_create(parts)
    audit_record(
        actor=None, action="proposal.open", subject=proposal, organisation_id=request.buyer_id, to_status="open",
        data={"request": request.pk, "parts": [[p.listing_id, p.grams] for p in parts]},
    )  # fmt: skip
    for part in parts:
        outbox.enqueue(notify_proposal_part, args=[part.pk], key=f"matching-part-notify:{part.pk}")
    return proposal


# --- Answers to a proposal -----------------------------------------------------------------------


def _lock_proposal(proposal_id) -> Proposal:
    proposal = Proposal.objects.select_for_update().filter(pk=proposal_id).first()
    if proposal is None:
        raise NotFound("No such proposal.")
    return proposal


def _check_open(proposal: Proposal) -> None:
    if proposal.status != Proposal.Status.OPEN:
        raise DomainError(
            f"This proposal is {proposal.get_status_display().lower()}"
            + (f": {proposal.reason}" if proposal.reason else ".")
        )
    if proposal.expires_at < timezone.now():
        raise DomainError("This proposal has expired.")


def _part_for_seller(actor: User, part_id) -> tuple[Proposal, ProposalPart]:
    part = ProposalPart.objects.filter(pk=part_id).only("proposal_id", "seller_id").first()
    if part is None:
        raise NotFound("No such proposal part.")
    organisation_for(viewer=actor, organisation_id=part.seller_id, capability=Capability.DECIDE)
    proposal = _lock_proposal(part.proposal_id)
    part = ProposalPart.objects.select_for_update().get(pk=part_id)
    _check_open(proposal)
    return proposal, part


def _part_move(part: ProposalPart, to_status: str, actor, *, reason: str = "", data=None, fields=()) -> None:
    def apply(obj):
        obj.decided_by = actor
        obj.decided_at = timezone.now()

    transition_locked(obj=part, table=PART_TABLE, to_status=to_status, actor=actor, reason=reason,
                      organisation_id=part.seller_id, data=data or {}, apply=apply,
                      update_fields=["decided_by", "decided_at", *fields])  # fmt: skip


@transaction.atomic
def proposal_part_accept(*, actor: User, part_id: int) -> Proposal:
    """The cooperative accepts its part (or, after the buyer countered, the buyer's quantity)."""
    proposal, part = _part_for_seller(actor, part_id)
    if part.status == ProposalPart.Status.COUNTERED:
        raise DomainError("You countered this part; the buyer answers next.")
    _part_move(part, ProposalPart.Status.ACCEPTED, actor)
    return _complete_if_agreed(proposal)


@transaction.atomic
def proposal_part_decline(*, actor: User, part_id: int, reason: str = "") -> Proposal:
    """The cooperative declines its part: the proposal is declined and the request re-matched without it."""
    proposal, part = _part_for_seller(actor, part_id)
    part.decline_reason = reason[:500].strip()
    _part_move(part, ProposalPart.Status.DECLINED, actor, reason=part.decline_reason, fields=("decline_reason",))
    # The proposal's reason is read by every party to it: the cooperative's own words stay on its part.
    _proposal_move(proposal, Proposal.Status.DECLINED, actor, "A cooperative declined its part.")
    request = proposal.request
    schedule_rematch(commodity_id=request.commodity_id, currency=request.currency)
    return proposal


def _next_round(proposal: Proposal) -> None:
    if proposal.round >= MAX_ROUNDS:
        raise DomainError(
            gettext("A proposal can be countered at most %(max_counters)s times; accept or decline it.")
            % {"max_counters": MAX_ROUNDS - 1}
        )
    proposal.round += 1
    proposal.expires_at = timezone.now() + datetime.timedelta(hours=_round_hours())
    proposal.buyer_accepted_at = None
    proposal.buyer_accepted_by = None
    proposal.save(update_fields=["round", "expires_at", "buyer_accepted_at", "buyer_accepted_by", "updated_at"])


def _check_counter(proposal: Proposal, part: ProposalPart, grams, price) -> None:
    """A counter changes the quantity, the price per tonne, or both; each checked as the request and the listing
    allow."""
    if grams is None and price is None:
        fail({"grams": "Give another quantity, another price per tonne, or both."})
    request = proposal.request
    errors: dict[str, str] = {}
    if grams is not None:
        if isinstance(grams, bool) or not isinstance(grams, int) or grams <= 0:
            fail({"grams": "Give the quantity as a whole number of grams above 0."})
        listing = part.listing
        if grams > listing.quantity_available_grams:
            errors["grams"] = f"The listing has only {listing.quantity_available_grams} g available."
        else:
            others = sum(p.grams for p in proposal.parts.exclude(pk=part.pk))
            total = others + grams
            if total > request.remaining_grams:
                errors["grams"] = (
                    f"The request still wants {request.remaining_grams} g in all; this would make {total} g."
                )
            elif total < request.threshold_grams:
                errors["grams"] = (
                    f"The request accepts no less than {request.threshold_grams} g in all; this makes {total} g."
                )
    if price is not None:
        if isinstance(price, bool) or not isinstance(price, int) or price <= 0:
            errors["price_per_tonne_minor"] = "Give the price as a whole number of minor units per tonne above 0."
        elif price > request.max_price_per_tonne_minor:
            errors["price_per_tonne_minor"] = (
                f"The buyer pays at most {request.max_price_per_tonne_minor} per tonne for this request."
            )
    fail(errors)


def _apply_counter(part: ProposalPart, proposal: Proposal, grams, price) -> tuple[dict, list[str]]:
    """Set the countered figures on the part; the audit data and the fields changed."""
    data, fields = {}, []
    if grams is not None:
        data["grams"] = [part.grams, grams]
        part.grams = grams
        fields.append("grams")
    if price is not None:
        data["price_per_tonne_minor"] = [part.price_per_tonne_minor, price]
        part.price_per_tonne_minor = price
        ceiling = proposal.request.max_price_per_tonne_minor
        part.surplus_per_tonne_minor = ceiling - price - part.transport_per_tonne_minor
        fields += ["price_per_tonne_minor", "surplus_per_tonne_minor"]
    return data, fields


@transaction.atomic
def proposal_part_counter(
    *, actor: User, part_id: int, grams: int | None = None, price_per_tonne_minor: int | None = None
) -> Proposal:
    """The cooperative offers another quantity or price per tonne for its part (a new round, with a new expiry)."""
    proposal, part = _part_for_seller(actor, part_id)
    _check_counter(proposal, part, grams, price_per_tonne_minor)
    _next_round(proposal)
    data, fields = _apply_counter(part, proposal, grams, price_per_tonne_minor)
    _part_move(part, ProposalPart.Status.COUNTERED, actor, data=data, fields=fields)
    return proposal


def _proposal_for_buyer(actor: User, proposal_id) -> Proposal:
    proposal = Proposal.objects.filter(pk=proposal_id).only("buyer_id").first()
    if proposal is None:
        raise NotFound("No such proposal.")
    organisation_for(viewer=actor, organisation_id=proposal.buyer_id, capability=Capability.DECIDE)
    proposal = _lock_proposal(proposal_id)
    _check_open(proposal)
    return proposal


@transaction.atomic
def proposal_accept(*, actor: User, proposal_id: int) -> Proposal:
    """The buyer accepts the proposal as it stands (including any quantity a cooperative countered)."""
    proposal = _proposal_for_buyer(actor, proposal_id)
    for part in proposal.parts.select_for_update().filter(status=ProposalPart.Status.COUNTERED):
        _part_move(part, ProposalPart.Status.ACCEPTED, actor, reason="The buyer accepted the counter.")
    proposal.buyer_accepted_by = actor
    proposal.buyer_accepted_at = timezone.now()
    proposal.save(update_fields=["buyer_accepted_by", "buyer_accepted_at", "updated_at"])
    audit_record(actor=actor, action="proposal.buyer_accepted", subject=proposal, organisation_id=proposal.buyer_id)
    return _complete_if_agreed(proposal)


@transaction.atomic
def proposal_counter(
    *, actor: User, proposal_id: int, part_id: int, grams: int | None = None, price_per_tonne_minor: int | None = None
) -> Proposal:
    """The buyer asks a cooperative for another quantity or price per tonne of its part (a new round): the part
    awaits the cooperative again."""
    proposal = _proposal_for_buyer(actor, proposal_id)
    part = proposal.parts.select_for_update().filter(pk=part_id).first()
    if part is None:
        raise NotFound("No such part in this proposal.")
    if part.status == ProposalPart.Status.ACCEPTED:
        raise DomainError("The cooperative has accepted this part; it can no longer be changed.")
    _check_counter(proposal, part, grams, price_per_tonne_minor)
    _next_round(proposal)
    data, fields = _apply_counter(part, proposal, grams, price_per_tonne_minor)
    if part.status == ProposalPart.Status.PENDING:  # same status: record the new figures without a transition
        part.save(update_fields=fields)
        audit_record(actor=actor, action="proposal_part.buyer_countered", subject=part,
                     organisation_id=proposal.buyer_id, data=data)  # fmt: skip
    else:
        _part_move(part, ProposalPart.Status.PENDING, actor, data=data, fields=fields)
    return proposal


@transaction.atomic
def proposal_decline(*, actor: User, proposal_id: int, reason: str = "") -> Proposal:
    proposal = _proposal_for_buyer(actor, proposal_id)
    _proposal_move(proposal, Proposal.Status.DECLINED, actor, f"The buyer declined. {reason}".strip()[:500])
    schedule_rematch(commodity_id=proposal.request.commodity_id, currency=proposal.request.currency)
    return proposal


def _complete_if_agreed(proposal: Proposal) -> Proposal:
    """Under the proposal's lock: once the buyer and every cooperative have accepted, place the purchase (one
    order per cooperative) and record the consignment; if a listing no longer has the quantity, withdraw the
    proposal with that reason and write nothing of the purchase."""
    parts = list(proposal.parts.select_for_update().select_related("listing").order_by("pk"))
    if proposal.buyer_accepted_by_id is None or any(p.status != ProposalPart.Status.ACCEPTED for p in parts):
        return proposal
    request = BuyerRequest.objects.select_for_update().get(pk=proposal.request_id)
    total = sum(p.grams for p in parts)
    try:
        with transaction.atomic():
            if request.status != BuyerRequest.Status.OPEN or total > request.remaining_grams:
                raise DomainError("The request no longer wants this quantity.")
            purchase = purchase_place(
                actor=proposal.buyer_accepted_by,
                buyer_id=proposal.buyer_id,
                lines=[LineInput(quantity=p.grams, listing_id=p.listing_id) for p in parts],
                note=f"Matched request {request.public_id}",
                # the price on the proposal, which everyone accepted, where it is not the listing's (a counter,
                # or the listing's price changed since)
                agreed_prices={
                    p.listing_id: p.price_per_tonne_minor
                    for p in parts
                    if p.price_per_tonne_minor != p.listing.price_per_tonne_minor
                },
            )
    except (DomainError, PermissionDenied) as error:
        _proposal_move(proposal, Proposal.Status.WITHDRAWN, None, f"It could not be ordered: {error.message}")
        schedule_rematch(commodity_id=request.commodity_id, currency=request.currency)
        return proposal
    Consignment.objects.create(proposal=proposal, request=request, buyer_id=proposal.buyer_id, purchase=purchase,
                               grams=total)  # fmt: skip
    _proposal_move(proposal, Proposal.Status.ACCEPTED, proposal.buyer_accepted_by, "Everyone accepted.")
    request.filled_grams += total
    request.save(update_fields=["filled_grams", "updated_at"])
    if request.remaining_grams < max(1_000, min(request.min_truckload_grams, request.quantity_grams)):
        transition_locked(obj=request, table=REQUEST_TABLE, to_status=BuyerRequest.Status.FILLED, actor=None,
                          organisation_id=request.buyer_id, data={"filled_grams": request.filled_grams})  # fmt: skip
    return proposal


__all__ = [
    "PART_TABLE",
    "PROPOSAL_TABLE",
    "REQUEST_TABLE",
    "RequestInput",
    "buyer_request_create",
    "buyer_request_update",
    "buyer_request_withdraw",
    "matching_rematch",
    "proposal_accept",
    "proposal_counter",
    "proposal_decline",
    "proposal_part_accept",
    "proposal_part_counter",
    "proposal_part_decline",
    "schedule_rematch",
    "transition",
]
