"""Saved searches (house rules 1 and 4): a buyer keeps a catalogue search and hears once of every new listing that
fits it (Kudu's "top lots").

Catalogue publishes the id of every new listing to the tasks named in settings.LISTING_EVENT_SUBSCRIBERS["created"],
through the outbox, on commit. `saved_searches_match` then loads the listing once, the saved searches of its
commodity in one query, checks each in Python (grade, country, region, distance, certification, EUDR readiness
computed once), records one hit per (search, listing) and puts one message per hit in the outbox;
`saved_search_hit_send` sends it once."""

import math
from decimal import Decimal

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from catalogue.models import Certification, Commodity, Grade, Listing
from marketplace.core import outbox
from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.core.sending import send_once
from marketplace.core.services import audit_record
from marketplace.core.sms import send_sms
from marketplace.core.validators import mobile_number
from marketplace.market.models import PriceAlert, SavedSearch, SavedSearchHit
from marketplace.organisations.models import Organisation, User
from marketplace.organisations.roles import Capability
from marketplace.organisations.selectors import organisation_for

SEARCHES_MAX = 20  # per user and organisation
EARTH_RADIUS_KM = 6371.0088


def _decimal(value, name: str, errors: dict, low: Decimal, high: Decimal) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip())
    except Exception:
        errors[name] = f"{value!r} is not a number."
        return None
    if not number.is_finite() or not low <= number <= high:
        errors[name] = f"Between {low} and {high}."
        return None
    return number


@transaction.atomic
def saved_search_create(
    *, actor: User, organisation_id: int, name: str, commodity: str, min_grade: str = "", country: str = "",
    region: str = "", latitude=None, longitude=None, radius_km=None, certification: str = "", eudr_ready=False,
    channel: str = "email", phone: str = "",
) -> SavedSearch:  # fmt: skip
    organisation = organisation_for(viewer=actor, organisation_id=organisation_id, capability=Capability.VIEW)
    if organisation.kind != Organisation.Kind.BUYER:
        raise NotFound("Saved searches are for buyers.")
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name or len(name) > 80:
        errors["name"] = "Give the search a name of 1 to 80 characters."
    found = Commodity.objects.filter(code=(commodity or "").strip(), is_active=True).first()
    if found is None:
        errors["commodity"] = "Choose a commodity by its code (the list is at /api/v1/commodities/)."
    grade = None
    if min_grade and found is not None:
        grade = Grade.objects.filter(commodity=found, code=min_grade).first()
        if grade is None:
            errors["min_grade"] = f"{found.name} has no grade {min_grade!r}."
    country = (country or "").strip().upper()
    if country and (len(country) != 2 or not country.isalpha()):
        errors["country"] = "Give a two-letter country code (e.g. CI, KE)."
    region = (region or "").strip()
    if len(region) > 100:
        errors["region"] = "At most 100 characters."
    lat = _decimal(latitude, "latitude", errors, Decimal(-90), Decimal(90))
    lon = _decimal(longitude, "longitude", errors, Decimal(-180), Decimal(180))
    radius = _decimal(radius_km, "radius_km", errors, Decimal("0.1"), Decimal(5000))
    given = [v is not None for v in (lat, lon, radius)]
    if any(given) and not all(given) and not errors.keys() & {"latitude", "longitude", "radius_km"}:
        errors["radius_km"] = "Give latitude, longitude and a distance together."
    if certification and certification not in Certification.Scheme.values:
        errors["certification"] = f"One of: {', '.join(Certification.Scheme.values)}."
    if channel not in PriceAlert.Channel.values:
        errors["channel"] = "Choose email or sms."
    phone_number = ""
    if channel == PriceAlert.Channel.SMS:
        phone_number = mobile_number(phone) or ""
        if not phone_number:
            errors["phone"] = "Give a valid mobile number in international form (e.g. +254712345678)."
    if errors:
        raise ValidationFailed("Check the saved search's fields.", fields=errors)
    if SavedSearch.objects.filter(user=actor, organisation=organisation).count() >= SEARCHES_MAX:
        raise ValidationFailed(
            gettext("At most %(searches_max)s saved searches; delete one first.") % {"searches_max": SEARCHES_MAX},
            fields={"name": "too many"},
        )
    search = SavedSearch.objects.create(
        organisation=organisation, user=actor, name=name, commodity=found, min_grade=grade, country=country,
        region=region, latitude=lat, longitude=lon, radius_km=radius, certification=certification or "",
        eudr_ready=bool(eudr_ready), channel=channel, phone=phone_number,
    )  # fmt: skip
    audit_record(actor=actor, action="saved_search.created", subject=search, organisation_id=organisation.pk,
                 data={"commodity": found.code, "channel": channel})  # fmt: skip
    return search


