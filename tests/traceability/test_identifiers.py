import pytest

from marketplace.core.errors import ValidationFailed
from tests.factories import OrganisationFactory
from traceability import identifiers

pytestmark = pytest.mark.django_db


def test_without_gs1_keys_identifiers_live_under_the_sites_domain(settings):
    settings.SITE_BASE_URL = "https://coop.example.org/"
    organisation = OrganisationFactory(gln="")
    pk = organisation.pk
    assert identifiers.organisation_uri(organisation) == f"https://coop.example.org/id/org/{pk}"
    assert identifiers.location_uri(organisation) == f"https://coop.example.org/id/location/{pk}"
    assert (
        identifiers.location_uri(organisation, "Magasin 2") == f"https://coop.example.org/id/location/{pk}/Magasin%202"
    )
    lot = identifiers.lot_uri(organisation=organisation, lot_code="CAC/2026/07")
    assert lot == f"https://coop.example.org/id/lot/{pk}/CAC%2F2026%2F07"
    assert identifiers.lot_code_of(lot) == "CAC/2026/07"
    assert (
        identifiers.delivery_uri(organisation=organisation, reference=81)
        == f"https://coop.example.org/id/delivery/{pk}/81"
    )
    assert identifiers.order_uri("order:77") == identifiers.order_uri(77) == "https://coop.example.org/id/order/77"
    assert identifiers.parse_order("order:77") == identifiers.parse_order(identifiers.order_uri(77)) == "77"
    assert identifiers.parse_order(lot) is None


def test_gs1_digital_link_only_with_the_organisations_own_keys():
    organisation = OrganisationFactory(gln="5012345000015")
    assert identifiers.location_uri(organisation) == "https://id.gs1.org/414/5012345000015"
    assert identifiers.location_uri(organisation, "WH1") == "https://id.gs1.org/414/5012345000015/254/WH1"
    assert identifiers.organisation_uri(organisation) == "https://id.gs1.org/417/5012345000015"
    assert (
        identifiers.lot_uri(organisation=organisation, lot_code="B12", gtin="05012345000022")
        == "https://id.gs1.org/01/05012345000022/10/B12"
    )
    # Without a GTIN the lot is not given a made-up one.
    assert identifiers.lot_uri(organisation=organisation, lot_code="B12").endswith(f"/id/lot/{organisation.pk}/B12")
    assert identifiers.lot_code_of("https://id.gs1.org/01/05012345000022/10/B12") == "B12"


@pytest.mark.parametrize("gtin", ["5012345000023", "12345", "ABCDEFGHIJKLM"])
def test_a_wrong_gtin_is_refused(gtin):
    with pytest.raises(ValidationFailed, match="GTIN"):
        identifiers.lot_uri(organisation=OrganisationFactory(), lot_code="B1", gtin=gtin)


def test_a_lot_code_gs1_cannot_carry_is_refused_for_a_gtin_lot():
    with pytest.raises(ValidationFailed, match="batch/lot"):
        identifiers.lot_uri(organisation=OrganisationFactory(), lot_code="LOT WITH SPACES", gtin="5012345000022")


def test_uri_check():
    assert identifiers.is_uri("urn:uuid:0f0e")
    assert identifiers.is_uri("https://id.gs1.org/414/5012345000015")
    assert not identifiers.is_uri("lot 7")
    assert not identifiers.is_uri("https://x.org/a b")
    assert not identifiers.is_uri("")
