from rest_framework import serializers

from marketplace.decisions.models import Decision, DecisionOption, Kind

MAX_ID = 2**63 - 1


class OptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = DecisionOption
        fields = ["id", "position", "label", "approves"]


class DecisionSerializer(serializers.ModelSerializer):
    options = OptionSerializer(many=True, read_only=True)
    winning_option = serializers.IntegerField(source="winning_option_id", allow_null=True, read_only=True)

    class Meta:
        model = Decision
        fields = [
            "id", "organisation", "kind", "question", "description", "subject", "opens_at", "closes_at",
            "meeting_at", "quorum_bp", "threshold_bp", "anonymous", "results_before_close", "status", "options",
            "eligible_count", "votes_cast", "quorum_met", "winning_option", "outcome", "gate_result",
        ]  # fmt: skip
        read_only_fields = fields


class DecisionCreateSerializer(serializers.Serializer):
    organisation = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    kind = serializers.ChoiceField(choices=Kind.choices)
    question = serializers.CharField(max_length=300)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    subject = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    options = serializers.ListField(
        child=serializers.CharField(max_length=120), min_length=2, max_length=20,
        help_text="The choices, in order; for a gated decision the first one approves the action.",
    )  # fmt: skip
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Empty: open for the cooperative's default number of days.",
    )
    meeting_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    quorum_bp = serializers.IntegerField(min_value=0, max_value=10000, required=False, allow_null=True, default=None)
    threshold_bp = serializers.IntegerField(min_value=1, max_value=10000, required=False, allow_null=True,
                                            default=None)  # fmt: skip
    anonymous = serializers.BooleanField(required=False, allow_null=True, default=None)
    results_before_close = serializers.BooleanField(required=False, allow_null=True, default=None)


class TransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["open", "closed", "cancelled"])
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class VoteSerializer(serializers.Serializer):
    farmer = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    option = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class HandCountSerializer(serializers.Serializer):
    option = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    count = serializers.IntegerField(min_value=0, max_value=1_000_000)


class ShowOfHandsSerializer(serializers.Serializer):
    counts = HandCountSerializer(many=True, allow_empty=False, max_length=20)


class TurnoutSerializer(serializers.Serializer):
    group = serializers.CharField()
    voted = serializers.IntegerField()
    eligible = serializers.IntegerField()


class ResultsSerializer(serializers.Serializer):
    visible = serializers.BooleanField(help_text="False before closing unless the decision shows results early.")
    eligible = serializers.IntegerField()
    voted = serializers.IntegerField(help_text="Members who voted individually (by phone or recorded at the meeting).")
    per_option = serializers.ListField(child=serializers.ListField(), help_text="[label, votes] per option.")
    turnout_by_gender = TurnoutSerializer(many=True)
    turnout_by_age = TurnoutSerializer(many=True)


class DefaultsSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Kind.choices, read_only=True)
    quorum_bp = serializers.IntegerField(min_value=0, max_value=10000, help_text="Share of eligible members, in "
                                         "basis points (2500 = 25 %).")  # fmt: skip
    threshold_bp = serializers.IntegerField(min_value=1, max_value=10000, help_text="Share of votes cast the winning "
                                            "option needs, in basis points (5001 = more than half).")  # fmt: skip
    duration_days = serializers.IntegerField(min_value=1, max_value=120, help_text="Days open when no closing time "
                                             "is given.")  # fmt: skip
    anonymous = serializers.BooleanField()
    results_before_close = serializers.BooleanField()
    notice_days = serializers.IntegerField(min_value=1, max_value=365, help_text="How far ahead an assembly is called.")
    vote_above_amount = serializers.IntegerField(
        min_value=0, max_value=10**15, allow_null=True, required=False, default=None,
        help_text="Gated kinds: an order (group input order, or a buyer's order) of this total or more, in minor "
                  "units of its currency, needs the members' vote; null: never required.",
    )  # fmt: skip
    vote_above_kg = serializers.IntegerField(
        min_value=0, max_value=10**9, allow_null=True, required=False, default=None,
        help_text="Kind proposal: a buyer's order of this many kilograms or more needs the members' vote.",
    )  # fmt: skip
