"""Demo organisations, accounts, member farmers and plots.

Everything here is fixed or drawn from a seeded random generator, so every run plans the same data;
`seed` then creates only what is missing (looked up by natural keys), so running it twice changes nothing.

Writes go through `marketplace.organisations.services`. Two things cannot, because no service exists for
them yet: the operator organisation (`organisation_create` needs an operator to act) and the first admin of
each organisation (invitations need an inviting member). Those are bootstrapped here directly, with an
audit record each.

Later seeders (catalogue, orders, ...) find what they need with `organisation(key)` and `account(email)`.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TextIO

import phonenumbers
from django.db import transaction

from marketplace.organisations import services
from marketplace.organisations.models import Invitation, MemberFarmer, Membership, Organisation, User
from marketplace.organisations.roles import Role

PASSWORD = "harvest-2026"  # noqa: S105 (every demo account; published in README.md)
SUPERUSER_EMAIL = "admin@coopmarket.demo"

Kind = Organisation.Kind


@dataclass(frozen=True)
class OrganisationSpec:
    key: str  # also the email domain of its accounts: <role>@<key>.demo
    kind: str
    legal_name: str
    display_name: str
    country: str
    region: str
    address: str
    latitude: str
    longitude: str
    registration_number: str
    currency: str
    preferred_language: str
    email: str
    phone: str

    def fields(self) -> dict:
        return {
            "kind": self.kind,
            "legal_name": self.legal_name,
            "display_name": self.display_name,
            "country": self.country,
            "region": self.region,
            "address": self.address,
            "latitude": Decimal(self.latitude),
            "longitude": Decimal(self.longitude),
            "registration_number": self.registration_number,
            "currency": self.currency,
            "preferred_language": self.preferred_language,
            "email": self.email,
            "phone": self.phone,
        }


OPERATOR = OrganisationSpec(
    key="coopmarket",
    kind=Kind.OPERATOR,
    legal_name="CoopMarket Operations SAS",
    display_name="CoopMarket Operations",
    country="FR",
    region="Île-de-France",
    address="12 rue des Coopératives, 75011 Paris",
    latitude="48.857810",
    longitude="2.379130",
    registration_number="RCS-PARIS-DEMO-0001",
    currency="EUR",
    preferred_language="en",
    email="operations@coopmarket.demo",
    phone="+33142680000",
)

COCOA = OrganisationSpec(
    key="cocoa-nawa",
    kind=Kind.COOPERATIVE,
    legal_name="Société Coopérative des Producteurs de Cacao de la Nawa",
    display_name="Nawa Cacao",
    country="CI",
    region="Nawa, Soubré",
    address="Quartier Commerce, BP 312 Soubré",
    latitude="5.785630",
    longitude="-6.606390",
    registration_number="CI-SOU-2012-C-0417",
    currency="XOF",
    preferred_language="fr",
    email="contact@cocoa-nawa.demo",
    phone="+2252734712045",
)

COFFEE = OrganisationSpec(
    key="coffee-nyamasheke",
    kind=Kind.COOPERATIVE,
    legal_name="Koperative y'Abahinzi ba Kawa ba Nyamasheke",
    display_name="Kawa Nyamasheke",
    country="RW",
    region="Western Province, Nyamasheke",
    address="Kanjongo Sector, Nyamasheke District",
    latitude="-2.345120",
    longitude="29.105480",
    registration_number="RCA-0874-2008",
    currency="RWF",
    preferred_language="rw",
    email="contact@coffee-nyamasheke.demo",
    phone="+250788300100",
)

MAIZE = OrganisationSpec(
    key="maize-transnzoia",
    kind=Kind.COOPERATIVE,
    legal_name="Trans Nzoia Maize Growers Cooperative Society Ltd",
    display_name="Trans Nzoia Maize Growers",
    country="KE",
    region="Trans Nzoia, Kitale",
    address="Kenyatta Street, P.O. Box 1180-30200 Kitale",
    latitude="1.015720",
    longitude="35.006210",
    registration_number="CS-15327",
    currency="KES",
    preferred_language="sw",
    email="contact@maize-transnzoia.demo",
    phone="+254532030100",
)

COCOA_COFFEE_BUYER = OrganisationSpec(
    key="amstel-origins",
    kind=Kind.BUYER,
    legal_name="Amstel Origins Trading B.V.",
    display_name="Amstel Origins",
    country="NL",
    region="North Holland, Amsterdam",
    address="Westerdoksdijk 40, 1013 AE Amsterdam",
    latitude="52.385140",
    longitude="4.889270",
    registration_number="KVK-DEMO-74512093",
    currency="EUR",
    preferred_language="en",
    email="sourcing@amstel-origins.demo",
    phone="+31205550123",
)

GRAIN_BUYER = OrganisationSpec(
    key="mavuno-millers",
    kind=Kind.BUYER,
    legal_name="Mavuno Grain Millers Ltd",
    display_name="Mavuno Millers",
    country="KE",
    region="Nairobi, Industrial Area",
    address="Enterprise Road, P.O. Box 46210-00100 Nairobi",
    latitude="-1.308410",
    longitude="36.848770",
    registration_number="PVT-DEMO-8KJ2Q4",
    currency="KES",
    preferred_language="en",
    email="procurement@mavuno-millers.demo",
    phone="+254202713000",
)

KENYA_SUPPLIER = OrganisationSpec(
    key="kitale-inputs",
    kind=Kind.INPUT_SUPPLIER,
    legal_name="Kitale Farm Inputs Ltd",
    display_name="Kitale Farm Inputs",
    country="KE",
    region="Trans Nzoia, Kitale",
    address="Moi Avenue, P.O. Box 2215-30200 Kitale",
    latitude="1.017460",
    longitude="35.003190",
    registration_number="PVT-DEMO-3RT7X1",
    currency="KES",
    preferred_language="en",
    email="orders@kitale-inputs.demo",
    phone="+254532031200",
)

IVORY_COAST_SUPPLIER = OrganisationSpec(
    key="soubre-intrants",
    kind=Kind.INPUT_SUPPLIER,
    legal_name="Soubré Agro-Intrants SARL",
    display_name="Soubré Agro-Intrants",
    country="CI",
    region="Nawa, Soubré",
    address="Route de Buyo, Soubré",
    latitude="5.791240",
    longitude="-6.598710",
    registration_number="CI-SOU-2016-B-0982",
    currency="XOF",
    preferred_language="fr",
    email="commandes@soubre-intrants.demo",
    phone="+2252734715580",
)

COOPERATIVES = [COCOA, COFFEE, MAIZE]
ORGANISATIONS = [OPERATOR, *COOPERATIVES, COCOA_COFFEE_BUYER, GRAIN_BUYER, KENYA_SUPPLIER, IVORY_COAST_SUPPLIER]
_BY_KEY = {spec.key: spec for spec in ORGANISATIONS}


@dataclass(frozen=True)
class AccountSpec:
    email: str
    full_name: str
    organisation_key: str
    role: str
    language: str = "en"
    lead: bool = False  # the organisation's first admin, bootstrapped; the others are invited by the lead


def _account(local: str, spec: OrganisationSpec, full_name: str, role: str, *, lead: bool = False) -> AccountSpec:
    language = "fr" if spec.preferred_language == "fr" else "en"
    domain = "coopmarket.demo" if spec is OPERATOR else f"{spec.key}.demo"
    return AccountSpec(f"{local}@{domain}", full_name, spec.key, role, language, lead)


# One account per role that matters. The lead of each organisation is its admin (an admin can do all a
# manager can, and also manages the organisation's users).
ACCOUNTS = [
    _account("operator", OPERATOR, "Claire Martin", Role.ADMIN, lead=True),
    _account("manager", COCOA, "Serge Konan", Role.ADMIN, lead=True),
    _account("clerk", COCOA, "Aya Kouamé", Role.CLERK),
    _account("viewer", COCOA, "Didier Gnahoré", Role.VIEWER),
    _account("manager", COFFEE, "Jean de Dieu Habimana", Role.ADMIN, lead=True),
    _account("clerk", COFFEE, "Vestine Mukamana", Role.CLERK),
    _account("manager", MAIZE, "Caleb Wafula", Role.ADMIN, lead=True),
    _account("clerk", MAIZE, "Mercy Chepkemoi", Role.CLERK),
    _account("manager", COCOA_COFFEE_BUYER, "Sanne de Vries", Role.ADMIN, lead=True),
    _account("manager", GRAIN_BUYER, "Wanjiru Kamau", Role.ADMIN, lead=True),
    _account("manager", KENYA_SUPPLIER, "Peter Barasa", Role.ADMIN, lead=True),
    _account("manager", IVORY_COAST_SUPPLIER, "Mariam Traoré", Role.ADMIN, lead=True),
]
SUPERUSER = AccountSpec(SUPERUSER_EMAIL, "Platform Administrator", OPERATOR.key, Role.ADMIN)


def demo_accounts() -> list[dict[str, str]]:
    """Every account the demo creates, as rows for the README table: email, password, organisation, role."""
    rows = [
        {
            "email": a.email,
            "password": PASSWORD,
            "organisation": _BY_KEY[a.organisation_key].display_name,
            "role": Role(a.role).label.lower(),
        }
        for a in ACCOUNTS
    ]
    rows.append(
        {
            "email": SUPERUSER.email,
            "password": PASSWORD,
            "organisation": OPERATOR.display_name,
            "role": "admin + Django superuser (/admin/)",
        }
    )
    return rows


def organisation(key: str) -> Organisation:
    """The seeded organisation with this key (for later seeders)."""
    spec = _BY_KEY[key]
    return Organisation.objects.get(country=spec.country, registration_number=spec.registration_number)


def account(email: str) -> User:
    return User.objects.get(email__iexact=email)


# --- Member farmers and plots: planned deterministically -------------------------------------------


@dataclass(frozen=True)
class PlotPlan:
    name: str
    area_hectares: Decimal
    geometry: dict | None
    established_on: date | None = None


@dataclass(frozen=True)
class FarmerPlan:
    member_number: str
    name: str
    phone: str
    gender: str
    birth_year: int
    village: str
    joined_on: date
    plots: list[PlotPlan] = field(default_factory=list)
    left_reason: str = ""  # set for the few members who have left the cooperative


@dataclass(frozen=True)
class CooperativePlan:
    """What to draw for one cooperative's members."""

    spec: OrganisationSpec
    member_prefix: str
    farmers: int
    women_share: float
    founded: date
    surname_first: bool
    women_first: list[str]
    men_first: list[str]
    women_surnames: list[str]
    men_surnames: list[str]
    villages: list[str]
    phone_prefixes: list[str]  # country code and operator prefix; the rest are random digits
    phone_digits: int
    plot_word: str
    plot_area_ha: tuple[float, float]
    max_plots: int
    geolocated_share: float  # share of plots with a polygon
    grid_spacing_deg: float
    left_reasons: list[str]


