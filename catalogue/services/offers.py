"""Input products and supplier offers with volume price tiers."""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django_countries import countries

from catalogue.models import Commodity, InputProduct, OfferRegion, Packaging, PriceTier, SupplierOffer
from catalogue.services._common import acting_organisation, fail, full_clean, require_verified
from marketplace.core.errors import Conflict, NotFound, ValidationFailed
from marketplace.core.money import Money
from marketplace.core.services import audit_record
from marketplace.core.transitions import TransitionTable, transition_locked
from marketplace.core.validators import validate_currency
from marketplace.organisations.models import Organisation, User
from marketplace.organisations.roles import Capability

MAX_LEAD_TIME_DAYS = 365


@dataclass(frozen=True)
class TierInput:
    """One volume tier as a supplier writes it: from `min_packs` to `max_packs` (None: and more) at `unit_price`."""

    min_packs: int
    unit_price: Money
    max_packs: int | None = None


@dataclass(frozen=True)
class RegionInput:
    country: str
    region: str = ""


@transaction.atomic
def input_product_create(
    *,
    actor: User,
    organisation_id: int,
    kind: str,
    name: str,
    packaging_id: int,
    crop_id: int | None = None,
    variety: str = "",
    npk: tuple[int, int, int] | None = None,
    active_ingredient: str = "",
    description: str = "",
) -> InputProduct:
    """An input supplier describes a product: seed (crop and variety), fertiliser (NPK), crop protection
    (active ingredient) or a tool, each in a packaging."""
    organisation = acting_organisation(actor, organisation_id, Capability.DECIDE, kind=Organisation.Kind.INPUT_SUPPLIER)
    errors: dict[str, str] = {}
    if kind not in InputProduct.Kind.values:
        errors["kind"] = gettext("Choose one of: %(choices)s.") % {"choices": ", ".join(InputProduct.Kind.values)}
    if not name.strip():
        errors["name"] = gettext("Give the product's name.")
    packaging = Packaging.objects.filter(pk=packaging_id).first()
    if packaging is None:
        errors["packaging"] = gettext("Choose a packaging from the list.")
    crop = None
    if kind == InputProduct.Kind.SEED:
        crop = Commodity.objects.filter(pk=crop_id).first() if crop_id is not None else None
        if crop is None:
            errors["crop"] = gettext("Say which crop this seed is for.")
        if not variety.strip():
            errors["variety"] = gettext("Give the seed variety.")
    if kind == InputProduct.Kind.FERTILISER:
        if npk is None or len(npk) != 3:
            errors["npk"] = gettext("Give the NPK formula, e.g. 15-15-15.")
        elif any(not isinstance(v, int) or v < 0 or v > 100 for v in npk) or sum(npk) > 100:
            errors["npk"] = gettext("%(npk)s is not a valid NPK formula: each 0–100, together at most 100.") % {
                "npk": "-".join(map(str, npk))
            }
        elif sum(npk) == 0:
            errors["npk"] = gettext("An NPK formula of 0-0-0 has no nutrients.")
    if kind == InputProduct.Kind.CROP_PROTECTION and not active_ingredient.strip():
        errors["active_ingredient"] = gettext("Give the active ingredient(s), e.g. 'glyphosate 360 g/l'.")
    fail(errors)
    product = InputProduct(
        organisation=organisation,
        kind=kind,
        name=name.strip(),
        crop=crop,
        variety=variety.strip() if kind == InputProduct.Kind.SEED else "",
        active_ingredient=active_ingredient.strip() if kind == InputProduct.Kind.CROP_PROTECTION else "",
        packaging=packaging,
        description=description,
    )
    if kind == InputProduct.Kind.FERTILISER and npk:
        product.nitrogen_pct, product.phosphorus_pct, product.potassium_pct = npk
    full_clean(product, exclude=["organisation", "crop", "packaging"])
    product.save()
    audit_record(actor=actor, action="input_product.created", subject=product, organisation_id=organisation.pk)
    return product


