"""Periodic checks of the event store.

Beat entry (in settings, with `from celery.schedules import crontab`):
    "traceability-verify-chains": {
        "task": "traceability.tasks.trace_chains_verify",
        "schedule": crontab(hour=2, minute=17),
    }
"""

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail

from marketplace.core.selectors import full_rescan_due
from marketplace.organisations.models import Membership, Organisation
from marketplace.organisations.roles import Role
from traceability.chain import CHECK_NAME, ChainReport, chains_check

logger = logging.getLogger(__name__)


def operator_alert_recipients() -> list[str]:
    """The platform operator's admins, plus settings.ADMINS."""
    emails = set(
        Membership.objects.filter(
            organisation__kind=Organisation.Kind.OPERATOR, role=Role.ADMIN, user__is_active=True
        ).values_list("user__email", flat=True)
    )
    emails.update(email for _, email in getattr(settings, "ADMINS", []))
    return sorted(email for email in emails if email)


def _alert(report: ChainReport) -> int:
    recipients = operator_alert_recipients()
    if not recipients:
        logger.error("No operator admin or ADMINS address to alert about broken event chains.")
        return 0
    lines = "\n".join(f"- {chain_break}" for chain_break in report.breaks)
    return send_mail(
        subject=f"[CoopMarket] Traceability: {len(report.breaks)} event chain(s) failed verification",
        message=(
            "The nightly check of the traceability event chains found records that no longer match their hashes.\n"
            "Someone or something changed or removed stored events. Find out what happened before anything else\n"
            "is exported or traced. First broken link of each chain:\n\n"
            f"{lines}\n\n"
            f"{report.chains} chain(s) and {report.events} event(s) were checked. "
            "Run `manage.py trace_verify` to check again.\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )


@shared_task
def trace_chains_verify(full: bool = False) -> dict:
    """Verify the chains from the last run's checkpoint (each chain's last verified link; every chain from its
    start when `full` or once a week); alert the operator when one is broken. Safe to run twice."""
    report = chains_check(full=full or full_rescan_due(CHECK_NAME))
    if not report.ok:
        for chain_break in report.breaks:
            logger.error("Traceability chain broken: %s", chain_break)
        _alert(report)
    return {"chains": report.chains, "events": report.events, "broken": [str(b) for b in report.breaks]}