FEMALE = MemberFarmer.Gender.FEMALE
MALE = MemberFarmer.Gender.MALE

PLANS = {
    COCOA.key: CooperativePlan(
        spec=COCOA,
        member_prefix="NAW",
        farmers=48,
        women_share=0.31,
        founded=date(2012, 3, 1),
        surname_first=False,
        women_first=["Aya", "Adjoua", "Amenan", "Akissi", "Affoué", "Ahou", "Amoin", "Mariam", "Awa", "Salimata",
                     "Fatou", "Véronique", "Christine", "Brigitte", "Nadège", "Odile", "Henriette", "Rosalie"],
        men_first=["Kouassi", "Yao", "Konan", "Koffi", "Kouadio", "Kouamé", "N'Guessan", "Jean-Baptiste", "Serge",
                   "Mamadou", "Issouf", "Drissa", "Adama", "Lassina", "Arsène", "Didier", "Hervé", "Siaka",
                   "Bakary", "Gervais", "Firmin", "Blaise"],
        women_surnames=[],
        men_surnames=["Kouassi", "Konan", "Kouamé", "N'Guessan", "Kouadio", "Yao", "Koffi", "Amani", "Aka", "Brou",
                      "Gnahoré", "Zadi", "Séry", "Dago", "Tapé", "Gnépa", "Koré", "Digbeu", "Ouédraogo",
                      "Sawadogo", "Traoré", "Coulibaly", "Konaté", "Diabaté", "Koné", "Bamba"],
        villages=["Okrouyo", "Liliyo", "Grand-Zattry", "Yabayo", "Gnamangui", "Oupoyo"],
        phone_prefixes=["+22507", "+22505", "+22501"],
        phone_digits=8,
        plot_word="Parcelle",
        plot_area_ha=(0.6, 4.0),
        max_plots=3,
        geolocated_share=0.9,
        grid_spacing_deg=0.0036,
        left_reasons=["A quitté la région pour Abidjan.", "A rejoint une autre coopérative."],
    ),
    COFFEE.key: CooperativePlan(
        spec=COFFEE,
        member_prefix="NYA",
        farmers=40,
        women_share=0.42,
        founded=date(2008, 6, 15),
        surname_first=True,  # Rwandan registers list the Kinyarwanda name first
        women_first=["Marie Claire", "Vestine", "Odette", "Clémentine", "Joséphine", "Alphonsine", "Béatrice",
                     "Chantal", "Jeanne", "Solange", "Immaculée", "Espérance", "Agnès", "Angélique"],
        men_first=["Jean Bosco", "Emmanuel", "Jean de Dieu", "Innocent", "Théogène", "Eric", "Fidèle", "Célestin",
                   "Jean Damascène", "Alexis", "Evariste", "Anastase", "Félicien"],
        women_surnames=["Mukamana", "Uwimana", "Nyirahabimana", "Mukeshimana", "Uwase", "Ingabire", "Uwamahoro",
                        "Mukandayisenga", "Nyiransabimana", "Umutoni", "Mukarugwiza", "Nyiraneza"],
        men_surnames=["Habimana", "Niyonzima", "Hakizimana", "Bizimana", "Nsengimana", "Ndayisaba", "Mugisha",
                      "Niyitegeka", "Twagirayezu", "Munyaneza", "Harerimana", "Ntakirutimana", "Nshimiyimana"],
        villages=["Kanjongo", "Kagano", "Macuba", "Gihombo", "Kirimbi", "Mahembe"],
        phone_prefixes=["+25078", "+25079", "+25072", "+25073"],
        phone_digits=7,
        plot_word="Umurima",
        plot_area_ha=(0.12, 0.6),
        max_plots=3,
        geolocated_share=0.9,
        grid_spacing_deg=0.0015,
        left_reasons=["Yimukiye i Kigali (moved to Kigali)."],
    ),
    MAIZE.key: CooperativePlan(
        spec=MAIZE,
        member_prefix="TNZ",
        farmers=32,
        women_share=0.38,
        founded=date(2015, 2, 2),
        surname_first=False,
        women_first=["Mercy", "Grace", "Faith", "Everlyne", "Beatrice", "Lilian", "Purity", "Janet", "Rose",
                     "Sarah", "Caroline", "Emily", "Violet", "Nancy"],
        men_first=["Joseph", "Peter", "Wycliffe", "Dennis", "Geoffrey", "Moses", "Caleb", "Nicholas", "John",
                   "Samuel", "Stephen", "Benard", "Evans", "Kennedy"],
        women_surnames=["Nafula", "Nekesa", "Naliaka", "Nasimiyu", "Chepkemoi", "Jepkosgei", "Jeptoo", "Chebet",
                        "Wanjiru", "Wambui", "Cherono", "Jelagat"],
        men_surnames=["Wafula", "Wanjala", "Simiyu", "Barasa", "Wekesa", "Khaemba", "Wamalwa", "Kiprop",
                      "Kipchumba", "Cheruiyot", "Kibet", "Rotich", "Kamau", "Njoroge", "Mutai", "Biwott"],
        villages=["Kiminini", "Saboti", "Matisi", "Sitatunga", "Waitaluk", "Kinyoro"],
        phone_prefixes=["+25470", "+25471", "+25472", "+25479"],
        phone_digits=7,
        plot_word="Shamba",
        plot_area_ha=(0.4, 4.5),
        max_plots=2,
        geolocated_share=0.0,  # maize is not an EUDR commodity; these plots carry no geometry
        grid_spacing_deg=0.004,
        left_reasons=["Sold the farm and moved to Eldoret."],
    ),
}  # fmt: skip


