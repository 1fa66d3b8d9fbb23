"""CoopMarket settings. Every value comes from the environment (see .env.example)."""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env("SECRET_KEY", default="insecure-development-key-do-not-use-in-production")
else:
    SECRET_KEY = env("SECRET_KEY")  # required whenever DEBUG is off

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Base URL of this deployment; identifiers without GS1 keys live under it.
SITE_BASE_URL = env("SITE_BASE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files: /api/docs/ works offline
    "django_countries",
    "phonenumber_field",
    "django_htmx",
    "axes",
    "marketplace.core",
    "marketplace.organisations",
    "traceability",
    "catalogue",
    "orders",
    "payments",
    "payments.payouts",
    "marketplace.matching",
    "marketplace.decisions",
    "marketplace.market",
    "marketplace.channels",
    "marketplace.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "marketplace.core.middleware.MalformedInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "marketplace.organisations.middleware.CurrentOrganisationMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "marketplace.urls"
WSGI_APPLICATION = "marketplace.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "marketplace" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "marketplace.organisations.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# PostgreSQL is the one supported database. With no DATABASE_URL an embedded server
# (pgserver) runs from a git-ignored folder of the checkout.
if env("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    from marketplace.embedded_postgres import embedded_database_settings

    DATABASES = {"default": embedded_database_settings(BASE_DIR / ".data" / "postgres")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication -------------------------------------------------------------------
AUTH_USER_MODEL = "organisations.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling: lock an email + address pair after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_LOCKOUT_CALLABLE = "marketplace.organisations.views.lockout_response"

# --- Internationalisation -------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French")), ("sw", _("Swahili"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- Static and media -----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "marketplace" / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "marketplace.core.api.pagination.PageNumberPagination",
    "DEFAULT_PARSER_CLASSES": [
        "marketplace.core.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "marketplace.core.api.parsers.SafeMultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("THROTTLE_ANON", default="60/minute"),
        "user": env("THROTTLE_USER", default="600/minute"),
        "auth": env("THROTTLE_AUTH", default="10/minute"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "marketplace.core.api.errors.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CoopMarket API",
    "DESCRIPTION": (
        "Marketplace for producer organisations. Authenticate with "
        "`POST /api/v1/auth/token/` and send `Authorization: Token <token>`. "
        'Every error has the shape `{"error": {"code", "message", "fields"}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "OrganisationKindEnum": "marketplace.organisations.models.OrganisationKind",
        "DecisionKindEnum": "marketplace.decisions.models.Kind",
    },
    # Row ids in paths (marketplace.core.converters.IdConverter): what a bigint primary key can hold.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "marketplace.core.api.schema.link_ids",
        "marketplace.core.api.schema.tighten_decimals",
    ],
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}},
}

# --- Cache ----------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    # Django's Redis cache, reusing its client object instead of building one per operation.
    CACHES = {"default": {"BACKEND": "marketplace.core.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---------------------------------------------------------------------------
# With no broker, tasks run eagerly in the web process (demo mode).
CELERY_TASK_ALWAYS_EAGER = not env("CELERY_BROKER_URL", default="")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {
    "decisions-due": {
        "task": "marketplace.decisions.tasks.decisions_due",
        "schedule": crontab(minute="*/5"),
    },
    "channels-sms-sweep-stuck": {
        "task": "marketplace.channels.tasks.sms_sweep_stuck",
        "schedule": crontab(minute="*/5"),
    },
    "core-outbox-sweep": {
        "task": "marketplace.core.tasks.outbox_sweep",
        "schedule": 60.0,
    },
    "orders-group-windows": {"task": "orders.tasks.group_windows_close_due", "schedule": crontab(minute="*/5")},
    "orders-group-orders-expire": {"task": "orders.tasks.group_orders_expire_due", "schedule": crontab(minute="*/15")},
    "orders-expire-unaccepted": {
        "task": "orders.tasks.expire_unaccepted_orders",
        "schedule": crontab(minute="*/15"),
    },
    "orders-complete-past-dispute-window": {
        "task": "orders.tasks.complete_orders_past_dispute_window",
        "schedule": crontab(minute="7-59/15"),
    },
    "payouts-propose-released": {
        "task": "payments.payouts.tasks.payouts_propose_released",
        "schedule": crontab(minute=23),
    },
    "payments-settle-unknown": {
        "task": "payments.tasks.payments_settle_unknown",
        "schedule": crontab(minute="*/30"),
    },
    "idempotent-requests-purge": {
        "task": "marketplace.core.tasks.idempotent_requests_purge",
        "schedule": crontab(hour=3, minute=37),
    },
    "payouts-settle-executing": {
        "task": "payments.payouts.tasks.payouts_settle_executing",
        "schedule": crontab(minute="11-59/30"),
    },
    "payments-ledger-verify": {
        "task": "payments.tasks.ledger_verify",
        "schedule": crontab(hour=2, minute=47),
    },
    "traceability-verify-chains": {
        "task": "traceability.tasks.trace_chains_verify",
        "schedule": crontab(hour=2, minute=17),
    },
    "matching-rematch-all": {
        "task": "marketplace.matching.tasks.rematch_all",
        "schedule": crontab(hour=3, minute=7),
    },
    "matching-rematch-changed-listings": {
        "task": "marketplace.matching.tasks.rematch_changed_listings",
        "schedule": crontab(minute="*/10"),
    },
    "market-refresh-all": {
        "task": "marketplace.market.tasks.market_refresh_all",
        "schedule": crontab(hour=3, minute=11),
    },
}

# --- Email and SMS --------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
if env("EMAIL_URL", default=""):
    vars().update(env.email("EMAIL_URL"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="CoopMarket <no-reply@coopmarket.local>")
SMS_BACKEND = env("SMS_BACKEND", default="marketplace.channels.backends.GatewaySmsBackend")

# --- Farmers' channel: SMS and USSD ---------------------------------------------------
# With no Africa's Talking API key, SMS go to the console gateway (printed, recorded in the message log).
AFRICASTALKING_USERNAME = env("AFRICASTALKING_USERNAME", default="sandbox")
AFRICASTALKING_API_KEY = env("AFRICASTALKING_API_KEY", default="")
AFRICASTALKING_SENDER_ID = env("AFRICASTALKING_SENDER_ID", default="")
AFRICASTALKING_API_BASE = env("AFRICASTALKING_API_BASE", default="https://api.africastalking.com")
AFRICASTALKING_TIMEOUT_SECONDS = env.float("AFRICASTALKING_TIMEOUT_SECONDS", default=10.0)
# Secret path segment of the gateway's callback URLs (/channels/africastalking/<secret>/...).
CHANNELS_CALLBACK_SECRET = env("CHANNELS_CALLBACK_SECRET", default="demo-callback" if DEBUG else "")

# --- Security -------------------------------------------------------------------------
SESSION_COOKIE_SECURE = not DEBUG and env.bool("SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
    },
}
if CELERY_TASK_ALWAYS_EAGER:
    # Tasks run inside the web process (demo mode): no log line per task. Workers keep theirs.
    LOGGING["loggers"]["celery.app.trace"] = {"level": "WARNING"}

# --- Domain settings ------------------------------------------------------------------
INVITATION_VALID_DAYS = env.int("INVITATION_VALID_DAYS", default=14)
MEMBER_IMPORT_MAX_ROWS = env.int("MEMBER_IMPORT_MAX_ROWS", default=5000)
# Plots: "auto" uses PostGIS (the `geom` column and its GiST index) when the database has it, else shapely in
# Python; "shapely" forces the fallback. Overlap of two members' plots counts beyond this share of the smaller
# plot; two members' points closer than this many metres are flagged as the same place.
PLOT_SPATIAL_BACKEND = env("PLOT_SPATIAL_BACKEND", default="auto")
PLOT_OVERLAP_MIN_SHARE = env.float("PLOT_OVERLAP_MIN_SHARE", default=0.01)
PLOT_POINT_MIN_METRES = env.float("PLOT_POINT_MIN_METRES", default=10.0)
# Bulk plot import (GeoJSON or KML): the most features and bytes one file may carry.
PLOT_IMPORT_MAX_FEATURES = env.int("PLOT_IMPORT_MAX_FEATURES", default=5000)
PLOT_IMPORT_MAX_BYTES = env.int("PLOT_IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
# Orders: how long a cooperative has to accept an order, how long a buyer has to dispute after
# receipt, and the weight difference on receipt that is not charged back (basis points).
ORDER_ACCEPTANCE_HOURS = env.int("ORDER_ACCEPTANCE_HOURS", default=48)
# Matching: transport cost in minor units per tonne-km, per currency (a currency not listed costs 0); the hours
# each round of a proposal stays open; the window that debounces re-matches.
MATCHING_TRANSPORT_MINOR_PER_TONNE_KM = {"XOF": 75, "XAF": 75, "KES": 17, "UGX": 480, "TZS": 330, "RWF": 170,
                                         "ETB": 7, "GHS": 2, "NGN": 200, "EUR": 12, "USD": 13}  # fmt: skip
MATCHING_PROPOSAL_HOURS = env.int("MATCHING_PROPOSAL_HOURS", default=48)
MATCHING_DEBOUNCE_SECONDS = env.int("MATCHING_DEBOUNCE_SECONDS", default=30)
MATCHING_LISTING_SCAN_MINUTES = 10  # matches the beat schedule of matching-rematch-changed-listings
ORDER_DISPUTE_WINDOW_HOURS = env.int("ORDER_DISPUTE_WINDOW_HOURS", default=72)
ORDER_WEIGHT_TOLERANCE_BP = env.int("ORDER_WEIGHT_TOLERANCE_BP", default=50)
PAYOUT_DEFAULT_LEVY_BP = env.int("PAYOUT_DEFAULT_LEVY_BP", default=200)  # cooperative levy on member payouts
# Celery tasks (dotted paths, imported) that receive the id of every order event, through the outbox; idempotent.
# This is how payments follows orders without orders importing payments.
ORDER_EVENT_SUBSCRIBERS: list[str] = [
    "payments.tasks.order_event_received",
    "orders.tasks.group_order_follow_order",
    "marketplace.market.tasks.market_order_event",
]
# Celery tasks (dotted paths) that receive a listing's id through the outbox on commit, per event; idempotent.
# "created": a new listing (the market's saved searches); "changed": created, changed, paused, resumed, withdrawn or
# with more available (matching's debounced re-match of the listing's market).
LISTING_EVENT_SUBSCRIBERS: dict[str, list[str]] = {
    "created": ["marketplace.market.tasks.saved_searches_listing_created"],
    "changed": ["marketplace.matching.tasks.listing_changed"],
}
# Tasks (dotted paths) that post a member's input credit when inputs bought on credit are handed over.
# Checks before some moves of orders (a members' vote the cooperative requires): see orders/services/guards.py.
ORDER_ACTION_GUARDS: list[str] = ["marketplace.decisions.guards.order_action_guard"]
INPUT_CREDIT_SUBSCRIBERS: list[str] = ["payments.input_credit.input_credit_post_task"]
GROUP_ORDER_RESPONSE_HOURS = env.int("GROUP_ORDER_RESPONSE_HOURS", default=72)  # a supplier's time to answer

# Payments: with no Stripe key the offline provider is used. It takes payments only where OFFLINE_PAYMENTS is on:
# the buyer transfers the money (bank or mobile money) quoting the payment's reference, and the operator confirms
# its receipt. The buyer's own "Pay (demo)" button, which moves no money, exists only with DEBUG on.
OFFLINE_PAYMENTS = env.bool("OFFLINE_PAYMENTS", default=DEBUG)
OFFLINE_PAYMENT_INSTRUCTIONS = env("OFFLINE_PAYMENT_INSTRUCTIONS", default="")
OFFLINE_EVIDENCE_MAX_BYTES = env.int("OFFLINE_EVIDENCE_MAX_BYTES", default=5 * 1024 * 1024)
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_JS_URL = env("STRIPE_JS_URL", default="https://js.stripe.com/v3/")
# A Stripe call with no answer within this many seconds counts as "unknown" (retried, then reconciled).
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=30.0)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
# Stored Idempotency-Key requests (and their answers) are kept this many days, then purged by beat in batches.
IDEMPOTENCY_KEY_RETENTION_DAYS = env.int("IDEMPOTENCY_KEY_RETENTION_DAYS", default=7)
IDEMPOTENCY_PURGE_BATCH = env.int("IDEMPOTENCY_PURGE_BATCH", default=1000)
# A key claimed by a request that calls a provider and never stored its answer (the process died) is taken over
# after this long; longer than any request may run.
IDEMPOTENCY_IN_PROGRESS_SECONDS = env.int("IDEMPOTENCY_IN_PROGRESS_SECONDS", default=120)
# A payout batch still "executing" this many minutes after its last execution started is settled with the
# payout provider by our references (beat `payouts_settle_executing`).
PAYOUT_SETTLE_AFTER_MINUTES = env.int("PAYOUT_SETTLE_AFTER_MINUTES", default=180)
# The platform's fee on every release, in basis points of the amount released (300 = 3 %), rounded half-even once.
PLATFORM_FEE_BP = env.int("PLATFORM_FEE_BP", default=300)
