import datetime
import itertools

import pytest
from django.utils import timezone

from marketplace.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from marketplace.core.models import AuditEvent
from orders.group_models import MemberRequest, OrderingWindow, RequestChange
from orders.services import group_windows
from tests.factories import MembershipFactory, OrganisationFactory
from tests.orders.group_factories import ask, make_group_world

pytestmark = pytest.mark.django_db

STATUSES = ["draft", "open", "closed", "ordered", "completed", "cancelled"]
ALLOWED = {
    ("draft", "open"), ("draft", "cancelled"),
    ("open", "closed"), ("open", "cancelled"),
    ("closed", "open"), ("closed", "ordered"), ("closed", "cancelled"),
    ("ordered", "completed"),
}  # fmt: skip


@pytest.mark.parametrize(("source", "target"), list(itertools.product(STATUSES, STATUSES)))
def test_window_transition_table(source, target):
    assert group_windows.WINDOW_TABLE.allows(source, target) == ((source, target) in ALLOWED)


@pytest.mark.parametrize(("source", "target"), sorted(ALLOWED))
def test_every_allowed_window_move_goes_through_the_service(source, target):
    world = make_group_world(open_window=False)
    OrderingWindow.objects.filter(pk=world.window.pk).update(status=source)
    window = group_windows.window_transition(actor=world.manager, window_id=world.window.pk, to_status=target,
                                             reason="test")  # fmt: skip
    assert window.status == target
    assert AuditEvent.objects.filter(action=f"ordering_window.{target}", subject_id=str(window.pk)).exists()


def test_a_forbidden_move_is_409_and_a_clerk_cannot_move_a_window():
    world = make_group_world(open_window=False)
    with pytest.raises(InvalidTransition):
        group_windows.window_transition(actor=world.manager, window_id=world.window.pk, to_status="completed")
    with pytest.raises(PermissionDenied):
        group_windows.window_transition(actor=world.clerk, window_id=world.window.pk, to_status="open")
    with pytest.raises(ValidationFailed):
        group_windows.window_transition(actor=world.manager, window_id=world.window.pk, to_status="cancelled")


def test_extending_a_closed_window_moves_its_closing_time():
    world = make_group_world(extend_days=5)
    group_windows.window_transition(actor=world.manager, window_id=world.window.pk, to_status="closed")
    window = group_windows.window_transition(actor=world.manager, window_id=world.window.pk, to_status="open")
    assert window.closes_at > timezone.now() + datetime.timedelta(days=4, hours=23)
    assert window.accepts_requests()


def test_requests_are_timestamped_changes():
    world = make_group_world()
    farmer, product = world.farmers[0], world.products[0]
    ask(world, farmer, product, 60_000, 10_000)
    request = ask(world, farmer, product, -20_000)
    assert (request.quantity, request.tolerance) == (40_000, 10_000)
    changes = list(RequestChange.objects.filter(request=request).order_by("id"))
    assert [(c.quantity_delta, c.tolerance_delta) for c in changes] == [(60_000, 10_000), (-20_000, 0)]
    assert changes[0].recorded_by == world.clerk and changes[0].recorded_at <= changes[1].recorded_at
    with pytest.raises(ValidationFailed) as error:
        ask(world, farmer, product, -50_000)
    assert "quantity_delta" in error.value.fields
    with pytest.raises(ValidationFailed):
        ask(world, farmer, product, 0, 0)


def test_bad_input_names_the_field():
    world = make_group_world()
    with pytest.raises(ValidationFailed) as error:
        group_windows.request_change(actor=world.clerk, window_id=world.window.pk, member_number="nobody",
                                     product_id=999_999, quantity_delta="lots")  # fmt: skip
    assert set(error.value.fields) >= {"member_number", "product", "quantity_delta"}
    now = timezone.now()
    with pytest.raises(ValidationFailed) as error:
        group_windows.window_create(actor=world.manager, organisation_id=world.coop.pk, name="", product_ids=[],
                                    opens_at=now, closes_at=now)  # fmt: skip
    assert set(error.value.fields) >= {"name", "closes_at", "products"}


def test_a_request_after_closing_is_a_conflict():
    world = make_group_world()
    ask(world, world.farmers[0], world.products[0], 50_000)
    now = timezone.now()
    OrderingWindow.objects.filter(pk=world.window.pk).update(
        closes_at=now - datetime.timedelta(seconds=1), opens_at=now - datetime.timedelta(days=1)
    )
    with pytest.raises(Conflict) as error:
        ask(world, world.farmers[0], world.products[0], 50_000)
    assert error.value.code == "window_closed"
    assert group_windows.windows_close_due() == 1
    with pytest.raises(Conflict):
        ask(world, world.farmers[1], world.products[0], 50_000)
    assert MemberRequest.objects.get().quantity == 50_000


