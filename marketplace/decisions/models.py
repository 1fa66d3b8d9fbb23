"""Member decisions: a question with options put to a cooperative's members, their votes and the result.

One member, one vote; the latest vote before closing counts. The members who may vote are a snapshot taken when the
decision opens (`Eligibility`), so later joins or departures do not change who votes. In an anonymous decision the
choice (`SecretBallot`) and the fact of having voted (`Participation`) are stored apart with no key in common: a
ballot carries only a keyed hash of the member (HMAC with the deployment's secret), so that a changed vote replaces
the earlier one, and no query can join a member to a choice.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from marketplace.core.models import TimeStampedModel
from marketplace.organisations.models import MemberFarmer, Organisation


class Kind(models.TextChoices):
    MOTION = "motion", _("Motion")
    ELECTION = "election", _("Election")
    ASSEMBLY = "assembly", _("General assembly resolution")
    PROPOSAL = "proposal", _("Accept a buyer's proposal or order")
    GROUP_ORDER = "group_order", _("Approve a group input order")


class DecisionDefaults(TimeStampedModel):
    """A cooperative's defaults for a kind of decision (quorum and threshold in basis points of 10,000)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    quorum_bp = models.PositiveIntegerField(_("quorum (basis points)"), default=2500)
    threshold_bp = models.PositiveIntegerField(_("threshold (basis points)"), default=5001)
    anonymous = models.BooleanField(_("anonymous"), default=False)
    notice_days = models.PositiveSmallIntegerField(_("notice period (days)"), default=15)
    duration_days = models.PositiveSmallIntegerField(_("days open for votes"), default=7)
    results_before_close = models.BooleanField(_("show results before closing"), default=False)
    # For the kinds that gate an action: from what size the action needs the members' vote (empty: never required).
    vote_above_amount = models.BigIntegerField(
        _("vote required from this amount (minor units)"), null=True, blank=True,
        help_text=_("A group input order or a buyer's order of this total or more needs the members' approval."),
    )  # fmt: skip
    vote_above_kg = models.PositiveIntegerField(
        _("vote required from this quantity (kg)"), null=True, blank=True,
        help_text=_("A buyer's order for the cooperative's lots of this many kilograms or more needs a vote."),
    )  # fmt: skip

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "kind"], name="decision_defaults_unique"),
            models.CheckConstraint(
                condition=models.Q(duration_days__gte=1, duration_days__lte=120), name="defaults_duration_range"
            ),
            models.CheckConstraint(condition=models.Q(notice_days__lte=365), name="defaults_notice_max"),
            models.CheckConstraint(
                condition=models.Q(vote_above_amount__isnull=True) | models.Q(vote_above_amount__gte=0),
                name="defaults_vote_above_amount_positive",
            ),
            models.CheckConstraint(condition=models.Q(quorum_bp__lte=10000), name="defaults_quorum_max"),
            models.CheckConstraint(
                condition=models.Q(threshold_bp__gte=1, threshold_bp__lte=10000), name="defaults_threshold_range"
            ),
        ]


