"""Matching's tasks. They take ids, call services and are safe to run twice.

Beat schedule (settings.CELERY_BEAT_SCHEDULE):
    marketplace.matching.tasks.rematch_all   nightly
"""

from celery import shared_task


@shared_task
def rematch_commodity(commodity_id: int, currency: str) -> dict:
    """Re-match one commodity in one currency (scheduled on commit, debounced, by the services)."""
    from marketplace.matching.services import matching_rematch

    outcome = matching_rematch(commodity_id=commodity_id, currency=currency)
    return {
        "created": outcome.proposals_created,
        "kept": outcome.proposals_kept,
        "withdrawn": outcome.proposals_withdrawn,
        "objective": outcome.objective,
    }


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