@transaction.atomic
def saved_search_delete(*, actor: User, search_id: int) -> None:
    search = SavedSearch.objects.select_for_update().filter(pk=search_id, user=actor).first()
    if search is None:
        raise NotFound("No such saved search.")
    audit_record(actor=actor, action="saved_search.deleted", subject=search, organisation_id=search.organisation_id)
    search.delete()


def _distance_km(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp, dl = p2 - p1, math.radians(float(lon2) - float(lon1))
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _fits(search: SavedSearch, listing: Listing, schemes: set[str], eudr_ready) -> bool:
    if search.min_grade_id and listing.grade_rank > search.min_grade.rank:
        return False
    if search.country and listing.country != search.country:
        return False
    if search.region and listing.region.strip().lower() != search.region.lower():
        return False
    if search.radius_km is not None:
        if listing.latitude is None or listing.longitude is None:
            return False
        if _distance_km(search.latitude, search.longitude, listing.latitude, listing.longitude) > search.radius_km:
            return False
    if search.certification and search.certification not in schemes:
        return False
    return not (search.eudr_ready and not eudr_ready())


def saved_searches_match(*, listing_id: int) -> int:
    """Record a hit for every saved search a new live listing fits (once each) and queue its message."""
    from catalogue.selectors.search import _live_listings

    today = timezone.localdate()
    listing = _live_listings(today).filter(pk=listing_id).select_related("lot").first()
    if listing is None:
        return 0
    schemes = set(
        listing.certifications.filter(valid_from__lte=today, valid_until__gte=today).values_list("scheme", flat=True)
    )
    searches = list(
        SavedSearch.objects.filter(commodity_id=listing.commodity_id).exclude(organisation_id=listing.organisation_id)
        .select_related("min_grade").order_by("pk")
    )  # fmt: skip
    ready: list[bool] = []

    def eudr_ready() -> bool:  # computed once, and only when a search asks for it
        if not ready:
            from catalogue.due_diligence import lot_package

            ready.append(bool(lot_package(listing.lot).ready))
        return ready[0]

    fits = [s for s in searches if _fits(s, listing, schemes, eudr_ready)]
    if not fits:
        return 0
    from marketplace.market.tasks import saved_search_hit_send

    created = 0
    with transaction.atomic():
        recorded = SavedSearchHit.objects.filter(listing=listing, search__in=fits)
        existing = set(recorded.values_list("search_id", flat=True))
        new = [SavedSearchHit(search=s, listing=listing) for s in fits if s.pk not in existing]
        try:
            with transaction.atomic():
                hits = SavedSearchHit.objects.bulk_create(new)
        except IntegrityError:  # a concurrent run recorded them: it queues their messages
            return 0
        outbox.enqueue_many(saved_search_hit_send, calls=[([hit.pk], f"saved-search-hit:{hit.pk}") for hit in hits])
        created = len(hits)
    return created


def saved_search_hit_send(*, hit_id: int) -> str:
    """Send one hit's message once, outside the row's lock (core.sending)."""
    hits = SavedSearchHit.objects.select_related(
        "search__user", "listing__commodity", "listing__grade", "listing__organisation"
    )
    return send_once(hits, hit_id, _deliver_hit)


def _deliver_hit(hit: SavedSearchHit) -> None:
    search, listing = hit.search, hit.listing
    values = {
        "search": search.name[:40], "commodity": listing.commodity.name[:40], "grade": listing.grade.name[:30],
        "where": (listing.region or listing.country)[:30], "id": listing.pk,
    }  # fmt: skip
    text = _("New listing for your search %(search)s: %(commodity)s %(grade)s in %(where)s, /listings/%(id)s/") % values
    if search.channel == PriceAlert.Channel.SMS:
        send_sms(to=search.phone, body=text[:300])
    else:
        send_mail(_("CoopMarket: a new listing fits %(search)s") % values, text, None, [search.user.email])
