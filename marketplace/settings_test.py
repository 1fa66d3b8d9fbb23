"""Settings for the test suite: the real PostgreSQL, fast hashing, eager tasks unless a test starts a worker."""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from marketplace.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if os.environ.get("CELERY_TEST_WORKER") == "1":
    # A real worker started by tests/integration/test_celery_worker.py: keep CELERY_BROKER_URL from the environment.
    CELERY_TASK_ALWAYS_EAGER = False
    # Tasks the worker itself sends (a chord's header and body) go to the queue it consumes.
    CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TEST_QUEUE", "celery")
else:
    CELERY_BROKER_URL = "memory://localhost/"
    CELERY_TASK_ALWAYS_EAGER = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SMS_BACKEND = "marketplace.core.sms.MemorySmsBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"anon": "10000/minute", "user": "10000/minute", "auth": "10000/minute"},
}
PUBLIC_TRACE_RATE = "10000/minute"  # the public trace page throttle (60/minute in production)
