"""What a farmer asks by USSD or SMS, and the answer.

USSD: the gateway posts the whole path typed so far (`text`, inputs joined by `*`). The answer is computed from the
path, the caller's number and the database; it is stored under the session and the path, so a replayed request
gets the same screen and a PIN typed once is checked once. A path that does not extend the session's last one by
exactly one input is a session that jumped: it ends.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from marketplace.channels import selectors
from marketplace.channels.gateways.base import InboundSms, UssdRequest
from marketplace.channels.menu import USSD_MAX, Caller, Screen, entries_for, entry_for_keyword, pick, words
from marketplace.channels.models import Message, UssdSession
from marketplace.channels.services.messages import S, message_transition, sms_enqueue
from marketplace.channels.services.pins import PinVerdict, farmer_pin_verify
from marketplace.organisations.models import MemberFarmer


def _default_language() -> str:
    return settings.LANGUAGE_CODE


def _unknown(phone: str | None) -> str:
    contact = selectors.contact_for_phone(phone=phone)
    if contact:
        return _("Sorry, this number is not registered with a cooperative. Please contact %(contact)s.") % {
            "contact": contact[:60]
        }
    return _("Sorry, this number is not registered with a cooperative. Please ask your cooperative to add it.")


def _choice_screen(farmers: list[MemberFarmer], invalid: bool) -> Screen:
    head = _("Not an option.") + " " if invalid else ""
    lines = [f"{i}. {f.organisation.name[:34]} ({f.member_number})" for i, f in enumerate(farmers, start=1)]
    return Screen(head + _("This number is with several cooperatives. Which one?") + "\n" + "\n".join(lines), end=False)


def _menu_screen(caller: Caller, invalid: bool) -> Screen:
    head = (_("Not an option.") + " ") if invalid else ""
    lines = [f"{i}. {entry.label()}" for i, entry in enumerate(entries_for(caller, ussd=True), start=1)]
    text = f"{head}{caller.farmer.organisation.name[:34]}\n" + "\n".join(lines)
    if len(Screen(text, end=False).render()) > USSD_MAX:
        text = head + "\n".join(lines)  # every entry matters more than the cooperative's name
    return Screen(text, end=False)


def _pin_outcome(verdict: PinVerdict, left: int) -> Screen | None:
    if verdict == PinVerdict.OK:
        return None
    if verdict == PinVerdict.NOT_SET:
        return Screen(_("You have no PIN yet. Ask the clerk at your collection point to set one."))
    if verdict == PinVerdict.LOCKED:
        return Screen(
            _("Your PIN is locked after 5 wrong tries. Ask the clerk at your collection point for a new one.")
        )
    return Screen(_("Wrong PIN. %(left)s tries left.") % {"left": left})


def _walk(session: UssdSession, phone: str | None, inputs: list[str]) -> Screen:
    farmers = selectors.callers_for_phone(phone=phone) if phone else []
    if not farmers:
        return Screen(_unknown(phone))
    position = 0  # index into inputs, for remembering PIN verdicts
    if len(farmers) > 1:
        with translation.override(selectors.language_of(farmers[0])):
            choice, invalid, rest = pick(inputs, len(farmers))
            if choice is None:
                return _choice_screen(farmers, invalid)
        position += len(inputs) - len(rest)
        inputs = rest
        farmer = farmers[choice - 1]
    else:
        farmer = farmers[0]
    session.farmer = farmer
    caller = Caller(farmer=farmer, language=selectors.language_of(farmer), phone=phone)
    with translation.override(caller.language):
        entries = entries_for(caller, ussd=True)
        choice, invalid, rest = pick(inputs, len(entries))
        if choice is None:
            return _menu_screen(caller, invalid)
        position += len(inputs) - len(rest)
        inputs = rest
        entry = entries[choice - 1]
        if entry.needs_pin:
            malformed = False
            while True:
                if not inputs:
                    prefix = (_("The PIN is 4 digits.") + " ") if malformed else ""
                    return Screen(prefix + _("Enter your 4-digit PIN:"), end=False)
                key = str(position)
                if key in session.pin_checks:
                    verdict, left = PinVerdict(session.pin_checks[key][0]), session.pin_checks[key][1]
                else:
                    verdict, left = farmer_pin_verify(farmer_id=farmer.pk, pin=inputs[0])
                    session.pin_checks[key] = [verdict.value, left]
                position += 1
                inputs = inputs[1:]
                if verdict == PinVerdict.MALFORMED:
                    malformed = True
                    continue
                outcome = _pin_outcome(verdict, left)
                if outcome is not None:
                    return outcome
                break
        return entry.ussd(caller, inputs)


def ussd_answer(*, gateway_name: str, request: UssdRequest) -> str:
    """The reply to one USSD request: "CON ..." (more to come) or "END ...", at most 182 characters."""
    phone = selectors.e164(request.phone)
    text = request.text
    inputs = text.split("*") if text else []
    with transaction.atomic():
        session = _session_locked(gateway_name, request, phone)
        same_phone = session.phone == (phone or request.phone[:20])
        if same_phone and text in session.screens:
            return session.screens[text]
        previous = session.last_text.split("*") if session.last_text else []
        first = not session.screens
        extends = inputs[:-1] == previous and len(inputs) == len(previous) + 1
        if not same_phone or (first and inputs) or (not first and not extends) or (session.ended):
            language = _language_for_session(session) if same_phone else _default_language()
            with translation.override(language):
                reply = Screen(_("This session is out of step. Please dial again.")).render()
            session.ended = True
            session.save(update_fields=["ended", "updated_at"])
            return reply
        with translation.override(_default_language()):
            screen = _walk(session, phone, inputs)
            reply = screen.render()
        session.screens[text] = reply
        session.last_text = text
        session.ended = screen.end
        session.save()
        return reply


def _session_locked(gateway_name: str, request: UssdRequest, phone: str | None) -> UssdSession:
    """The session row, locked; created on the first request (two concurrent first requests make one row)."""
    sessions = UssdSession.objects.select_for_update()
    session = sessions.filter(gateway=gateway_name, session_id=request.session_id).first()
    if session is not None:
        return session
    try:
        with transaction.atomic():
            UssdSession.objects.create(
                gateway=gateway_name,
                session_id=request.session_id,
                phone=phone or request.phone[:20],
                service_code=request.service_code,
                network_code=request.network_code,
            )
    except IntegrityError:
        pass
    return sessions.get(gateway=gateway_name, session_id=request.session_id)


def _language_for_session(session: UssdSession) -> str:
    if session.farmer_id:
        return selectors.language_of(MemberFarmer.objects.select_related("organisation").get(pk=session.farmer_id))
    return _default_language()


# --- SMS keywords -------------------------------------------------------------------------------------------------


def _sms_reply(farmers: list[MemberFarmer], phone: str, text: str) -> tuple[str, MemberFarmer | None]:
    tokens = words(text)
    first = farmers[0]
    with translation.override(selectors.language_of(first)):
        if not tokens:
            return _help_for(first, phone), first
        entry = entry_for_keyword(tokens[0])
        rest = tokens[1:]
        pins = [t for t in rest if len(t) == 4 and t.isdigit()]
        picks = [t for t in rest if len(t) == 1 and t.isdigit()]
        farmer = first
        if len(farmers) > 1:
            if not picks or not 1 <= int(picks[0]) <= len(farmers):
                names = ", ".join(f"{i} {f.organisation.name[:24].strip()}" for i, f in enumerate(farmers, start=1))
                example = f"{tokens[0]} 1234 2" if entry is not None and entry.needs_pin else f"{tokens[0]} 2"
                return (
                    _("Your number is with %(names)s. Add the number, for example: %(example)s")
                    % {"names": names, "example": example}
                ), None
            farmer = farmers[int(picks[0]) - 1]
            rest.remove(picks[0])  # the cooperative's number is not one of the request's words
    caller = Caller(farmer=farmer, language=selectors.language_of(farmer), phone=phone)
    with translation.override(caller.language):
        # A keyword whose entry is not on the menu now (no window open) still gets its own answer from the entry.
        if entry is None or entry.sms is None:
            return _("Unknown request.") + " " + _help_for(farmer, phone), farmer
        if entry.needs_pin:
            if not pins:
                return _("Send %(word)s with your PIN, for example: %(word)s 1234") % {"word": tokens[0]}, farmer
            verdict, left = farmer_pin_verify(farmer_id=farmer.pk, pin=pins[0])
            outcome = _pin_outcome(verdict, left)
            if outcome is not None:
                return outcome.text, farmer
            # A 4-digit word is the PIN only where one is needed (elsewhere it may be a price: ALERT MAIZE 3500).
            rest = [t for t in rest if t not in pins[:1]]
        return entry.sms(caller, rest), farmer


def _help_for(farmer: MemberFarmer, phone: str) -> str:
    from marketplace.channels.entries import help_text

    return help_text(Caller(farmer=farmer, language=selectors.language_of(farmer), phone=phone))


def sms_inbound_receive(*, gateway_name: str, inbound: InboundSms) -> Message:
    """Record an inbound SMS once (by the gateway's id) and queue the answer. A repeated post answers nothing."""
    phone = selectors.e164(inbound.phone)
    from marketplace.core.sms_segments import sms_segments

    with transaction.atomic():
        segments = sms_segments(inbound.text or " ")
        try:
            with transaction.atomic():
                message = Message.objects.create(
                    direction=Message.Direction.INBOUND,
                    gateway=gateway_name,
                    status=S.RECEIVED,
                    phone=phone or inbound.phone[:20],
                    short_code=inbound.to,
                    body=inbound.text,
                    encoding=segments.encoding,
                    segments=segments.count,
                    provider_message_id=inbound.provider_message_id,
                    link_id=inbound.link_id,
                )
        except IntegrityError:
            return Message.objects.get(
                gateway=gateway_name,
                direction=Message.Direction.INBOUND,
                provider_message_id=inbound.provider_message_id,
            )
        farmers = selectors.callers_for_phone(phone=phone) if phone else []
        if not farmers:
            if phone is None:
                return message  # not a phone number we could answer
            with translation.override(_default_language()):
                body, farmer = _unknown(phone), None
        else:
            body, farmer = _sms_reply(farmers, phone, inbound.text)
        if farmer is not None:
            message.farmer = farmer
            message.organisation_id = farmer.organisation_id
        message_transition(message=message, to_status=S.ANSWERED)
        sms_enqueue(
            to=phone,
            body=body,
            farmer_id=farmer.pk if farmer else None,
            organisation_id=farmer.organisation_id if farmer else None,
            key=f"reply-{message.pk}",
            link_id=inbound.link_id,
            in_reply_to=message,
        )
        return message
