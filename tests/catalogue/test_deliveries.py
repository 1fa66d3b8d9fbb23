"""Member deliveries: recording in kg or bags, refusals that say what to fix, downgrades, reversals, the
append-only rule, receipt numbers and the idempotent SMS receipt."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from catalogue import services
from catalogue.models import Delivery, DeliveryReceiptSms, LotIntake
from catalogue.tasks import send_delivery_receipt_sms
from marketplace.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.core.models import AuditEvent
from marketplace.organisations.models import MemberFarmer
from marketplace.organisations.roles import Role
from tests.catalogue.factories import LocationFactory, WarehouseFactory
from tests.factories import MemberFarmerFactory, PlotFactory

pytestmark = pytest.mark.django_db


def test_record_by_net_weight(record, farmer, plot, clerk, coop, grade_1):
    delivery = record(farmer, net_grams=187_500, gross_grams=189_000)
    assert delivery.kind == Delivery.Kind.DELIVERY
    assert (delivery.net_grams, delivery.gross_grams) == (187_500, 189_000)
    assert delivery.grade == grade_1 and delivery.downgraded_from is None
    assert delivery.recorded_by == clerk and delivery.delivered_on == datetime.date.today()
    assert delivery.receipt_number.endswith("-R000001")
    assert AuditEvent.objects.filter(action="delivery.recorded", subject_id=str(delivery.pk)).exists()


def test_record_by_bags_of_a_declared_packaging(record, farmer, plot, jute_bag):
    delivery = record(farmer, net_grams=None, bag_count=3, packaging_id=jute_bag.pk)
    assert delivery.net_grams == 3 * 62_500
    assert delivery.gross_grams == 3 * (62_500 + jute_bag.tare_grams)
    assert delivery.bag_count == 3


def test_receipt_numbers_follow_each_other_per_cooperative(record, farmer, plot):
    first, second = record(farmer), record(farmer)
    prefix = first.receipt_number.rsplit("-R", 1)[0]
    assert first.receipt_number == f"{prefix}-R000001"
    assert second.receipt_number == f"{prefix}-R000002"
    assert prefix.startswith("CAN-")  # Coopérative Agricole de la Nawa


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"net_grams": 0}, "net_weight", "more than 0 kg"),
        ({"net_grams": -5_000}, "net_weight", "more than 0 kg"),
        ({"net_grams": 100_000, "gross_grams": 0}, "gross_weight", "more than 0 kg"),
        ({"net_grams": 100_000, "gross_grams": 90_000}, "gross_weight", "cannot be less than the net"),
        ({"moisture_pct": Decimal("100.5")}, "moisture_pct", "between 0 and 100"),
        ({"moisture_pct": Decimal("-1")}, "moisture_pct", "between 0 and 100"),
        ({"moisture_pct": "wet"}, "moisture_pct", "number of percent"),
        ({"net_grams": None}, "net_weight", "net weight in kg, or the number of bags"),
        ({"bag_count": 2}, "packaging", "Say which bags"),
        ({"bag_count": -1}, "bag_count", "0 or more"),
        ({"delivered_on": datetime.date.today() + datetime.timedelta(days=2)}, "delivered_on", "in the future"),
        ({"plot_id": None}, "plot", "EU Deforestation Regulation"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_is_written(record, farmer, plot, overrides, field, words):
    with pytest.raises(ValidationFailed) as refused:
        record(farmer, **overrides)
    assert field in refused.value.fields
    assert words in refused.value.fields[field][0]
    assert words in refused.value.message
    assert Delivery.objects.count() == 0
    assert not AuditEvent.objects.filter(action="delivery.recorded").exists()


def test_a_grade_of_another_commodity_is_refused(record, farmer, plot, maize_grade_1):
    with pytest.raises(ValidationFailed) as refused:
        record(farmer, grade_id=maize_grade_1.pk)
    assert "is a grade of Maize, white, not of Cocoa beans" in refused.value.fields["grade"][0]
    assert Delivery.objects.count() == 0


def test_packaging_without_a_net_mass_is_refused(record, farmer, plot, bottle):
    with pytest.raises(ValidationFailed) as refused:
        record(farmer, net_grams=None, bag_count=2, packaging_id=bottle.pk)
    assert "declared net mass" in refused.value.fields["packaging"][0]


def test_moisture_above_the_grade_limit_is_refused_with_a_hint(record, farmer, plot):
    with pytest.raises(ValidationFailed) as refused:
        record(farmer, moisture_pct=Decimal("7.9"))
    message = refused.value.fields["moisture_pct"][0]
    assert "7.9 % is above the 7.5 % limit of Grade I" in message
    assert "record a downgrade to Grade II" in message
    assert Delivery.objects.count() == 0


def test_a_downgrade_records_the_lower_grade_and_the_declared_one(record, farmer, plot, grade_1, grade_2):
    delivery = record(farmer, moisture_pct=Decimal("7.9"), downgrade_to_grade_id=grade_2.pk)
    assert delivery.grade == grade_2
    assert delivery.downgraded_from == grade_1


def test_a_downgrade_must_still_meet_the_lower_grade_limit(record, farmer, plot, grade_2):
    with pytest.raises(ValidationFailed) as refused:
        record(farmer, moisture_pct=Decimal("9"), downgrade_to_grade_id=grade_2.pk)
    assert "limit of Grade II too" in refused.value.fields["moisture_pct"][0]


def test_a_downgrade_goes_down_not_up(record, farmer, plot, grade_1, grade_2):
    with pytest.raises(ValidationFailed) as refused:
        record(farmer, grade_id=grade_2.pk, moisture_pct=Decimal("7"), downgrade_to_grade_id=grade_1.pk)
    assert "lower grade" in refused.value.fields["downgrade_to"][0]


def test_farmers_plots_and_places_must_be_the_cooperatives_own(record, farmer, plot, other_coop):
    stranger = MemberFarmerFactory(organisation=other_coop)
    stranger_plot = PlotFactory(farmer=stranger)
    with pytest.raises(ValidationFailed) as refused:
        record(stranger, plot_id=stranger_plot.pk)
    assert "member of your cooperative" in refused.value.fields["farmer"][0]
    with pytest.raises(ValidationFailed) as refused:
        record(farmer, plot_id=stranger_plot.pk)
    assert "this member's plots" in refused.value.fields["plot"][0]
    elsewhere = LocationFactory(organisation=other_coop)
    with pytest.raises(ValidationFailed) as refused:
        record(farmer, collection_point_id=elsewhere.pk)
    assert "collection points" in refused.value.fields["collection_point"][0]
    store = WarehouseFactory(organisation=farmer.organisation)
    with pytest.raises(ValidationFailed):
        record(farmer, collection_point_id=store.pk)


def test_members_who_left_cannot_deliver(record, farmer, plot):
    MemberFarmer.objects.filter(pk=farmer.pk).update(status=MemberFarmer.Status.LEFT)
    with pytest.raises(ValidationFailed) as refused:
        record(farmer)
    assert "only active members deliver" in refused.value.fields["farmer"][0]


def test_only_staff_who_record_may_record(record, farmer, plot, viewer, outsider):
    with pytest.raises(PermissionDenied):
        record(farmer, actor=viewer)
    with pytest.raises(NotFound):
        record(farmer, actor=outsider)
    assert Delivery.objects.count() == 0


def test_a_buyer_cannot_record_deliveries(member_of, farmer, plot, record):
    from tests.factories import OrganisationFactory

    buyer = OrganisationFactory(kind="buyer")
    user = member_of(buyer, Role.MANAGER)
    with pytest.raises(ValidationFailed) as refused:
        record(farmer, actor=user, organisation_id=buyer.pk)
    assert "Only cooperatives" in refused.value.message


def test_resubmitting_the_same_form_returns_the_first_delivery(record, farmer, plot):
    reference = uuid.uuid4()
    first = record(farmer, client_reference=reference)
    again = record(farmer, client_reference=reference)
    assert again.pk == first.pk and again.replayed and not first.replayed
    assert Delivery.objects.count() == 1
    assert AuditEvent.objects.filter(action="delivery.recorded").count() == 1


def test_a_reference_reused_for_another_member_is_refused(record, farmer, plot, farmers):
    reference = uuid.uuid4()
    record(farmer, client_reference=reference)
    with pytest.raises(Conflict):
        record(farmers[0], client_reference=reference)


# --- Reversals and the append-only rule -------------------------------------------------


def test_a_reversal_negates_the_original_and_names_it(record, farmer, plot, clerk):
    original = record(farmer, net_grams=120_000, gross_grams=121_000)
    reversal = services.delivery_reverse(actor=clerk, delivery_id=original.pk, reason="Wrong member")
    assert reversal.kind == Delivery.Kind.REVERSAL and reversal.reverses == original
    assert (reversal.net_grams, reversal.gross_grams) == (-120_000, -121_000)
    assert reversal.reason == "Wrong member"
    assert reversal.receipt_number != original.receipt_number
    assert sum(Delivery.objects.filter(farmer=farmer).values_list("net_grams", flat=True)) == 0
    assert AuditEvent.objects.filter(action="delivery.reversed", subject_id=str(original.pk)).exists()


def test_reversal_needs_a_reason_and_happens_once(record, farmer, plot, clerk):
    original = record(farmer)
    with pytest.raises(ValidationFailed) as refused:
        services.delivery_reverse(actor=clerk, delivery_id=original.pk, reason="  ")
    assert "reason" in refused.value.fields
    reversal = services.delivery_reverse(actor=clerk, delivery_id=original.pk, reason="Typo")
    with pytest.raises(Conflict, match="already been reversed"):
        services.delivery_reverse(actor=clerk, delivery_id=original.pk, reason="Again")
    with pytest.raises(Conflict, match="itself a reversal"):
        services.delivery_reverse(actor=clerk, delivery_id=reversal.pk, reason="Undo")


def test_a_bulked_delivery_cannot_be_reversed(make_lot, clerk):
    lot = make_lot()
    delivery = LotIntake.objects.filter(lot=lot).first().delivery
    with pytest.raises(Conflict, match=f"already in lot {lot.code}"):
        services.delivery_reverse(actor=clerk, delivery_id=delivery.pk, reason="Late correction")


def test_outsiders_cannot_reverse(record, farmer, plot, outsider, viewer):
    original = record(farmer)
    with pytest.raises(NotFound):
        services.delivery_reverse(actor=outsider, delivery_id=original.pk, reason="x")
    with pytest.raises(PermissionDenied):
        services.delivery_reverse(actor=viewer, delivery_id=original.pk, reason="x")


def test_the_database_refuses_to_edit_or_delete_a_delivery(record, farmer, plot):
    delivery = record(farmer)
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(net_grams=1)
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM catalogue_delivery WHERE id = %s", [delivery.pk])


def test_the_database_refuses_impossible_quantities(
    record, farmer, plot, coop, clerk, collection_point, cocoa, grade_1
):
    base = {
        "organisation": coop, "collection_point": collection_point, "farmer": farmer, "commodity": cocoa,
        "grade": grade_1, "moisture_pct": Decimal("7"), "delivered_on": datetime.date.today(), "recorded_by": clerk,
    }  # fmt: skip
    for index, (net, gross) in enumerate([(0, 0), (-5, -5), (100, 50)]):
        with pytest.raises(IntegrityError), transaction.atomic():
            Delivery.objects.create(receipt_number=f"X-{index}", net_grams=net, gross_grams=gross, **base)
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(receipt_number="X-M", net_grams=1, gross_grams=1, **{**base, "moisture_pct": 101})


# --- SMS receipt ------------------------------------------------------------------------


def test_the_farmer_gets_one_sms_receipt_after_commit(
    record, farmer, plot, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        delivery = record(farmer, net_grams=187_500)
    assert len(callbacks) == 2  # the SMS receipt's dispatch and the new data version of the cooperative
    assert len(sms_outbox) == 1
    message = sms_outbox[0]
    assert message.to == str(farmer.phone)
    assert delivery.receipt_number in message.body and "187.5 kg" in message.body
    assert DeliveryReceiptSms.objects.get(delivery=delivery).outcome == DeliveryReceiptSms.Outcome.SENT


def test_the_sms_task_is_idempotent(record, farmer, plot, sms_outbox):
    delivery = record(farmer)
    assert send_delivery_receipt_sms.delay(delivery.pk).get() is True
    assert send_delivery_receipt_sms.delay(delivery.pk).get() is False
    assert send_delivery_receipt_sms(delivery.pk) is False
    assert len(sms_outbox) == 1
    assert send_delivery_receipt_sms(999_999) is False


def test_no_sms_is_sent_without_a_phone(record, coop, sms_outbox):
    silent = MemberFarmerFactory(organisation=coop, phone="")
    PlotFactory(farmer=silent)
    delivery = record(silent)
    assert send_delivery_receipt_sms(delivery.pk) is False
    assert sms_outbox == []
    assert DeliveryReceiptSms.objects.get(delivery=delivery).outcome == DeliveryReceiptSms.Outcome.NO_PHONE


def test_a_reversal_sends_a_correction_sms(record, farmer, plot, clerk, sms_outbox, django_capture_on_commit_callbacks):
    original = record(farmer)
    with django_capture_on_commit_callbacks(execute=True):
        reversal = services.delivery_reverse(actor=clerk, delivery_id=original.pk, reason="Wrong member")
    assert len(sms_outbox) == 1
    # In the member's language: the cooperative's French here (each language: tests/channels/test_translations.py).
    assert f"annule {original.receipt_number}" in sms_outbox[0].body
    assert reversal.receipt_number in sms_outbox[0].body
