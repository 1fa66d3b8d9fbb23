"""Read models of market information, written only by `marketplace.market.services`.

`Trade` is one line of a completed produce order at its settled price: what the buyer owed after receipt (the
weight received within tolerance, the grade it arrived in), over the grams received. `PricePoint` is the aggregate
per commodity, grade, region (the seller's country and administrative region), currency and period (ISO week or
calendar month). Both are rebuilt by the refresh task (on every completed order, and nightly); pages and the API
read them and never aggregate per request.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from marketplace.core.money import Money

# A cell is published only with at least this many trades from at least this many sellers, so that no
# cooperative's own price can be read off the market figures.
MIN_TRADES = 3
MIN_SELLERS = 2


class Trade(models.Model):
    """One order line of a completed produce order, as settled."""

    # By id, not by foreign key: a read model, rebuilt from the orders nightly.
    order_id = models.BigIntegerField(_("order id"))
    line_id = models.BigIntegerField(_("order line id"), unique=True)
    seller = models.ForeignKey("organisations.Organisation", on_delete=models.CASCADE, related_name="+")
    commodity = models.ForeignKey("catalogue.Commodity", on_delete=models.PROTECT, related_name="+")
    grade = models.ForeignKey("catalogue.Grade", on_delete=models.PROTECT, related_name="+")
    country = models.CharField(_("country"), max_length=2)
    region = models.CharField(_("region"), max_length=100, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    traded_on = models.DateField(_("received on"))
    amount = models.BigIntegerField(_("settled amount (minor units)"))
    grams = models.BigIntegerField(_("grams received"))

    class Meta:
        verbose_name = _("trade")
        verbose_name_plural = _("trades")
        constraints = [
            models.CheckConstraint(condition=Q(grams__gt=0), name="market_trade_grams_positive"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="market_trade_amount_not_negative"),
        ]
        indexes = [
            models.Index(fields=["commodity", "grade", "country", "region", "currency", "traded_on"],
                         name="market_trade_cell"),
            models.Index(fields=["seller", "traded_on"], name="market_trade_seller"),
            models.Index(fields=["order_id"], name="market_trade_order"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.line_id}: {self.amount} {self.currency} / {self.grams} g"


class PricePoint(models.Model):
    class Period(models.TextChoices):
        WEEK = "week", _("Week")
        MONTH = "month", _("Month")

    commodity = models.ForeignKey("catalogue.Commodity", on_delete=models.PROTECT, related_name="+")
    grade = models.ForeignKey("catalogue.Grade", on_delete=models.PROTECT, related_name="+")
    country = models.CharField(_("country"), max_length=2)
    region = models.CharField(_("region"), max_length=100, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    period = models.CharField(_("period"), max_length=5, choices=Period.choices)
    period_start = models.DateField(_("period starts"))
    trades = models.PositiveIntegerField(_("trades"))
    sellers = models.PositiveIntegerField(_("sellers"))
    total_amount = models.BigIntegerField(_("total settled (minor units)"))
    total_grams = models.BigIntegerField(_("total grams"))
    price_per_tonne = models.BigIntegerField(_("price per tonne (minor units)"))
    visible = models.BooleanField(_("published"))
    ifpa = models.FloatField(_("price anomaly indicator (IFPA)"), null=True, blank=True)
    refreshed_at = models.DateTimeField(_("refreshed at"))

    class Meta:
        ordering = ["commodity", "grade", "country", "region", "currency", "period", "period_start"]
        verbose_name = _("price point")
        verbose_name_plural = _("price points")
        constraints = [
            models.UniqueConstraint(
                fields=["commodity", "grade", "country", "region", "currency", "period", "period_start"],
                name="market_price_point_cell",
            ),
            models.CheckConstraint(
                condition=Q(visible=False) | Q(trades__gte=MIN_TRADES, sellers__gte=MIN_SELLERS),
                name="market_price_point_published_only_when_enough",
            ),
            models.CheckConstraint(condition=Q(total_grams__gt=0), name="market_price_point_grams_positive"),
        ]
        indexes = [
            models.Index(fields=["visible", "commodity", "country", "period", "period_start"],
                         name="market_price_point_public"),
            models.Index(fields=["refreshed_at"], name="market_price_point_refreshed"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.commodity_id}/{self.grade_id} {self.country}-{self.region} {self.period} {self.period_start}"


class PriceAlert(models.Model):
    """A manager's or buyer's wish to hear when a published price crosses a threshold (per quoted unit).

    It fires once per crossing: `armed` turns false when it fires and true again only once the price is back on
    the other side of the threshold."""

    class Direction(models.TextChoices):
        ABOVE = "above", _("rises above")
        BELOW = "below", _("falls below")

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.CASCADE, related_name="+")
    # A manager's or buyer's alert has a user; a member farmer's (set by SMS keyword) has the farmer.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
                             related_name="+")  # fmt: skip
    farmer = models.ForeignKey("organisations.MemberFarmer", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="+")  # fmt: skip
    commodity = models.ForeignKey("catalogue.Commodity", on_delete=models.PROTECT, related_name="+")
    grade = models.ForeignKey("catalogue.Grade", on_delete=models.PROTECT, related_name="+")
    country = models.CharField(_("country"), max_length=2)
    region = models.CharField(_("region"), max_length=100, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    direction = models.CharField(_("when the price"), max_length=5, choices=Direction.choices)
    threshold_amount = models.BigIntegerField(_("threshold per quoted unit (minor units)"))
    channel = models.CharField(_("channel"), max_length=5, choices=Channel.choices, default=Channel.EMAIL)
    phone = models.CharField(_("phone for SMS"), max_length=20, blank=True)
    armed = models.BooleanField(_("armed"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("price alert")
        verbose_name_plural = _("price alerts")
        constraints = [
            models.CheckConstraint(condition=Q(threshold_amount__gt=0), name="market_alert_threshold_positive"),
            models.CheckConstraint(condition=~Q(channel="sms") | ~Q(phone=""), name="market_alert_sms_has_phone"),
            models.CheckConstraint(
                condition=Q(user__isnull=False, farmer__isnull=True) | Q(user__isnull=True, farmer__isnull=False),
                name="market_alert_user_or_farmer",
            ),
            models.CheckConstraint(condition=Q(farmer__isnull=True) | Q(channel="sms"), name="market_alert_farmer_sms"),
            models.UniqueConstraint(
                fields=["farmer", "commodity", "direction"],
                condition=Q(farmer__isnull=False),
                name="market_alert_farmer_once_per_crop",
            ),
        ]
        indexes = [models.Index(fields=["commodity", "grade", "country", "region", "currency"],
                                name="market_alert_series")]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.commodity_id}/{self.grade_id} {self.direction} {self.threshold_amount} {self.currency}"

    @property
    def threshold(self) -> Money:
        return Money(self.threshold_amount, self.currency)


class PriceAlertFiring(models.Model):
    """One crossing of one alert, and when its message was sent (at most once)."""

    alert = models.ForeignKey(PriceAlert, on_delete=models.CASCADE, related_name="firings")
    period_start = models.DateField(_("week of the price"))
    price_amount = models.BigIntegerField(_("price per quoted unit (minor units)"))
    fired_at = models.DateTimeField(_("fired at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-fired_at", "-id"]
        verbose_name = _("price alert firing")
        verbose_name_plural = _("price alert firings")

    def __str__(self) -> str:
        return f"{self.alert_id}: {self.price_amount} ({self.period_start})"


class InputTrade(models.Model):
    """One line of a completed group input order (the escrow order of kind `group_inputs`), as settled: what the
    cooperative owed for the packs received. The region is the buying cooperative's (where the inputs arrived)."""

    order_id = models.BigIntegerField(_("order id"))
    line_id = models.BigIntegerField(_("order line id"), unique=True)
    seller = models.ForeignKey("organisations.Organisation", on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("catalogue.InputProduct", on_delete=models.PROTECT, related_name="+")
    packaging = models.ForeignKey("catalogue.Packaging", on_delete=models.PROTECT, related_name="+")
    country = models.CharField(_("country"), max_length=2)
    region = models.CharField(_("region"), max_length=100, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    traded_on = models.DateField(_("received on"))
    amount = models.BigIntegerField(_("settled amount (minor units)"))
    packs = models.BigIntegerField(_("packs received"))

    class Meta:
        verbose_name = _("input trade")
        verbose_name_plural = _("input trades")
        constraints = [
            models.CheckConstraint(condition=Q(packs__gt=0), name="market_input_trade_packs_positive"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="market_input_trade_amount_not_negative"),
        ]
        indexes = [
            models.Index(fields=["product", "packaging", "country", "region", "currency", "traded_on"],
                         name="market_input_trade_cell"),
            models.Index(fields=["order_id"], name="market_input_trade_order"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.line_id}: {self.amount} {self.currency} / {self.packs} packs"


class InputPricePoint(models.Model):
    """The aggregate price per pack of an input product in a region, per week or month; hidden under the same
    3-trade/2-seller rule as produce prices (the sellers are the suppliers)."""

    product = models.ForeignKey("catalogue.InputProduct", on_delete=models.PROTECT, related_name="+")
    packaging = models.ForeignKey("catalogue.Packaging", on_delete=models.PROTECT, related_name="+")
    country = models.CharField(_("country"), max_length=2)
    region = models.CharField(_("region"), max_length=100, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    period = models.CharField(_("period"), max_length=5, choices=PricePoint.Period.choices)
    period_start = models.DateField(_("period starts"))
    trades = models.PositiveIntegerField(_("trades"))
    sellers = models.PositiveIntegerField(_("sellers"))
    total_amount = models.BigIntegerField(_("total settled (minor units)"))
    total_packs = models.BigIntegerField(_("total packs"))
    price_per_pack = models.BigIntegerField(_("price per pack (minor units)"))
    visible = models.BooleanField(_("published"))
    refreshed_at = models.DateTimeField(_("refreshed at"))

    class Meta:
        ordering = ["product", "packaging", "country", "region", "currency", "period", "period_start"]
        verbose_name = _("input price point")
        verbose_name_plural = _("input price points")
        constraints = [
            models.UniqueConstraint(
                fields=["product", "packaging", "country", "region", "currency", "period", "period_start"],
                name="market_input_price_point_cell",
            ),
            models.CheckConstraint(
                condition=Q(visible=False) | Q(trades__gte=MIN_TRADES, sellers__gte=MIN_SELLERS),
                name="market_input_price_point_published_only_when_enough",
            ),
            models.CheckConstraint(condition=Q(total_packs__gt=0), name="market_input_price_point_packs_positive"),
        ]
        indexes = [
            models.Index(fields=["visible", "period", "product", "country", "period_start"],
                         name="market_input_point_public"),
            models.Index(fields=["refreshed_at"], name="market_input_point_refreshed"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.product_id}/{self.packaging_id} {self.country}-{self.region} {self.period} {self.period_start}"


class SavedSearch(models.Model):
    """A buyer's catalogue search kept to hear of new listings that fit it (Kudu's "top lots"): one message per
    new matching listing, by e-mail or SMS."""

    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=80)
    commodity = models.ForeignKey("catalogue.Commodity", on_delete=models.PROTECT, related_name="+")
    min_grade = models.ForeignKey("catalogue.Grade", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")  # fmt: skip
    country = models.CharField(_("country"), max_length=2, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    radius_km = models.DecimalField(_("within (km)"), max_digits=7, decimal_places=1, null=True, blank=True)
    certification = models.CharField(_("certification"), max_length=30, blank=True)
    eudr_ready = models.BooleanField(_("EUDR-ready lots only"), default=False)
    channel = models.CharField(_("channel"), max_length=5, choices=PriceAlert.Channel.choices,
                               default=PriceAlert.Channel.EMAIL)  # fmt: skip
    phone = models.CharField(_("phone for SMS"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("saved search")
        verbose_name_plural = _("saved searches")
        constraints = [
            models.CheckConstraint(condition=~Q(channel="sms") | ~Q(phone=""), name="market_search_sms_has_phone"),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True, radius_km__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False, radius_km__gt=0),
                name="market_search_point_complete",
            ),
        ]
        indexes = [models.Index(fields=["commodity"], name="market_search_commodity")]

    def __str__(self) -> str:
        return self.name


class SavedSearchHit(models.Model):
    """A listing that matched a saved search: recorded once, its message sent once."""

    search = models.ForeignKey(SavedSearch, on_delete=models.CASCADE, related_name="hits")
    listing = models.ForeignKey("catalogue.Listing", on_delete=models.CASCADE, related_name="+")
    matched_at = models.DateTimeField(_("matched at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-matched_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["search", "listing"], name="market_search_hit_once")]

    def __str__(self) -> str:
        return f"{self.search_id}: {self.listing_id}"