# --- Geometry ------------------------------------------------------------------------------------

_M_PER_DEG_LAT = 110_574.0


def _m_per_deg_lon(latitude: float) -> float:
    return 111_320.0 * math.cos(math.radians(latitude))


def _shoelace(points: list) -> float:
    """Signed area of a closed ring of planar points."""
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in itertools.pairwise(points)) / 2


def ring_area_hectares(ring: list[list[float]]) -> float:
    """Signed area of a closed [lon, lat] ring, in hectares (positive when counter-clockwise).

    A local equal-distance projection around the ring is exact enough for farm-sized polygons.
    """
    lat0 = sum(lat for _, lat in ring) / len(ring)
    lon0 = ring[0][0]
    kx, ky = _m_per_deg_lon(lat0), _M_PER_DEG_LAT
    points = [((lon - lon0) * kx, (lat - lat0) * ky) for lon, lat in ring]
    return _shoelace(points) / 10_000


def _six_decimals(value: float) -> float:
    """Round to 6 decimals, keeping the sixth digit non-zero so that the value shows all six."""
    quantised = Decimal(value).quantize(Decimal("0.000001"))
    if quantised.as_tuple().digits[-1] == 0:
        quantised += Decimal("0.000001")
    return float(quantised)


def plot_polygon(rng: random.Random, *, lon: float, lat: float, hectares: float) -> tuple[dict, Decimal]:
    """A small star-shaped polygon around (lon, lat) of about `hectares`; returns it and its area.

    Vertices go round in increasing angle, so the exterior ring is counter-clockwise as GeoJSON asks,
    and it is closed (the last position repeats the first).
    """
    count = rng.randint(5, 8)
    step = 2 * math.pi / count
    angles = [step * (i + rng.uniform(-0.3, 0.3)) for i in range(count)]
    radii = [rng.uniform(0.8, 1.2) for _ in range(count)]
    unit = [(r * math.cos(a), r * math.sin(a)) for r, a in zip(radii, angles, strict=True)]
    closed_unit = [*unit, unit[0]]
    unit_area = _shoelace(closed_unit)
    scale = math.sqrt(hectares * 10_000 / unit_area)  # metres per unit
    kx, ky = _m_per_deg_lon(lat), _M_PER_DEG_LAT
    ring = [[_six_decimals(lon + x * scale / kx), _six_decimals(lat + y * scale / ky)] for x, y in unit]
    ring.append(list(ring[0]))
    area = Decimal(ring_area_hectares(ring)).quantize(Decimal("0.0001"))
    return {"type": "Polygon", "coordinates": [ring]}, area