def check_tiers(tiers: list[TierInput], currency: str) -> tuple[list[TierInput], int | None]:
    """Validate tiers as written; return them and the maximum order (the last tier's upper end, if any).
    Tiers must be ordered, touch without overlap or gap, and get cheaper (or stay level) as volume grows."""
    if not tiers:
        fail({"tiers": gettext("Give at least one price tier, e.g. from 1 pack at a price.")})
    errors: dict[str, str] = {}
    for index, tier in enumerate(tiers):
        label = f"tiers.{index}"
        number = index + 1
        if tier.min_packs < 1:
            errors[label] = gettext("Tier %(number)s starts at %(min_packs)s; tiers start at 1 pack or more.") % {
                "number": number,
                "min_packs": tier.min_packs,
            }
        elif tier.max_packs is not None and tier.max_packs < tier.min_packs:
            errors[label] = gettext("Tier %(number)s ends (%(max_packs)s) before it starts (%(min_packs)s).") % {
                "number": number,
                "max_packs": tier.max_packs,
                "min_packs": tier.min_packs,
            }
        elif tier.unit_price.currency != currency:
            errors[label] = gettext("Tier %(number)s is priced in %(tier_currency)s; the offer is in %(currency)s.") % {
                "number": number,
                "tier_currency": tier.unit_price.currency,
                "currency": currency,
            }
        elif tier.unit_price.amount <= 0:
            errors[label] = gettext("Tier %(number)s's price must be more than 0.") % {"number": number}
        if label in errors or index == 0:
            continue
        previous = tiers[index - 1]
        if tier.min_packs <= previous.min_packs:
            errors[label] = ngettext(
                "Tiers are out of order: tier %(number)s starts at %(min_packs)s pack, not after tier %(previous)s "
                "(%(previous_min)s). List them from the smallest quantity up.",
                "Tiers are out of order: tier %(number)s starts at %(min_packs)s packs, not after tier %(previous)s "
                "(%(previous_min)s). List them from the smallest quantity up.",
                tier.min_packs,
            ) % {"number": number, "min_packs": tier.min_packs, "previous": index, "previous_min": previous.min_packs}
        elif previous.max_packs is None:
            errors[label] = gettext("Tier %(previous)s has no upper end, so it must be the last tier.") % {
                "previous": index
            }
        elif tier.min_packs <= previous.max_packs:
            errors[label] = gettext(
                "Tier %(number)s (from %(min_packs)s) overlaps tier %(previous)s (up to %(previous_max)s); start it "
                "at %(start)s."
            ) % {
                "number": number,
                "min_packs": tier.min_packs,
                "previous": index,
                "previous_max": previous.max_packs,
                "start": previous.max_packs + 1,
            }
        elif tier.min_packs > previous.max_packs + 1:
            errors[label] = gettext(
                "Nothing prices %(first)s–%(last)s packs: tier %(number)s must start at %(first)s."
            ) % {"first": previous.max_packs + 1, "last": tier.min_packs - 1, "number": number}
        elif tier.unit_price.amount > previous.unit_price.amount:
            errors[label] = gettext(
                "Tier %(number)s costs more per pack (%(price)s) than tier %(previous)s (%(previous_price)s); volume "
                "tiers never get dearer."
            ) % {
                "number": number,
                "price": tier.unit_price,
                "previous": index,
                "previous_price": previous.unit_price,
            }
    fail(errors)
    return tiers, tiers[-1].max_packs


def _check_regions(regions: list[RegionInput], errors: dict[str, str]) -> list[RegionInput]:
    if not regions:
        errors["regions"] = gettext("Give at least one country or region you deliver to.")
        return []
    seen = set()
    cleaned = []
    for index, region in enumerate(regions):
        code = (region.country or "").upper()
        if code not in countries:
            errors[f"regions.{index}"] = gettext("%(country)s is not a two-letter ISO country code (e.g. CI, KE).") % {
                "country": repr(region.country)
            }
            continue
        key = (code, region.region.strip())
        if key in seen:
            errors[f"regions.{index}"] = gettext("%(country)s %(region)s is listed twice.") % {
                "country": code,
                "region": region.region,
            }
            continue
        seen.add(key)
        cleaned.append(RegionInput(code, region.region.strip()))
    return cleaned


def _save_tiers(offer: SupplierOffer, tiers: list[TierInput]) -> None:
    offer.tiers.all().delete()
    PriceTier.objects.bulk_create(
        [PriceTier(offer=offer, min_packs=t.min_packs, unit_price_amount=t.unit_price.amount) for t in tiers]
    )


def _save_regions(offer: SupplierOffer, regions: list[RegionInput]) -> None:
    offer.regions.all().delete()
    OfferRegion.objects.bulk_create([OfferRegion(offer=offer, country=r.country, region=r.region) for r in regions])


