"""Matching's tasks. They take ids, call services and are safe to run twice.

Beat schedule (settings.CELERY_BEAT_SCHEDULE):
    marketplace.matching.tasks.rematch_all                nightly
    marketplace.matching.tasks.rematch_changed_listings   every MATCHING_LISTING_SCAN_MINUTES (a backstop: catalogue
                                                          publishes listing changes on commit, see listing_changed)
"""

from celery import chord, current_app, shared_task


def _summary(outcome) -> dict:
    return {
        "created": outcome.proposals_created,
        "kept": outcome.proposals_kept,
        "withdrawn": outcome.proposals_withdrawn,
        "objective": outcome.objective,
        "stale": outcome.stale,
    }


def chords_available() -> bool:
    """Workers can solve components in parallel: tasks go to a broker and a result backend collects a chord."""
    conf = current_app.conf
    return not conf.task_always_eager and bool(conf.result_backend)


@shared_task
def rematch_commodity(commodity_id: int, currency: str) -> dict | None:
    """Re-match one commodity in one currency (scheduled on commit, debounced, by the services). With workers and
    a result backend, each connected component is solved by its own task (a chord) and `apply_rematch` writes the
    proposals; otherwise this process solves them one after the other."""
    from marketplace.matching.services import matching_rematch, rematch_parts

    if chords_available():
        parts, fingerprint = rematch_parts(commodity_id=commodity_id, currency=currency)
        if len(parts) > 1:
            chord(solve_component.s(part) for part in parts)(apply_rematch.s(commodity_id, currency, fingerprint))
            return None
    return _summary(matching_rematch(commodity_id=commodity_id, currency=currency))


@shared_task
def solve_component(part: dict) -> dict:
    """Solve one component (a sub-instance in the JSON form of `match_instance`); no database."""
    from marketplace.matching import engine

    return engine.result_to_dict(engine.solve(engine.load_instance(part)))


@shared_task
def apply_rematch(results: list[dict], commodity_id: int, currency: str, fingerprint: str) -> dict:
    """Write the proposals of a chord's results, unless the instance changed meanwhile (then re-match again)."""
    from marketplace.matching.services import matching_rematch

    return _summary(
        matching_rematch(commodity_id=commodity_id, currency=currency, solved=results, fingerprint=fingerprint)
    )


@shared_task
def rematch_all() -> int:
    """Re-match every commodity and currency with an open request, one after the other (nightly)."""
    from marketplace.matching.selectors import open_request_markets
    from marketplace.matching.services import matching_rematch

    markets = open_request_markets()
    for commodity_id, currency in markets:
        matching_rematch(commodity_id=commodity_id, currency=currency)
    return len(markets)


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def notify_proposal_part(self, part_id: int) -> bool:
    """Tell a cooperative, by e-mail and SMS, that a proposal names one of its listings; once."""
    from marketplace.matching.notifications import proposal_part_notify

    return proposal_part_notify(part_id=part_id)


@shared_task
def listing_changed(listing_id: int) -> bool:
    """Subscribed to catalogue's listing changes (settings.LISTING_EVENT_SUBSCRIBERS["changed"]): schedule the debounced
    re-match of the listing's market when it has open requests."""
    from marketplace.matching.services import listing_changed_rematch

    return listing_changed_rematch(listing_id=listing_id)


@shared_task
def rematch_changed_listings() -> int:
    """Schedule a (debounced) re-match of every commodity with open requests whose listings changed in the last
    MATCHING_LISTING_SCAN_MINUTES (plus a minute of overlap, so a change between two scans is never missed)."""
    from datetime import timedelta

    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from marketplace.matching.selectors import markets_with_listing_changes
    from marketplace.matching.services import schedule_rematch

    minutes = getattr(settings, "MATCHING_LISTING_SCAN_MINUTES", 10)
    markets = markets_with_listing_changes(since=timezone.now() - timedelta(minutes=minutes + 1))
    with transaction.atomic():
        for commodity_id, currency in markets:
            schedule_rematch(commodity_id=commodity_id, currency=currency)
    return len(markets)