# --- Planning ------------------------------------------------------------------------------------


def _phone(rng: random.Random, plan: CooperativePlan, used: set[str]) -> str:
    while True:
        number = rng.choice(plan.phone_prefixes) + "".join(str(rng.randint(0, 9)) for _ in range(plan.phone_digits))
        if number not in used and phonenumbers.is_valid_number(phonenumbers.parse(number)):
            used.add(number)
            return number


def _birth_year(rng: random.Random) -> int:
    band = rng.random()
    if band < 0.22:
        return rng.randint(1992, 2005)  # youth
    if band < 0.75:
        return rng.randint(1966, 1991)
    return rng.randint(1950, 1965)


def farmer_plans(key: str) -> list[FarmerPlan]:
    """The members of one demo cooperative; the same list on every run."""
    plan = PLANS[key]
    rng = random.Random(f"coopmarket-demo:{key}")  # noqa: S311 (demo data, not security)
    women = set(rng.sample(range(plan.farmers), round(plan.farmers * plan.women_share)))
    left = set(rng.sample(range(plan.farmers), len(plan.left_reasons)))
    used_names: set[str] = set()
    used_phones: set[str] = set()
    lon0, lat0 = float(plan.spec.longitude), float(plan.spec.latitude)
    columns = 10
    plot_index = 0
    farmers = []
    for i in range(plan.farmers):
        gender = FEMALE if i in women else MALE
        while True:
            first = rng.choice(plan.women_first if gender == FEMALE else plan.men_first)
            surname_pool = (plan.women_surnames if gender == FEMALE else []) or plan.men_surnames
            surname = rng.choice(surname_pool)
            name = f"{surname} {first}" if plan.surname_first else f"{first} {surname}"
            if name not in used_names:
                used_names.add(name)
                break
        phone = "" if rng.random() < 0.06 else _phone(rng, plan, used_phones)  # a few members have no phone
        span_days = (date(2025, 9, 30) - plan.founded).days
        joined_on = plan.founded + timedelta(days=rng.randint(0, span_days))
        plots = []
        for p in range(1, rng.choices(range(1, plan.max_plots + 1), weights=[50, 35, 15][: plan.max_plots])[0] + 1):
            hectares = round(rng.uniform(*plan.plot_area_ha), 4)
            geometry = None
            area = Decimal(str(hectares)).quantize(Decimal("0.0001"))
            if rng.random() < plan.geolocated_share:
                # Each plot gets its own cell of a grid around the cooperative, so no two plots overlap.
                row, column = divmod(plot_index, columns)
                spacing = plan.grid_spacing_deg
                lon = lon0 + (column - columns / 2 + rng.uniform(-0.05, 0.05)) * spacing
                lat = lat0 + (row - 4 + rng.uniform(-0.05, 0.05)) * spacing
                geometry, area = plot_polygon(rng, lon=lon, lat=lat, hectares=hectares)
            # Established long before the EUDR cut-off (derived from the index, so the random draws stay as they were).
            established_on = date(1990 + plot_index % 25, 1 + plot_index % 12, 1)
            plot_index += 1
            plots.append(
                PlotPlan(
                    name=f"{plan.plot_word} {p}", area_hectares=area, geometry=geometry, established_on=established_on
                )
            )
        farmers.append(
            FarmerPlan(
                member_number=f"{plan.member_prefix}-{i + 1:04d}",
                name=name,
                phone=phone,
                gender=gender,
                birth_year=_birth_year(rng),
                village=rng.choice(plan.villages),
                joined_on=joined_on,
                plots=plots,
                left_reason=plan.left_reasons[sorted(left).index(i)] if i in left else "",
            )
        )
    return farmers


