from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.organisations.models import Invitation


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def send_invitation_email(self, invitation_id: int) -> bool:
    """Send the invitation once: the sent mark and the check share a row lock, so a rerun sends nothing."""
    from marketplace.organisations.services import invitation_token

    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update().select_related("organisation").filter(pk=invitation_id).first()
        )
        if invitation is None or invitation.sent_at is not None or invitation.status != "open":
            return False
        link = settings.SITE_BASE_URL.rstrip("/") + reverse("invitation-accept", args=[invitation_token(invitation)])
        send_mail(
            subject=_("You are invited to %(org)s on CoopMarket") % {"org": invitation.organisation.name},
            message=_("You have been invited to join %(org)s as %(role)s.\n\nAccept the invitation: %(link)s\n")
            % {"org": invitation.organisation.name, "role": invitation.get_role_display(), "link": link},
            from_email=None,
            recipient_list=[invitation.email],
        )
        invitation.sent_at = timezone.now()
        invitation.save(update_fields=["sent_at"])
    return True
