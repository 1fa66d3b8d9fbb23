"""The event store: append-only EPCIS 2.0 events, their lot edges, and one hash chain per organisation.

Events name lots, orders and receipts by identifier (see `traceability.identifiers`), never by foreign key,
so the apps above (catalogue, orders) can record their steps here without this app knowing their models.
Rows of `Event` and `EventLot` are never updated or deleted: a PostgreSQL trigger refuses it
(migration 0002), and a mistake is corrected by an error declaration plus a corrective event.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

GENESIS_HASH = "0" * 64


class EventType(models.TextChoices):
    OBJECT = "ObjectEvent", _("Object event")
    AGGREGATION = "AggregationEvent", _("Aggregation event")
    TRANSFORMATION = "TransformationEvent", _("Transformation event")
    TRANSACTION = "TransactionEvent", _("Transaction event")


class Action(models.TextChoices):
    ADD = "ADD", _("Add")
    OBSERVE = "OBSERVE", _("Observe")
    DELETE = "DELETE", _("Delete")


class LotRole(models.TextChoices):
    OBSERVED = "observed", _("Observed")  # quantityList of an ObjectEvent or TransactionEvent
    CHILD = "child", _("Child")  # childQuantityList of an AggregationEvent
    # inputQuantityList and outputQuantityList of a TransformationEvent; in context, as "Input" alone is the farm
    # inputs (seed, fertiliser) everywhere else
    INPUT = "input", pgettext_lazy("transformation", "Input")
    OUTPUT = "output", pgettext_lazy("transformation", "Output")


class Event(models.Model):
    """One EPCIS event, or an error declaration about an earlier one (`declares` is set).

    An error declaration row carries the declared event's type and action and its own record time; the
    EPCIS export renders it as a copy of the declared event with an `errorDeclaration` member, as EPCIS 2.0
    asks. Every row, declarations included, is a link in its organisation's hash chain.
    """

    organisation = models.ForeignKey(
        "organisations.Organisation", verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="+"
    )
    sequence = models.PositiveBigIntegerField(_("sequence in the organisation's chain"))
    event_id = models.CharField(_("event ID"), max_length=100, unique=True)
    event_type = models.CharField(_("event type"), max_length=32, choices=EventType.choices)
    action = models.CharField(_("action"), max_length=8, choices=Action.choices, blank=True)
    biz_step = models.CharField(_("business step"), max_length=300, blank=True)
    disposition = models.CharField(_("disposition"), max_length=300, blank=True)
    event_time = models.DateTimeField(_("event time"), db_index=True)
    event_time_zone_offset = models.CharField(_("event time zone offset"), max_length=6)
    record_time = models.DateTimeField(_("record time"), db_index=True)
    read_point = models.CharField(_("read point"), max_length=500, blank=True)
    biz_location = models.CharField(_("business location"), max_length=500, blank=True)
    parent_id = models.CharField(_("parent ID"), max_length=500, blank=True)
    transformation_id = models.CharField(_("transformation ID"), max_length=500, blank=True)
    source_list = models.JSONField(_("sources"), default=list, blank=True)
    destination_list = models.JSONField(_("destinations"), default=list, blank=True)
    biz_transaction_list = models.JSONField(_("business transactions"), default=list, blank=True)
    sensor_element_list = models.JSONField(_("sensor elements"), default=list, blank=True)
    ilmd = models.JSONField(_("instance/lot master data"), default=dict, blank=True)
    declares = models.ForeignKey(
        "self",
        verbose_name=_("declares erroneous"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="error_declarations",
    )
    declaration_time = models.DateTimeField(_("declaration time"), null=True, blank=True)
    error_reason = models.CharField(_("error reason"), max_length=300, blank=True)
    corrective_event_ids = models.JSONField(_("corrective event IDs"), default=list, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    previous_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    class Meta:
        ordering = ["organisation_id", "sequence"]
        verbose_name = _("traceability event")
        verbose_name_plural = _("traceability events")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "sequence"], name="trace_event_chain_position_unique"),
            models.UniqueConstraint(
                fields=["declares"], condition=models.Q(declares__isnull=False), name="trace_event_declared_once"
            ),
            models.CheckConstraint(condition=models.Q(sequence__gte=1), name="trace_event_sequence_positive"),
            models.CheckConstraint(
                condition=models.Q(event_type=EventType.TRANSFORMATION, action="")
                | (~models.Q(event_type=EventType.TRANSFORMATION) & models.Q(action__in=Action.values)),
                name="trace_event_action_matches_type",
            ),
            models.CheckConstraint(
                condition=models.Q(declares__isnull=True) | models.Q(declaration_time__isnull=False),
                name="trace_event_declaration_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "record_time"], name="trace_event_org_recorded"),
            GinIndex(fields=["source_list"], opclasses=["jsonb_path_ops"], name="trace_event_sources_gin"),
            GinIndex(fields=["biz_transaction_list"], opclasses=["jsonb_path_ops"], name="trace_event_biztx_gin"),
        ]

    def __str__(self) -> str:
        if self.declares_id:
            return f"#{self.sequence} error declaration on {self.declares_id}"
        return f"#{self.sequence} {self.event_type} {self.biz_step or ''}".strip()

    @property
    def is_declaration(self) -> bool:
        return self.declares_id is not None


class EventLot(models.Model):
    """A lot identifier named by an event, with its quantity in grams: the edges of the lot genealogy."""

    event = models.ForeignKey(Event, verbose_name=_("event"), on_delete=models.PROTECT, related_name="lots")
    role = models.CharField(_("role"), max_length=10, choices=LotRole.choices)
    position = models.PositiveSmallIntegerField(_("position"))
    lot_uri = models.CharField(_("lot identifier"), max_length=500)
    grams = models.BigIntegerField(_("quantity (g)"), null=True, blank=True)

    class Meta:
        ordering = ["event_id", "role", "position"]
        verbose_name = _("event lot")
        verbose_name_plural = _("event lots")
        constraints = [
            models.UniqueConstraint(fields=["event", "role", "lot_uri"], name="trace_eventlot_once_per_role"),
            models.UniqueConstraint(fields=["event", "role", "position"], name="trace_eventlot_position_unique"),
            models.CheckConstraint(
                condition=models.Q(grams__isnull=True) | models.Q(grams__gt=0), name="trace_eventlot_grams_positive"
            ),
        ]
        indexes = [models.Index(fields=["lot_uri", "role"], name="trace_eventlot_uri_role")]

    def __str__(self) -> str:
        return f"{self.role} {self.lot_uri} {self.grams if self.grams is not None else '?'} g"


class ChainHead(models.Model):
    """The last link of an organisation's chain. Appends lock this row, so the chain cannot fork."""

    organisation = models.OneToOneField(
        "organisations.Organisation",
        verbose_name=_("organisation"),
        primary_key=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    last_sequence = models.PositiveBigIntegerField(_("last sequence"), default=0)
    last_hash = models.CharField(_("last hash"), max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("chain head")
        verbose_name_plural = _("chain heads")

    def __str__(self) -> str:
        return f"{self.organisation_id}: #{self.last_sequence} {self.last_hash[:12]}"


class StatementReference(models.Model):
    """An upstream due-diligence statement an organisation received for a lot or an order (its reference and
    verification numbers in the EU Information System), to be named by the statements it exports for it."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("organisation")
    )
    subject = models.CharField(_("lot or order"), max_length=300, help_text=_("The lot URI or order:<number>."))
    reference_number = models.CharField(_("reference number"), max_length=14)
    verification_number = models.CharField(_("verification number"), max_length=35)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["recorded_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "subject", "reference_number"], name="statement_reference_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(verification_number__regex=r"^.{5,35}$"), name="statement_verification_length"
            ),
        ]
        verbose_name = _("upstream statement reference")
        verbose_name_plural = _("upstream statement references")

    def __str__(self) -> str:
        return f"{self.reference_number} / {self.verification_number}"


class Lineage(models.Model):
    """The backward trace of a lot or an order within one organisation's events, computed when an event changes it.

    `subject` is a lot URI or `order:<number>`; `trace` the whole `genealogy.Trace` as JSON (contributing lots,
    deliveries, farmers, plots, steps and events); `summary` the contributing deliveries aggregated per member, plot
    and collection point (`lineage.origin_summary`), what the public trace page and the statements show, so that no
    reader builds thousands of delivery objects; `reach` every lot identifier the trace's events name, so that
    appending an event that names one of them refreshes this row (`traceability.lineage`). Written only by the
    event services, in the transaction that appends the event, under the organisation's chain lock; the plot part of
    `digest` is also rewritten by a reader that finds it computed from other plots than the current ones.
    """

    organisation = models.ForeignKey(
        "organisations.Organisation", verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="+"
    )
    subject = models.CharField(_("lot or order"), max_length=500)
    reach = ArrayField(models.CharField(max_length=500), verbose_name=_("lots named on the way"), default=list)
    trace = models.JSONField(_("trace"))
    origin_count = models.PositiveIntegerField(_("contributing deliveries"), default=0)
    summary = models.JSONField(_("contributing deliveries, aggregated"), default=dict, blank=True)
    digest = models.JSONField(_("what the trace page and statements read"), default=dict, blank=True)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("lineage")
        verbose_name_plural = _("lineages")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "subject"], name="trace_lineage_subject_unique"),
        ]
        indexes = [GinIndex(fields=["reach"], name="trace_lineage_reach_gin")]

    def __str__(self) -> str:
        return f"{self.subject} ({self.origin_count} deliveries)"