def _tier_data(tiers: list[TierInput]) -> list[dict]:
    return [{"from": t.min_packs, "to": t.max_packs, "price": t.unit_price.amount} for t in tiers]


@transaction.atomic
def supplier_offer_create(
    *,
    actor: User,
    organisation_id: int,
    product_id: int,
    currency: str,
    stock_packs: int,
    tiers: list[TierInput],
    regions: list[RegionInput],
    lead_time_days: int,
    valid_from: date,
    valid_until: date,
    notes: str = "",
) -> SupplierOffer:
    organisation = acting_organisation(actor, organisation_id, Capability.DECIDE, kind=Organisation.Kind.INPUT_SUPPLIER)
    require_verified(organisation, "offers")
    errors: dict[str, str] = {}
    product = (
        InputProduct.objects.filter(pk=product_id)
        .filter(Q(organisation__isnull=True) | Q(organisation=organisation))
        .first()
    )
    if product is None:
        errors["product"] = gettext("Choose one of your products or a reference product.")
    try:
        validate_currency(currency)
    except DjangoValidationError:
        errors["currency"] = gettext("%(currency)s is not an ISO 4217 currency code (for example XOF, KES or USD).") % {
            "currency": repr(currency)
        }
    if stock_packs < 0:
        errors["stock_packs"] = gettext("Stock cannot be negative.")
    if not 0 <= lead_time_days <= MAX_LEAD_TIME_DAYS:
        errors["lead_time_days"] = gettext("The lead time is between 0 and %(max_days)s days.") % {
            "max_days": MAX_LEAD_TIME_DAYS
        }
    if valid_until < valid_from:
        errors["valid_until"] = gettext("The offer cannot end (%(valid_until)s) before it starts (%(valid_from)s).") % {
            "valid_until": valid_until,
            "valid_from": valid_from,
        }
    elif valid_until < timezone.localdate():
        errors["valid_until"] = gettext("%(day)s has passed; give a date from today on.") % {
            "day": valid_until.isoformat()
        }
    cleaned_regions = _check_regions(regions, errors)
    fail(errors)
    tiers, max_order = check_tiers(tiers, currency)
    offer = SupplierOffer.objects.create(
        organisation=organisation,
        product=product,
        currency=currency,
        stock_packs=stock_packs,
        max_order_packs=max_order,
        lead_time_days=lead_time_days,
        valid_from=valid_from,
        valid_until=valid_until,
        notes=notes,
        created_by=actor,
    )
    _save_tiers(offer, tiers)
    _save_regions(offer, cleaned_regions)
    audit_record(
        actor=actor, action="supplier_offer.created", subject=offer, organisation_id=organisation.pk,
        to_status=offer.status, data={"currency": currency, "tiers": _tier_data(tiers), "stock_packs": stock_packs},
    )  # fmt: skip
    return offer


def _lock_offer(actor: User, offer_id: int) -> tuple[SupplierOffer, Organisation]:
    offer = SupplierOffer.objects.select_for_update().filter(pk=offer_id).first()
    if offer is None:
        raise NotFound(gettext("No such offer."))
    try:
        organisation = acting_organisation(actor, offer.organisation_id, Capability.DECIDE)
    except NotFound:
        raise NotFound(gettext("No such offer.")) from None
    return offer, organisation


@transaction.atomic
def supplier_offer_update(
    *,
    actor: User,
    offer_id: int,
    stock_packs: int | None = None,
    tiers: list[TierInput] | None = None,
    regions: list[RegionInput] | None = None,
    lead_time_days: int | None = None,
    valid_until: date | None = None,
    notes: str | None = None,
) -> SupplierOffer:
    """Change the stock, the price tiers (replaced as a whole), the regions or the validity of an offer."""
    offer, organisation = _lock_offer(actor, offer_id)
    if offer.status == SupplierOffer.Status.WITHDRAWN:
        raise Conflict(gettext("This offer is withdrawn; create a new one."))
    errors: dict[str, str] = {}
    before_tiers = list(offer.tiers.values_list("min_packs", "unit_price_amount"))
    if stock_packs is not None:
        if stock_packs < 0:
            errors["stock_packs"] = gettext("Stock cannot be negative.")
        offer.stock_packs = stock_packs
    if lead_time_days is not None:
        if not 0 <= lead_time_days <= MAX_LEAD_TIME_DAYS:
            errors["lead_time_days"] = gettext("The lead time is between 0 and %(max_days)s days.") % {
                "max_days": MAX_LEAD_TIME_DAYS
            }
        offer.lead_time_days = lead_time_days
    if valid_until is not None:
        if valid_until < offer.valid_from:
            errors["valid_until"] = gettext(
                "The offer cannot end (%(valid_until)s) before it starts (%(valid_from)s)."
            ) % {"valid_until": valid_until, "valid_from": offer.valid_from}
        offer.valid_until = valid_until
    if notes is not None:
        offer.notes = notes
    cleaned_regions = _check_regions(regions, errors) if regions is not None else None
    fail(errors)
    if tiers is not None:
        tiers, offer.max_order_packs = check_tiers(tiers, offer.currency)
        _save_tiers(offer, tiers)
    if cleaned_regions is not None:
        _save_regions(offer, cleaned_regions)
    offer.save()
    audit_record(
        actor=actor, action="supplier_offer.updated", subject=offer, organisation_id=organisation.pk,
        data={"tiers_before": before_tiers, "tiers": _tier_data(tiers) if tiers is not None else None,
              "stock_packs": offer.stock_packs},
    )  # fmt: skip
    return offer