# --- Seeding -------------------------------------------------------------------------------------


class _Counter:
    def __init__(self) -> None:
        self.created: dict[str, int] = {}

    def add(self, what: str, n: int = 1) -> None:
        self.created[what] = self.created.get(what, 0) + n

    def summary(self) -> str:
        if not self.created:
            return "nothing new (already seeded)"
        return ", ".join(f"{n} {what}" for what, n in self.created.items())


def _find_organisation(spec: OrganisationSpec) -> Organisation | None:
    return Organisation.objects.filter(country=spec.country, registration_number=spec.registration_number).first()


def _seed_operator(counter: _Counter) -> tuple[Organisation, User]:
    lead = next(a for a in ACCOUNTS if a.organisation_key == OPERATOR.key and a.lead)
    operator = _find_organisation(OPERATOR)
    if operator is None:
        fields = OPERATOR.fields()
        membership = services.operator_bootstrap(
            legal_name=fields["legal_name"],
            country=fields["country"],
            registration_number=fields["registration_number"],
            currency=fields["currency"],
            admin_email=lead.email,
            admin_password=PASSWORD,
            admin_full_name=lead.full_name,
        )
        operator = membership.organisation
        services.organisation_update(actor=membership.user, organisation_id=operator.pk, **{
            name: value for name, value in fields.items()
            if name not in {"kind", "legal_name", "country", "registration_number", "currency"}
        })  # fmt: skip
        services.user_set_language(actor=membership.user, language=lead.language)
        counter.add("organisations")
        counter.add("users")
    admin = User.objects.get(email__iexact=lead.email)
    return operator, admin