class Decision(TimeStampedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("decision status", "Draft")
        OPEN = "open", pgettext_lazy("decision status", "Open for votes")
        CLOSED = "closed", pgettext_lazy("decision status", "Closed")
        CANCELLED = "cancelled", pgettext_lazy("decision status", "Cancelled")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    question = models.CharField(_("question"), max_length=300)
    description = models.TextField(_("description and agenda"), blank=True)
    subject = models.CharField(
        _("what it decides"), max_length=200, blank=True, help_text=_("The gated action, e.g. proposal_part:12.")
    )
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    meeting_at = models.DateTimeField(_("assembly date"), null=True, blank=True)
    quorum_bp = models.PositiveIntegerField(_("quorum (basis points of eligible voters)"))
    threshold_bp = models.PositiveIntegerField(_("threshold (basis points of votes cast)"))
    anonymous = models.BooleanField(_("anonymous"), default=False)
    results_before_close = models.BooleanField(_("show results before closing"), default=False)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reminded_at = models.DateTimeField(null=True, blank=True)
    # The result, written once at closing.
    eligible_count = models.PositiveIntegerField(default=0)
    votes_cast = models.PositiveIntegerField(default=0)
    quorum_met = models.BooleanField(null=True)
    winning_option = models.ForeignKey(
        "DecisionOption", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=300, blank=True)
    gate_result = models.CharField(_("gated action"), max_length=300, blank=True)

    class Meta:
        ordering = ["-opens_at", "-pk"]
        indexes = [models.Index(fields=["status", "closes_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(closes_at__gt=models.F("opens_at")), name="decision_window"),
            models.CheckConstraint(condition=models.Q(quorum_bp__lte=10000), name="decision_quorum_max"),
            models.CheckConstraint(
                condition=models.Q(threshold_bp__gte=1, threshold_bp__lte=10000), name="decision_threshold_range"
            ),
        ]

    def __str__(self) -> str:
        return self.question


class DecisionOption(models.Model):
    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField()
    label = models.CharField(_("option"), max_length=120)
    # For a gated decision: does choosing this option approve the action?
    approves = models.BooleanField(default=False)

    class Meta:
        ordering = ["decision", "position"]
        constraints = [models.UniqueConstraint(fields=["decision", "position"], name="decision_option_position")]

    def __str__(self) -> str:
        return self.label


class Eligibility(models.Model):
    """Who may vote: the cooperative's active members when the decision opened."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="eligibility")
    farmer = models.ForeignKey(MemberFarmer, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["decision", "farmer"], name="eligibility_unique")]

    def __str__(self) -> str:
        return f"{self.decision_id}:{self.farmer_id}"


class Channel(models.TextChoices):
    PHONE = "phone", _("By phone")
    ASSEMBLY = "assembly", _("At the assembly, recorded by a clerk")


class Vote(models.Model):
    """A member's vote in a decision that is not anonymous; changing it updates this row."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="votes")
    farmer = models.ForeignKey(MemberFarmer, on_delete=models.PROTECT, related_name="+")
    option = models.ForeignKey(DecisionOption, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cast_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["decision", "farmer"], name="vote_one_per_member")]

    def __str__(self) -> str:
        return f"vote {self.decision_id}:{self.farmer_id}"


class Participation(models.Model):
    """That a member voted in an anonymous decision (for turnout), without what they chose."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="participations")
    farmer = models.ForeignKey(MemberFarmer, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["decision", "farmer"], name="participation_unique")]

    def __str__(self) -> str:
        return f"voted {self.decision_id}:{self.farmer_id}"


class SecretBallot(models.Model):
    """An anonymous decision's choice: no member, no time, only a keyed hash that lets a new vote replace it."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="ballots")
    voter_key = models.CharField(max_length=64)
    option = models.ForeignKey(DecisionOption, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["decision", "voter_key"], name="ballot_one_per_voter")]

    def __str__(self) -> str:
        return f"ballot {self.decision_id}"


class ShowOfHands(models.Model):
    """Votes counted at a meeting by a show of hands or a ballot box, per option, recorded by a clerk."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="hand_counts")
    option = models.ForeignKey(DecisionOption, on_delete=models.PROTECT, related_name="+")
    count = models.PositiveIntegerField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["decision", "option"], name="hand_count_per_option")]

    def __str__(self) -> str:
        return f"{self.count} for {self.option_id}"


class Notice(models.Model):
    """One SMS notice to one member about a decision (opened, reminder, closed): sent at most once."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="notices")
    farmer = models.ForeignKey(MemberFarmer, on_delete=models.PROTECT, related_name="+")
    what = models.CharField(max_length=10)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["decision", "farmer", "what"], name="notice_once")]

    def __str__(self) -> str:
        return f"{self.what} {self.decision_id}:{self.farmer_id}"


class PhoneVoteCode(models.Model):
    """A one-time code sent by SMS to a member's phone; entering it confirms the member's vote by phone.

    Bound to the member and the decision, never to the option (the member chooses when entering the code, so even
    in an anonymous decision this row says only that the member asked to vote). Stored as a keyed hash with its own
    salt; valid `TTL` seconds, `MAX_TRIES` wrong entries void it, used once. Asking for a new code voids the
    member's earlier codes."""

    TTL_SECONDS = 600
    MAX_TRIES = 3
    DIGITS = 6
    MAX_PER_HOUR = 5

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="+")
    farmer = models.ForeignKey(MemberFarmer, on_delete=models.CASCADE, related_name="+")
    salt = models.CharField(max_length=32)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    wrong_tries = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["farmer", "created_at"], name="phone_vote_code_farmer")]
        constraints = [
            models.CheckConstraint(condition=models.Q(wrong_tries__lte=3), name="phone_vote_code_tries_capped"),
        ]

    def __str__(self) -> str:
        return f"code {self.decision_id}:{self.farmer_id}"