def test_box_fill_refuses_only_changes_that_empty_a_filled_pack():
    now = timezone.now()
    world = make_group_world(opens_at=now - datetime.timedelta(days=2), box_fill_at=now - datetime.timedelta(hours=1))
    product = world.products[0]  # 50 kg bags
    ask(world, world.farmers[0], product, 70_000)  # 1 pack, 20 kg over
    ask(world, world.farmers[1], product, 30_000)  # 100 kg: 2 packs
    ask(world, world.farmers[0], product, -0, 5_000)  # adding tolerance is fine
    with pytest.raises(Conflict) as error:
        ask(world, world.farmers[1], product, -10_000)  # 90 kg + 5 kg tolerance: 1 pack
    assert error.value.code == "box_fill"
    ask(world, world.farmers[0], product, 10_000)  # 110 kg
    ask(world, world.farmers[0], product, -10_000)  # back to 100 kg: still 2 packs


def test_other_cooperatives_and_suppliers_cannot_touch_a_window():
    world = make_group_world()
    stranger = MembershipFactory(organisation=OrganisationFactory()).user
    for actor in (stranger, world.supplier_users[0]):
        with pytest.raises(NotFound):
            ask(world, world.farmers[0], world.products[0], 50_000, actor=actor)
        with pytest.raises(NotFound):
            group_windows.window_transition(actor=actor, window_id=world.window.pk, to_status="closed")
    with pytest.raises(PermissionDenied):  # a viewer of the cooperative cannot record
        ask(world, world.farmers[0], world.products[0], 50_000, actor=world.viewer)
    other = make_group_world()
    with pytest.raises(ValidationFailed):  # another cooperative's member
        ask(world, other.farmers[0], world.products[0], 50_000)


def test_members_are_told_when_a_window_opens_and_two_days_before_it_closes(
    settings, django_capture_on_commit_callbacks
):
    from marketplace.core.sms import MemorySmsBackend

    settings.SMS_BACKEND = "marketplace.core.sms.MemorySmsBackend"
    MemorySmsBackend.outbox.clear()
    world = make_group_world(open_window=False, closes_at=timezone.now() + datetime.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        group_windows.window_transition(actor=world.manager, window_id=world.window.pk, to_status="open")
    assert {m.to for m in MemorySmsBackend.outbox} == {str(f.phone) for f in world.farmers}
    assert all("commandes d'intrants ouvertes" in m.body for m in MemorySmsBackend.outbox)  # the cooperative's language
    MemorySmsBackend.outbox.clear()
    ask(world, world.farmers[0], world.products[0], 50_000)
    with django_capture_on_commit_callbacks(execute=True):
        assert group_windows.windows_remind_due() == 1
        assert group_windows.windows_remind_due() == 0  # once per window
    assert {m.to for m in MemorySmsBackend.outbox} == {str(f.phone) for f in world.farmers}
    assert "ferment le" in MemorySmsBackend.outbox[0].body


# Segments per message and language, with a 25-character cooperative name and two products: a change of wording that
# costs one more SMS per member must change this table.
WINDOW_SMS_SEGMENTS = {
    ("opened", "en"): 1, ("opened", "fr"): 1, ("opened", "sw"): 1,
    ("closing", "en"): 1, ("closing", "fr"): 1, ("closing", "sw"): 1,
    ("extended", "en"): 1, ("extended", "fr"): 2, ("extended", "sw"): 1,
    ("cancelled", "en"): 1, ("cancelled", "fr"): 1, ("cancelled", "sw"): 1,
}  # fmt: skip


@pytest.mark.parametrize(("what", "language"), sorted(WINDOW_SMS_SEGMENTS))
def test_each_window_sms_states_its_segments(what, language):
    from django.utils import translation

    from marketplace.core.sms_segments import sms_segments
    from orders.group_tasks import MESSAGES

    values = {"coop": "Trans Nzoia Maize Growers", "closes": "20/12 18:00", "products": "DAP 50 kg, H614D 2 kg"}
    with translation.override(language):
        text = str(MESSAGES[what]) % values
    assert sms_segments(text).count == WINDOW_SMS_SEGMENTS[(what, language)], text
    if language != "en":
        with translation.override("en"):
            assert text != str(MESSAGES[what]) % values  # translated, not the English fallback


def test_the_opening_sms_is_in_each_members_language_and_names_the_keyword(
    settings, django_capture_on_commit_callbacks
):
    from marketplace.core.sms import MemorySmsBackend

    settings.SMS_BACKEND = "marketplace.core.sms.MemorySmsBackend"
    MemorySmsBackend.outbox.clear()
    world = make_group_world(open_window=False, closes_at=timezone.now() + datetime.timedelta(days=5))
    english, swahili, *_ = world.farmers  # the cooperative speaks French
    english.language, swahili.language = "en", "sw"
    english.save(update_fields=["language"])
    swahili.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=True):
        group_windows.window_transition(actor=world.manager, window_id=world.window.pk, to_status="open")
    body = {m.to: m.body for m in MemorySmsBackend.outbox}
    assert "Send INPUT" in body[str(english.phone)]
    assert "Tuma PEMBEJEO" in body[str(swahili.phone)]
    others = [f for f in world.farmers if f not in (english, swahili) and not f.language]
    assert others and all("Envoyez INTRANT" in body[str(f.phone)] for f in others)