def _seed_lead(spec: AccountSpec, *, organisation: Organisation, operator_admin: User, counter: _Counter) -> User:
    """The operator invites each organisation's first admin, who accepts, as on a real deployment."""
    existing = User.objects.filter(email__iexact=spec.email).first()
    if existing and Membership.objects.filter(user=existing, organisation=organisation).exists():
        return existing
    invitation = Invitation.objects.filter(
        organisation=organisation, email__iexact=spec.email, accepted_at__isnull=True, revoked_at__isnull=True
    ).first() or services.organisation_admin_invite(
        actor=operator_admin, organisation_id=organisation.pk, email=spec.email
    )
    token = services.invitation_token(invitation)
    if existing:
        return services.invitation_accept(token=token, user=existing).user
    user = services.invitation_accept(token=token, password=PASSWORD, full_name=spec.full_name).user
    services.user_set_language(actor=user, language=spec.language)
    counter.add("users")
    counter.add("memberships")
    return user


def _seed_organisation(spec: OrganisationSpec, *, operator_admin: User, counter: _Counter) -> Organisation:
    organisation = _find_organisation(spec)
    if organisation is None:
        organisation = services.organisation_create(actor=operator_admin, **spec.fields())
        counter.add("organisations")
    if organisation.verification_status == Organisation.Verification.PENDING:
        organisation = services.organisation_verification_transition(
            actor=operator_admin, organisation_id=organisation.pk, to_status=Organisation.Verification.VERIFIED,
            reason="Demo organisation: documents checked.",
        )  # fmt: skip
    return organisation


