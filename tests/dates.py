"""Dates for tests, read when a test runs: a module constant goes stale when a run crosses midnight."""

from datetime import date

from django.utils import timezone


def today() -> date:
    return timezone.localdate()