OS = SupplierOffer.Status
OFFER_TRANSITIONS = TransitionTable(
    "supplier_offer",
    {
        OS.ACTIVE: {OS.PAUSED, OS.WITHDRAWN},
        OS.PAUSED: {OS.ACTIVE, OS.WITHDRAWN},
        OS.WITHDRAWN: set(),
    },
)


@transaction.atomic
def supplier_offer_status_transition(*, actor: User, offer_id: int, to_status: str, reason: str = "") -> SupplierOffer:
    offer, organisation = _lock_offer(actor, offer_id)
    return transition_locked(
        obj=offer, table=OFFER_TRANSITIONS, to_status=to_status, actor=actor, reason=reason,
        organisation_id=organisation.pk, update_fields=[], label="The offer",
    )  # fmt: skip


@transaction.atomic
def supplier_offer_take_stock(
    *, offer_id: int, packs: int, actor: User | None = None, reference: str = ""
) -> SupplierOffer:
    """Take packs out of stock for a group order, atomically: UPDATE ... WHERE stock_packs >= packs."""
    if not isinstance(packs, int) or isinstance(packs, bool) or packs <= 0:
        raise ValidationFailed(
            gettext("Give a whole number of packs above 0."), fields={"packs": gettext("Must be > 0.")}
        )
    updated = SupplierOffer.objects.filter(pk=offer_id, status=OS.ACTIVE, stock_packs__gte=packs).update(
        stock_packs=F("stock_packs") - packs, updated_at=timezone.now()
    )
    offer = SupplierOffer.objects.filter(pk=offer_id).first()
    if offer is None:
        raise NotFound(gettext("No such offer."))
    if not updated:
        if offer.status != OS.ACTIVE:
            raise Conflict(gettext("This offer is %(status)s.") % {"status": offer.get_status_display().lower()})
        raise Conflict(
            gettext("Only %(stock_packs)s packs are in stock; %(packs)s were asked for.")
            % {"stock_packs": offer.stock_packs, "packs": packs}
        )
    audit_record(
        actor=actor, action="supplier_offer.stock_taken", subject=offer, organisation_id=offer.organisation_id,
        data={"packs": packs, "reference": reference, "stock_packs": offer.stock_packs},
    )  # fmt: skip
    return offer


@transaction.atomic
def supplier_offer_return_stock(
    *, offer_id: int, packs: int, actor: User | None = None, reference: str = ""
) -> SupplierOffer:
    """Put packs back into stock (a group order was cancelled)."""
    if not isinstance(packs, int) or isinstance(packs, bool) or packs <= 0:
        raise ValidationFailed(
            gettext("Give a whole number of packs above 0."), fields={"packs": gettext("Must be > 0.")}
        )
    updated = SupplierOffer.objects.filter(pk=offer_id).update(
        stock_packs=F("stock_packs") + packs, updated_at=timezone.now()
    )
    if not updated:
        raise NotFound(gettext("No such offer."))
    offer = SupplierOffer.objects.get(pk=offer_id)
    audit_record(
        actor=actor, action="supplier_offer.stock_returned", subject=offer, organisation_id=offer.organisation_id,
        data={"packs": packs, "reference": reference, "stock_packs": offer.stock_packs},
    )  # fmt: skip
    return offer