def _seed_invited(spec: AccountSpec, *, organisation: Organisation, inviter: User, counter: _Counter) -> User:
    """Invite through the service and accept the invitation, as a new user would."""
    existing = User.objects.filter(email__iexact=spec.email).first()
    if existing and Membership.objects.filter(user=existing, organisation=organisation).exists():
        return existing
    invitation = Invitation.objects.filter(
        organisation=organisation, email__iexact=spec.email, accepted_at__isnull=True, revoked_at__isnull=True
    ).first()
    if invitation is None:
        invitation = services.invitation_create(
            actor=inviter, organisation_id=organisation.pk, email=spec.email, role=spec.role
        )
    token = services.invitation_token(invitation)
    if existing:
        membership = services.invitation_accept(token=token, user=existing)
    else:
        membership = services.invitation_accept(token=token, password=PASSWORD, full_name=spec.full_name)
        services.user_set_language(actor=membership.user, language=spec.language)
        counter.add("users")
    counter.add("memberships")
    return membership.user


def _seed_superuser(*, operator: Organisation, operator_admin: User, counter: _Counter) -> None:
    user = User.objects.filter(email__iexact=SUPERUSER.email).first()
    if user is None:
        User.objects.create_superuser(SUPERUSER.email, PASSWORD, full_name=SUPERUSER.full_name)
        counter.add("users")
    # A member of the operator too, so that the admin's verification actions may act as the operator.
    _seed_invited(SUPERUSER, organisation=operator, inviter=operator_admin, counter=counter)


def _seed_members(key: str, *, clerk: User, manager: User, counter: _Counter) -> None:
    """The clerk records members and plots; the manager records the few who have left."""
    cooperative = organisation(key)
    existing = {
        f.member_number: f for f in MemberFarmer.objects.filter(organisation=cooperative).prefetch_related("plots")
    }
    for plan in farmer_plans(key):
        farmer = existing.get(plan.member_number)
        plot_names = {p.name for p in farmer.plots.all()} if farmer else set()
        if farmer is None:
            farmer = services.member_farmer_create(
                actor=clerk, organisation_id=cooperative.pk, member_number=plan.member_number, name=plan.name,
                phone=plan.phone, gender=plan.gender, birth_year=plan.birth_year, village=plan.village,
                joined_on=plan.joined_on,
            )  # fmt: skip
            counter.add("member farmers")
            if plan.left_reason:  # recorded once, when the member is first seeded
                services.member_farmer_status_transition(
                    actor=manager, farmer_id=farmer.pk, to_status=MemberFarmer.Status.LEFT, reason=plan.left_reason
                )
        for plot in plan.plots:
            if plot.name not in plot_names:
                services.plot_create(
                    actor=clerk, farmer_id=farmer.pk, name=plot.name, area_hectares=plot.area_hectares,
                    geometry=plot.geometry, established_on=plot.established_on,
                )  # fmt: skip
                counter.add("plots")


@transaction.atomic
def seed(*, stdout: TextIO) -> None:
    counter = _Counter()
    operator, operator_admin = _seed_operator(counter)
    organisations = {OPERATOR.key: operator}
    for spec in ORGANISATIONS:
        if spec is not OPERATOR:
            organisations[spec.key] = _seed_organisation(spec, operator_admin=operator_admin, counter=counter)
    leads: dict[str, User] = {}
    for spec in ACCOUNTS:
        org = organisations[spec.organisation_key]
        if spec.lead and spec.organisation_key != OPERATOR.key:
            leads[spec.organisation_key] = _seed_lead(
                spec, organisation=org, operator_admin=operator_admin, counter=counter
            )
        elif spec.lead:
            leads[spec.organisation_key] = operator_admin
    users: dict[str, User] = {}
    for spec in ACCOUNTS:
        if not spec.lead:
            org = organisations[spec.organisation_key]
            users[spec.email] = _seed_invited(spec, organisation=org, inviter=leads[spec.organisation_key],
                                              counter=counter)  # fmt: skip
    _seed_superuser(operator=operator, operator_admin=operator_admin, counter=counter)
    for coop in COOPERATIVES:
        clerk = users[f"clerk@{coop.key}.demo"]
        _seed_members(coop.key, clerk=clerk, manager=leads[coop.key], counter=counter)
    stdout.write(f"organisations: {counter.summary()}\n")
