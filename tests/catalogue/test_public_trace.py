"""The public trace page of a lot (no account needed, by the lot's public id), its bag label with the QR code,
and the cooperative's choice to name its members there."""

import datetime
import uuid

import pytest
import segno

from catalogue import services
from catalogue.models import CooperativeTraceSettings
from catalogue.selectors import lot_public_trace
from catalogue.views import trace_url
from marketplace.core.errors import NotFound, PermissionDenied
from marketplace.core.models import AuditEvent

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 1, 12)


@pytest.fixture
def journey(record, manager, coop, warehouse, farmers, fairtrade):
    """Three deliveries bulked, the lot split, one part moved to another warehouse."""
    deliveries = [
        record(farmers[0], net_grams=250_000, delivered_on=DAY),
        record(farmers[1], net_grams=180_000, delivered_on=DAY + datetime.timedelta(days=2)),
        record(farmers[2], net_grams=320_000, delivered_on=DAY + datetime.timedelta(days=5)),
    ]
    lot = services.lot_bulk(actor=manager, organisation_id=coop.pk, delivery_ids=[d.pk for d in deliveries],
                            storage_location_id=warehouse.pk)  # fmt: skip
    part, rest = services.lot_split(actor=manager, lot_id=lot.pk, parts_grams=[300_000])
    from tests.catalogue.factories import WarehouseFactory

    annex = WarehouseFactory(organisation=coop, code="annex", name="Méagui annex")
    services.lot_move(actor=manager, lot_id=part.pk, storage_location_id=annex.pk)
    return {"lot": lot, "part": part, "rest": rest, "farmers": farmers[:3]}


def test_anyone_reads_the_journey_without_members_names(client, journey, coop, collection_point, fairtrade):
    part = journey["part"]
    response = client.get(f"/catalogue/trace/{part.public_id}/")
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex"
    html = response.content.decode()
    assert coop.name in html and "Nawa" in html
    public = lot_public_trace(public_id=part.public_id)
    assert (public.harvest_start, public.harvest_end) == (DAY, DAY + datetime.timedelta(days=5))
    assert 'data-testid="harvest">' in html
    assert [step.kind for step in public.steps] == ["delivered", "bulked", "split", "stored"]
    assert "3 member deliveries from 3 members" in html
    assert f"Lot {journey['lot'].code} split into {part.code}, {journey['rest'].code}" in html
    assert "Méagui annex" in html and collection_point.name in html
    assert fairtrade.certificate_number in html
    for farmer in journey["farmers"]:
        assert farmer.name not in html and farmer.member_number not in html
        for plot in farmer.plots.all():
            assert plot.name not in html
    assert "Nawa, CI: 3 members, 3 plots, 4.5 ha" in html


def test_the_cooperative_may_opt_in_to_name_its_members(client, login, manager, journey):
    part = journey["part"]
    client_manager = login(manager)
    response = client_manager.post("/catalogue/trace-settings/", {"show_producers": "on",
                                                                  "next": f"/catalogue/lots/{part.pk}/"})  # fmt: skip
    assert response.status_code == 302 and response["Location"] == f"/catalogue/lots/{part.pk}/"
    assert AuditEvent.objects.filter(action="trace_settings.updated").exists()
    client_manager.logout()
    html = client.get(f"/catalogue/trace/{part.public_id}/").content.decode()
    for farmer in journey["farmers"]:
        assert farmer.name in html
    login(manager).post("/catalogue/trace-settings/", {})
    client.logout()
    html = client.get(f"/catalogue/trace/{part.public_id}/").content.decode()
    assert all(farmer.name not in html for farmer in journey["farmers"])


def test_only_managers_choose_and_only_for_their_own_cooperative(clerk, outsider, coop, other_coop):
    with pytest.raises(PermissionDenied):
        services.trace_settings_update(actor=clerk, organisation_id=coop.pk, show_producers=True)
    with pytest.raises(NotFound):
        services.trace_settings_update(actor=outsider, organisation_id=coop.pk, show_producers=True)
    assert not CooperativeTraceSettings.objects.filter(organisation=coop).exists()


def test_unknown_or_guessed_ids_are_not_found(client, journey):
    assert client.get(f"/catalogue/trace/{uuid.uuid4()}/").status_code == 404
    assert client.get(f"/catalogue/trace/{journey['part'].pk}/").status_code == 404
    assert client.get("/catalogue/trace/not-a-uuid/").status_code == 404
    with pytest.raises(NotFound):
        lot_public_trace(public_id="not-a-uuid")


def test_the_bag_label_carries_the_qr_code_of_the_public_page(login, viewer, journey, settings):
    part = journey["part"]
    page = login(viewer).get(f"/catalogue/lots/{part.pk}/label/")
    assert page.status_code == 200
    html = page.content.decode()
    url = trace_url(part)
    assert url == f"{settings.SITE_BASE_URL.rstrip('/')}/catalogue/trace/{part.public_id}/"
    assert segno.make(url, error="m", micro=False).svg_inline(scale=4, title=url) in html
    assert f'data-testid="lot-code">{part.code}<' in html


def test_the_label_and_the_lot_page_are_for_the_cooperative_only(client, login, outsider, viewer, journey):
    part = journey["part"]
    anonymous = client.get(f"/catalogue/lots/{part.pk}/label/")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    other = login(outsider)
    assert other.get(f"/catalogue/lots/{part.pk}/label/").status_code == 404
    assert other.get(f"/catalogue/lots/{part.pk}/").status_code == 404
    own = login(viewer).get(f"/catalogue/lots/{part.pk}/").content.decode()
    assert f"/catalogue/trace/{part.public_id}/" in own and f"/catalogue/lots/{part.pk}/label/" in own
    assert 'name="show_producers"' not in own  # a viewer cannot change the choice


def test_a_sale_shows_on_the_page_without_the_buyer(client, settings):
    from tests.orders.factories import advance, make_world, place

    settings.ORDER_EVENT_SUBSCRIBERS = []
    world = make_world()
    advance(world, place(world), "dispatched")
    lot = world.listing.lot
    html = client.get(f"/catalogue/trace/{lot.public_id}/").content.decode()
    assert f"Lot {lot.code} sold to a buyer" in html and f"Lot {lot.code} dispatched" in html
    assert world.buyer.organisation.name not in html
