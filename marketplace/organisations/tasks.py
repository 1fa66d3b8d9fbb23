from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.core.sending import SENT, send_once
from marketplace.organisations.models import Invitation


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def send_invitation_email(self, invitation_id: int) -> bool:
    """Send the invitation once, outside the row's lock (core.sending); a rerun sends nothing."""
    from marketplace.organisations.services import invitation_token

    def deliver(invitation: Invitation) -> None:
        link = settings.SITE_BASE_URL.rstrip("/") + reverse("invitation-accept", args=[invitation_token(invitation)])
        send_mail(
            subject=_("You are invited to %(org)s on CoopMarket") % {"org": invitation.organisation.name},
            message=_("You have been invited to join %(org)s as %(role)s.\n\nAccept the invitation: %(link)s\n")
            % {"org": invitation.organisation.name, "role": invitation.get_role_display(), "link": link},
            from_email=None,
            recipient_list=[invitation.email],
        )

    open_invitations = Invitation.objects.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("organisation")
    return send_once(open_invitations, invitation_id, deliver) == SENT
