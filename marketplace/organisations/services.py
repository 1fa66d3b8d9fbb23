"""Writes for organisations, people, member farmers and plots (house rule 1)."""

from dataclasses import asdict, dataclass
from datetime import timedelta
from decimal import Decimal
from typing import IO

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from marketplace.core import outbox
from marketplace.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from marketplace.core.services import audit_record
from marketplace.organisations.csv_import import MemberRegisterRejected, read_member_register
from marketplace.organisations.models import Invitation, MemberFarmer, Membership, Organisation, Plot, User
from marketplace.organisations.roles import Capability, Role, can_grant
from marketplace.organisations.selectors import (
    INVITATION_SALT,
    cooperatives_of,
    invitation_id_from_token,
    is_operator,
    organisation_for,
    role_in,
)


def _full_clean(instance, *, exclude: list[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        fields = error.message_dict
        summary = "; ".join(f"{name}: {msgs[0]}" for name, msgs in fields.items())
        raise ValidationFailed(summary, fields=fields) from None


def _require_operator(actor: User) -> None:
    if not is_operator(actor):
        raise PermissionDenied("Only the platform operator may do this.")


# --- Organisations ----------------------------------------------------------------------

ORGANISATION_FIELDS = [
    "kind",
    "legal_name",
    "display_name",
    "country",
    "region",
    "address",
    "latitude",
    "longitude",
    "registration_number",
    "gln",
    "currency",
    "preferred_language",
    "email",
    "phone",
]


@transaction.atomic
def organisation_create(*, actor: User, **fields) -> Organisation:
    """The operator onboards an organisation; it starts pending verification."""
    _require_operator(actor)
    unknown = set(fields) - set(ORGANISATION_FIELDS)
    if unknown:
        raise ValidationFailed(gettext("Unknown fields: %(unknown)s.") % {"unknown": ", ".join(sorted(unknown))})
    organisation = Organisation(**fields)
    _full_clean(organisation)
    _check_organisation_unique(organisation)
    organisation.save()
    audit_record(
        actor=actor,
        action="organisation.created",
        subject=organisation,
        organisation_id=organisation.pk,
        to_status=organisation.verification_status,
    )
    return organisation


@transaction.atomic
def organisation_onboard(*, actor: User, admin_email: str = "", **fields) -> Organisation:
    """Create an organisation and, given `admin_email`, invite its first admin in the same transaction."""
    organisation = organisation_create(actor=actor, **fields)
    if admin_email:
        _invitation_open(actor=actor, organisation=organisation, email=admin_email, role=Role.ADMIN)
    return organisation


@transaction.atomic
def organisation_admin_invite(*, actor: User, organisation_id: int, email: str) -> Invitation:
    """The operator invites an admin to an organisation, e.g. its first admin after onboarding."""
    _require_operator(actor)
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if organisation is None:
        raise NotFound("No such organisation.")
    return _invitation_open(actor=actor, organisation=organisation, email=email, role=Role.ADMIN)


@transaction.atomic
def operator_bootstrap(
    *,
    legal_name: str,
    country: str,
    registration_number: str,
    currency: str,
    admin_email: str,
    admin_password: str,
    admin_full_name: str = "",
) -> Membership:
    """Create the platform operator and its first admin on a new deployment; there is only ever one operator.

    Nobody can act before this exists, so the new admin is the actor of its own audit records.
    """
    already = Conflict("The platform operator already exists; its admins onboard everything else.")
    if Organisation.objects.filter(kind=Organisation.Kind.OPERATOR).exists():
        raise already
    try:
        validate_email(admin_email)
    except ValidationError:
        raise ValidationFailed(
            "Enter a valid email address for the admin.", fields={"admin_email": "Invalid."}
        ) from None
    operator = Organisation(
        kind=Organisation.Kind.OPERATOR,
        legal_name=legal_name,
        country=country,
        registration_number=registration_number,
        currency=currency,
        verification_status=Organisation.Verification.VERIFIED,
        verified_at=timezone.now(),
    )
    _full_clean(operator)
    admin = User.objects.filter(email__iexact=admin_email).first()
    if admin is None:
        admin = _user_create(email=User.objects.normalize_email(admin_email).lower(), password=admin_password,
                             full_name=admin_full_name)  # fmt: skip
    try:
        with transaction.atomic():
            operator.save()  # a unique constraint allows one operator, even under concurrent bootstraps
    except IntegrityError:
        raise already from None
    membership = Membership.objects.create(user=admin, organisation=operator, role=Role.ADMIN)
    audit_record(actor=admin, action="organisation.created", subject=operator, organisation_id=operator.pk,
                 to_status=operator.verification_status, data={"bootstrap": True})  # fmt: skip
    audit_record(actor=admin, action="membership.created", subject=membership, organisation_id=operator.pk,
                 data={"role": Role.ADMIN, "bootstrap": True})  # fmt: skip
    return membership


def _check_organisation_unique(organisation: Organisation) -> None:
    others = Organisation.objects.exclude(pk=organisation.pk)
    if others.filter(country=organisation.country, registration_number=organisation.registration_number).exists():
        raise ValidationFailed(
            "An organisation with this registration number is already registered in this country.",
            fields={"registration_number": "Already registered in this country."},
        )
    if organisation.gln and others.filter(gln=organisation.gln).exists():
        raise ValidationFailed("Another organisation already has this GLN.", fields={"gln": "Already in use."})


@transaction.atomic
def organisation_update(*, actor: User, organisation_id: int, **fields) -> Organisation:
    """An organisation's admin, or the operator, edits its details. Kind and status are not editable here."""
    if not is_operator(actor):
        organisation_for(viewer=actor, organisation_id=organisation_id, capability=Capability.MANAGE_MEMBERS)
    editable = set(ORGANISATION_FIELDS) - {"kind"}
    unknown = set(fields) - editable
    if unknown:
        raise ValidationFailed(
            gettext("These fields cannot be changed here: %(unknown)s.") % {"unknown": ", ".join(sorted(unknown))}
        )
    organisation = Organisation.objects.select_for_update().filter(pk=organisation_id).first()
    if organisation is None:
        raise NotFound("No such organisation.")
    before = {name: str(getattr(organisation, name)) for name in fields}
    for name, value in fields.items():
        setattr(organisation, name, value)
    _full_clean(organisation)
    _check_organisation_unique(organisation)
    organisation.save()
    audit_record(
        actor=actor,
        action="organisation.updated",
        subject=organisation,
        organisation_id=organisation.pk,
        data={"before": before, "after": {name: str(getattr(organisation, name)) for name in fields}},
    )
    return organisation


V = Organisation.Verification
VERIFICATION_TRANSITIONS: dict[str, set[str]] = {
    V.PENDING: {V.VERIFIED, V.REJECTED},
    V.REJECTED: {V.PENDING},
    V.VERIFIED: {V.SUSPENDED},
    V.SUSPENDED: {V.VERIFIED},
}


@transaction.atomic
def organisation_verification_transition(
    *, actor: User, organisation_id: int, to_status: str, reason: str = ""
) -> Organisation:
    if not is_operator(actor):
        if role_in(viewer=actor, organisation_id=organisation_id) is None:
            raise NotFound("No such organisation.")
        raise PermissionDenied("Only the platform operator may do this.")
    organisation = Organisation.objects.select_for_update().filter(pk=organisation_id).first()
    if organisation is None:
        raise NotFound("No such organisation.")
    from_status = organisation.verification_status
    if to_status not in VERIFICATION_TRANSITIONS.get(from_status, set()):
        allowed = ", ".join(sorted(VERIFICATION_TRANSITIONS.get(from_status, set()))) or "none"
        raise InvalidTransition(
            gettext("An organisation cannot go from %(from_status)s to %(to_status)s. Allowed: %(allowed)s.")
            % {"from_status": from_status, "to_status": to_status, "allowed": allowed},
            fields={"status": gettext("Choose one of: %(allowed)s.") % {"allowed": allowed}},
        )
    if to_status in {V.REJECTED, V.SUSPENDED} and not reason.strip():
        raise ValidationFailed("Give a reason when rejecting or suspending.", fields={"reason": "Required."})
    organisation.verification_status = to_status
    if to_status == V.VERIFIED:
        organisation.verified_at = timezone.now()
    organisation.save(update_fields=["verification_status", "verified_at", "updated_at"])
    audit_record(
        actor=actor,
        action="organisation.verification",
        subject=organisation,
        organisation_id=organisation.pk,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
    )
    return organisation


# --- Users, memberships and invitations -------------------------------------------------


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps(invitation.pk, salt=INVITATION_SALT)


def _invitation_from_token(token: str) -> Invitation:
    invitation_id = invitation_id_from_token(token)
    if invitation_id is None:
        raise ValidationFailed("This invitation link is not valid.", fields={"token": "Invalid."})
    invitation = Invitation.objects.select_for_update().filter(pk=invitation_id).first()
    if invitation is None:
        raise ValidationFailed("This invitation link is not valid.", fields={"token": "Invalid."})
    return invitation


@transaction.atomic
def invitation_create(*, actor: User, organisation_id: int, email: str, role: str) -> Invitation:
    organisation = organisation_for(viewer=actor, organisation_id=organisation_id, capability=Capability.INVITE)
    acting_role = actor.memberships.get(organisation=organisation).role
    if role not in Role.values:
        raise ValidationFailed(
            gettext("Unknown role %(role)s.") % {"role": repr(role)},
            fields={"role": gettext("Choose one of: %(choices)s.") % {"choices": ", ".join(Role.values)}},
        )
    if not can_grant(acting_role, role):
        article = "an" if role == Role.ADMIN else "a"
        raise PermissionDenied(
            gettext("A %(acting_role)s cannot invite %(article)s %(role)s.")
            % {"acting_role": acting_role, "article": article, "role": role}
        )
    return _invitation_open(actor=actor, organisation=organisation, email=email, role=role)


def _invitation_open(*, actor: User, organisation: Organisation, email: str, role: str) -> Invitation:
    """Save an open invitation, audit it and send it on commit. The caller has checked the actor's rights."""
    email = User.objects.normalize_email(email).lower()
    if Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        raise Conflict("This person is already a member of the organisation.", fields={"email": "Already a member."})
    already_open = Conflict(
        "An invitation for this email is already open; revoke it first to send a new one.",
        fields={"email": "Already invited."},
    )
    if Invitation.objects.filter(
        organisation=organisation, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).exists():
        raise already_open
    invitation = Invitation(
        organisation=organisation,
        email=email,
        role=role,
        invited_by=actor,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    _full_clean(invitation)
    try:
        with transaction.atomic():
            invitation.save()
    except IntegrityError:  # the same invitation, sent at the same moment by someone else
        raise already_open from None
    audit_record(
        actor=actor, action="invitation.created", subject=invitation, organisation_id=organisation.pk,
        data={"email": email, "role": role},
    )  # fmt: skip
    from marketplace.organisations.tasks import send_invitation_email

    outbox.enqueue(send_invitation_email, args=[invitation.pk], key=f"invitation-email:{invitation.pk}")
    return invitation


@transaction.atomic
def invitation_revoke(*, actor: User, invitation_id: int) -> Invitation:
    invitation = Invitation.objects.select_for_update().filter(pk=invitation_id).first()
    if invitation is None:
        raise NotFound("No such invitation.")
    try:
        organisation_for(viewer=actor, organisation_id=invitation.organisation_id, capability=Capability.INVITE)
    except NotFound:
        raise NotFound("No such invitation.") from None
    if invitation.status != "open":
        raise Conflict(gettext("This invitation is %(status)s and cannot be revoked.") % {"status": invitation.status})
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at", "updated_at"])
    audit_record(
        actor=actor, action="invitation.revoked", subject=invitation, organisation_id=invitation.organisation_id
    )
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User | None = None, password: str = "", full_name: str = "") -> Membership:
    """Accept as the signed-in user (whose email must match), or create the account with a password."""
    invitation = _invitation_from_token(token)
    if invitation.status != "open":
        raise Conflict(gettext("This invitation is %(status)s.") % {"status": invitation.status})
    if user is not None and user.is_authenticated:
        if user.email.lower() != invitation.email.lower():
            raise PermissionDenied("This invitation was sent to another email address.")
        if Membership.objects.filter(user=user, organisation_id=invitation.organisation_id).exists():
            raise Conflict("You are already a member of this organisation.")
    else:
        user = User.objects.filter(email__iexact=invitation.email).first()
        if user is not None:
            raise Conflict("An account with this email exists: sign in, then open the link again.")
        user = _user_create(email=invitation.email, password=password, full_name=full_name)
    membership = Membership.objects.create(user=user, organisation=invitation.organisation, role=invitation.role)
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    audit_record(
        actor=user, action="membership.created", subject=membership, organisation_id=invitation.organisation_id,
        data={"role": membership.role, "invitation": invitation.pk},
    )  # fmt: skip
    return membership


def auth_token_issue(*, user: User) -> str:
    """The user's API token, created on first use (an authenticated user asks for it)."""
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=user)
    return token.key


def _user_create(*, email: str, password: str, full_name: str) -> User:
    from django.contrib.auth.password_validation import validate_password

    if not password:
        raise ValidationFailed("Choose a password for your new account.", fields={"password": "Required."})
    user = User(email=email, full_name=full_name)
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationFailed(" ".join(error.messages), fields={"password": error.messages}) from None
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise Conflict("An account with this email exists: sign in, then open the link again.") from None
    return user


@transaction.atomic
def user_set_language(*, actor: User, language: str) -> User:
    """Remember the language a user chose, so that sign-in, emails and SMS use it."""
    if language not in dict(settings.LANGUAGES):
        choices = ", ".join(code for code, _name in settings.LANGUAGES)
        raise ValidationFailed(
            gettext("Unknown language %(language)s.") % {"language": repr(language)},
            fields={"language": gettext("Choose one of: %(choices)s.") % {"choices": choices}},
        )
    if actor.preferred_language != language:
        actor.preferred_language = language
        actor.save(update_fields=["preferred_language"])
    return actor


def _lock_membership(actor: User, membership_id: int) -> Membership:
    membership = Membership.objects.select_for_update().filter(pk=membership_id).first()
    if membership is None:
        raise NotFound("No such membership.")
    try:
        organisation_for(viewer=actor, organisation_id=membership.organisation_id, capability=Capability.MANAGE_MEMBERS)
    except NotFound:
        raise NotFound("No such membership.") from None
    return membership


def _ensure_another_admin(membership: Membership) -> None:
    admins = Membership.objects.select_for_update().filter(organisation_id=membership.organisation_id, role=Role.ADMIN)
    if membership.role == Role.ADMIN and admins.exclude(pk=membership.pk).count() == 0:
        raise Conflict("An organisation needs at least one admin; make someone else admin first.")


@transaction.atomic
def membership_change_role(*, actor: User, membership_id: int, role: str) -> Membership:
    membership = _lock_membership(actor, membership_id)
    if role not in Role.values:
        raise ValidationFailed(
            gettext("Unknown role %(role)s.") % {"role": repr(role)},
            fields={"role": gettext("Choose one of: %(choices)s.") % {"choices": ", ".join(Role.values)}},
        )
    if role != Role.ADMIN:
        _ensure_another_admin(membership)
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    audit_record(
        actor=actor, action="membership.role_changed", subject=membership,
        organisation_id=membership.organisation_id, from_status=before, to_status=role,
    )  # fmt: skip
    return membership


@transaction.atomic
def membership_remove(*, actor: User, membership_id: int) -> None:
    membership = _lock_membership(actor, membership_id)
    _ensure_another_admin(membership)
    audit_record(
        actor=actor, action="membership.removed", subject=membership,
        organisation_id=membership.organisation_id, from_status=membership.role,
        data={"user": membership.user.email},
    )  # fmt: skip
    membership.delete()


# --- Member farmers and plots -----------------------------------------------------------

FARMER_FIELDS = {"member_number", "name", "phone", "gender", "birth_year", "village", "joined_on", "language"}


def _cooperative_for(actor: User, organisation_id: int, capability: Capability) -> Organisation:
    organisation = organisation_for(viewer=actor, organisation_id=organisation_id, capability=capability)
    if organisation.kind != Organisation.Kind.COOPERATIVE:
        raise ValidationFailed("Only cooperatives have member farmers.", fields={"organisation": "Not a cooperative."})
    return organisation


def _check_birth_year(birth_year: int | None) -> None:
    if birth_year is None:
        return
    this_year = timezone.now().year
    if not 1900 <= birth_year <= this_year:
        raise ValidationFailed(
            gettext("Birth year must be between 1900 and %(this_year)s.") % {"this_year": this_year},
            fields={"birth_year": "Out of range."},
        )


def _save_farmer(farmer: MemberFarmer) -> None:
    _full_clean(farmer, exclude=["organisation"])
    _check_birth_year(farmer.birth_year)
    try:
        with transaction.atomic():
            farmer.save()
    except IntegrityError:
        raise ValidationFailed(
            gettext("Member number %(member_number)s is already used in this cooperative.")
            % {"member_number": farmer.member_number},
            fields={"member_number": "Already used in this cooperative."},
        ) from None


def _default_cooperative_id(actor: User, organisation_id: int | None) -> int:
    """The cooperative named, or else the only cooperative the actor belongs to."""
    if organisation_id is not None:
        return organisation_id
    cooperatives = cooperatives_of(viewer=actor)
    if len(cooperatives) == 1:
        return cooperatives[0].pk
    if not cooperatives:
        raise ValidationFailed(
            "You do not belong to any cooperative; name the organisation.", fields={"organisation": "Required."}
        )
    raise ValidationFailed(
        "You belong to several cooperatives; say which one with `organisation`.",
        fields={"organisation": "Required when you belong to several cooperatives."},
    )


@transaction.atomic
def member_farmer_create(*, actor: User, organisation_id: int | None = None, **fields) -> MemberFarmer:
    """Register a member; without `organisation_id`, in the only cooperative the actor belongs to."""
    organisation = _cooperative_for(actor, _default_cooperative_id(actor, organisation_id), Capability.RECORD)
    unknown = set(fields) - FARMER_FIELDS
    if unknown:
        raise ValidationFailed(gettext("Unknown fields: %(unknown)s.") % {"unknown": ", ".join(sorted(unknown))})
    fields.setdefault("joined_on", timezone.localdate())
    farmer = MemberFarmer(organisation=organisation, **fields)
    _save_farmer(farmer)
    audit_record(
        actor=actor, action="member_farmer.created", subject=farmer, organisation_id=organisation.pk,
        to_status=farmer.status,
    )  # fmt: skip
    return farmer


def _lock_farmer(actor: User, farmer_id: int, capability: Capability) -> MemberFarmer:
    farmer = MemberFarmer.objects.select_for_update().filter(pk=farmer_id).first()
    if farmer is None:
        raise NotFound("No such member farmer.")
    try:
        organisation_for(viewer=actor, organisation_id=farmer.organisation_id, capability=capability)
    except NotFound:
        raise NotFound("No such member farmer.") from None
    return farmer


@transaction.atomic
def member_farmer_update(*, actor: User, farmer_id: int, **fields) -> MemberFarmer:
    farmer = _lock_farmer(actor, farmer_id, Capability.RECORD)
    unknown = set(fields) - FARMER_FIELDS
    if unknown:
        raise ValidationFailed(
            gettext("These fields cannot be changed here: %(unknown)s.") % {"unknown": ", ".join(sorted(unknown))}
        )
    before = {name: str(getattr(farmer, name)) for name in fields}
    for name, value in fields.items():
        setattr(farmer, name, value)
    _save_farmer(farmer)
    audit_record(
        actor=actor, action="member_farmer.updated", subject=farmer, organisation_id=farmer.organisation_id,
        data={"before": before, "after": {name: str(getattr(farmer, name)) for name in fields}},
    )  # fmt: skip
    return farmer


S = MemberFarmer.Status
FARMER_TRANSITIONS: dict[str, set[str]] = {
    S.ACTIVE: {S.SUSPENDED, S.LEFT},
    S.SUSPENDED: {S.ACTIVE, S.LEFT},
    S.LEFT: {S.ACTIVE},
}


@transaction.atomic
def member_farmer_status_transition(*, actor: User, farmer_id: int, to_status: str, reason: str) -> MemberFarmer:
    farmer = _lock_farmer(actor, farmer_id, Capability.DECIDE)
    from_status = farmer.status
    allowed = FARMER_TRANSITIONS.get(from_status, set())
    if to_status not in allowed:
        raise InvalidTransition(
            gettext("A member cannot go from %(from_status)s to %(to_status)s. Allowed: %(allowed)s.")
            % {"from_status": from_status, "to_status": to_status, "allowed": ", ".join(sorted(allowed))},
            fields={"status": gettext("Choose one of: %(allowed)s.") % {"allowed": ", ".join(sorted(allowed))}},
        )
    if not reason.strip():
        raise ValidationFailed("Give a reason for the change of status.", fields={"reason": "Required."})
    farmer.status = to_status
    farmer.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor, action="member_farmer.status", subject=farmer, organisation_id=farmer.organisation_id,
        from_status=from_status, to_status=to_status, reason=reason,
    )  # fmt: skip
    return farmer


PLOT_FIELDS = {"name", "area_hectares", "country", "geometry", "established_on"}
GEOMETRY_TYPES = {"Point", "MultiPoint", "Polygon", "MultiPolygon"}


def _check_geometry_shape(geometry) -> None:
    """Only the GeoJSON shape here; traceability checks the geometry against the EUDR rules."""
    if geometry is None:
        return
    if not isinstance(geometry, dict) or geometry.get("type") not in GEOMETRY_TYPES:
        raise ValidationFailed(
            "Geometry must be a GeoJSON Point, MultiPoint, Polygon or MultiPolygon object.",
            fields={
                "geometry": gettext("type must be one of: %(geometry_types)s.")
                % {"geometry_types": ", ".join(sorted(GEOMETRY_TYPES))}
            },
        )
    if not isinstance(geometry.get("coordinates"), list) or not geometry["coordinates"]:
        raise ValidationFailed("Geometry needs a non-empty coordinates array.", fields={"geometry": "No coordinates."})


def _save_plot(plot: Plot) -> None:
    _full_clean(plot, exclude=["farmer", "organisation"])
    if plot.area_hectares is None or Decimal(plot.area_hectares) <= 0:
        raise ValidationFailed("A plot's area must be more than 0 ha.", fields={"area_hectares": "Must be > 0."})
    _check_geometry_shape(plot.geometry)
    plot.save()


@transaction.atomic
def plot_create(*, actor: User, farmer_id: int, **fields) -> Plot:
    farmer = _lock_farmer(actor, farmer_id, Capability.RECORD)
    unknown = set(fields) - PLOT_FIELDS
    if unknown:
        raise ValidationFailed(gettext("Unknown fields: %(unknown)s.") % {"unknown": ", ".join(sorted(unknown))})
    fields.setdefault("country", farmer.organisation.country)
    plot = Plot(farmer=farmer, organisation_id=farmer.organisation_id, **fields)
    _save_plot(plot)
    audit_record(actor=actor, action="plot.created", subject=plot, organisation_id=farmer.organisation_id)
    return plot


@transaction.atomic
def plot_update(*, actor: User, plot_id: int, **fields) -> Plot:
    plot = Plot.objects.select_for_update().filter(pk=plot_id).first()
    if plot is None:
        raise NotFound("No such plot.")
    try:
        organisation_for(viewer=actor, organisation_id=plot.organisation_id, capability=Capability.RECORD)
    except NotFound:
        raise NotFound("No such plot.") from None
    unknown = set(fields) - PLOT_FIELDS
    if unknown:
        raise ValidationFailed(gettext("Unknown fields: %(unknown)s.") % {"unknown": ", ".join(sorted(unknown))})
    for name, value in fields.items():
        setattr(plot, name, value)
    _save_plot(plot)
    audit_record(actor=actor, action="plot.updated", subject=plot, organisation_id=plot.organisation_id,
                 data={"fields": sorted(fields)})  # fmt: skip
    return plot


# --- Member register import -------------------------------------------------------------


@dataclass(frozen=True)
class MemberImportResult:
    created: int
    updated: int
    unchanged: int
    ignored_columns: tuple[str, ...] = ()


@transaction.atomic
def member_farmer_import(
    *, actor: User, organisation_id: int | None = None, file: IO[bytes] | bytes, file_name: str = ""
) -> MemberImportResult:
    """Create or update the members listed in a CSV register (see `csv_import`), all or nothing.

    A row whose member number exists updates that member with the row's non-empty cells; other rows
    create members (joined today unless `joined_on` says otherwise). Every row is checked before
    anything is written; any bad row rejects the whole file with the errors of every row.
    """
    organisation = _cooperative_for(actor, _default_cooperative_id(actor, organisation_id), Capability.DECIDE)
    register = read_member_register(file, region=organisation.country.code, max_rows=settings.MEMBER_IMPORT_MAX_ROWS)
    # Imports into one cooperative run one at a time, so the second sees the first's members.
    # NO KEY UPDATE does not block inserts that reference the cooperative.
    Organisation.objects.select_for_update(no_key=True).filter(pk=organisation.pk).values_list("pk").get()
    numbers = [row.values["member_number"] for row in register.rows if "member_number" in row.values]
    members = MemberFarmer.objects.select_for_update().filter(organisation=organisation, member_number__in=numbers)
    existing = {farmer.member_number: farmer for farmer in members}
    errors = {row.number: dict(row.errors) for row in register.rows if row.errors}
    to_create: list[MemberFarmer] = []
    to_update: list[MemberFarmer] = []
    unchanged = 0
    now = timezone.now()
    for row in register.rows:
        if row.errors:
            continue
        farmer = existing.get(row.values["member_number"])
        if farmer is None:
            farmer = MemberFarmer(organisation=organisation, **{"joined_on": timezone.localdate(), **row.values})
            pending = to_create
        else:
            before = {name: getattr(farmer, name) for name in row.values}
            for name, value in row.values.items():
                setattr(farmer, name, value)
            if all(str(getattr(farmer, name)) == str(before[name]) for name in row.values):
                unchanged += 1
                continue
            farmer.updated_at = now
            pending = to_update
        try:
            farmer.full_clean(exclude=["organisation"], validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            errors[row.number] = error.message_dict
            continue
        pending.append(farmer)
    if errors:
        raise MemberRegisterRejected(errors)
    try:
        with transaction.atomic():
            MemberFarmer.objects.bulk_create(to_create, batch_size=500)
    except IntegrityError:
        raise Conflict(
            "Someone added some of these member numbers while the file was being imported; nothing was "
            "imported. Upload the file again."
        ) from None
    _update_farmers(to_update, [*sorted(FARMER_FIELDS & set(register.columns)), "updated_at"])
    result = MemberImportResult(
        created=len(to_create),
        updated=len(to_update),
        unchanged=unchanged,
        ignored_columns=tuple(register.ignored_columns),
    )
    audit_record(
        actor=actor,
        action="member_farmer.imported",
        subject=organisation,
        organisation_id=organisation.pk,
        data={"file_name": file_name, "rows": len(register.rows), **asdict(result)},
    )
    return result


def _update_farmers(farmers: list[MemberFarmer], names: list[str]) -> None:
    """One UPDATE per farmer, sent as a batch: `bulk_update`'s CASE expressions take seconds for thousands."""
    if not farmers:
        return
    fields = [MemberFarmer._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    table, key = quote(MemberFarmer._meta.db_table), quote(MemberFarmer._meta.pk.column)
    sql = f"UPDATE {table} SET {assignments} WHERE {key} = %s"  # noqa: S608 - names come from the model
    params = [
        [field.get_db_prep_save(getattr(farmer, field.attname), connection) for field in fields] + [farmer.pk]
        for farmer in farmers
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


# --- Bulk plot import -----------------------------------------------------------------------


class PlotImportRejected(ValidationFailed):
    """Some features of a plot file are wrong, so no plot was imported.

    ``features`` lists ``[{"feature": 0, "name": "...", "errors": ["..."]}]`` (features counted from 0, in file
    order); ``fields`` holds the same messages under ``features.<index>``.
    """

    default_code = "invalid_features"

    def __init__(self, feature_errors: dict[int, list[str]], names: dict[int, str] | None = None) -> None:
        names = names or {}
        self.features = [
            {"feature": index, "name": names.get(index, ""), "errors": feature_errors[index]}
            for index in sorted(feature_errors)
        ]
        first = self.features[0]
        count = len(self.features)
        label = f"feature {first['feature']}" + (f" ({first['name']})" if first["name"] else "")
        super().__init__(
            f"{count} feature{'s' if count != 1 else ''} of the file {'have' if count != 1 else 'has'} errors, so no "
            f"plot was imported. Correct them and upload the file again. First: {label}: {first['errors'][0]}",
            fields={f"features.{item['feature']}": item["errors"] for item in self.features},
        )


@dataclass(frozen=True)
class PlotImportRow:
    """One feature of a plot file, already read and checked against the EUDR geometry rules."""

    index: int
    member_number: str
    name: str
    area_hectares: Decimal
    geometry: dict
    country: str = ""
    established_on: object = None  # a date or None


@transaction.atomic
def plot_import(
    *,
    actor: User,
    organisation_id: int | None = None,
    rows: list[PlotImportRow],
    errors: dict[int, list[str]] | None = None,
    names: dict[int, str] | None = None,
    file_name: str = "",
) -> list[Plot]:
    """Create the plots of a file (read by `traceability.plot_import`), all or nothing.

    Each row names its member by member number. Errors found while reading (`errors`, by feature) are reported
    with those found here: a member number the cooperative does not have, a member who already has a plot of that
    name. Any error rejects the whole file (PlotImportRejected) and nothing is written.
    """
    organisation = _cooperative_for(actor, _default_cooperative_id(actor, organisation_id), Capability.RECORD)
    errors = {index: list(messages) for index, messages in (errors or {}).items()}
    # Imports into one cooperative run one at a time, so the duplicate check sees the other import's plots.
    Organisation.objects.select_for_update(no_key=True).filter(pk=organisation.pk).values_list("pk").get()
    numbers = {row.member_number for row in rows}
    farmers = {
        f.member_number: f for f in MemberFarmer.objects.filter(organisation=organisation, member_number__in=numbers)
    }
    existing = set(
        Plot.objects.filter(organisation=organisation, farmer__member_number__in=numbers).values_list(
            "farmer__member_number", "name"
        )
    )
    plots = []
    for row in rows:
        farmer = farmers.get(row.member_number)
        if farmer is None:
            errors.setdefault(row.index, []).append(
                f"No member of {organisation.name} has the member number {row.member_number!r}: add the member to "
                "the register first, or correct the member_number property."
            )
            continue
        if (row.member_number, row.name) in existing:
            errors.setdefault(row.index, []).append(
                f"Member {row.member_number} already has a plot named {row.name!r}: rename the plot in the file, or "
                "leave this feature out."
            )
            continue
        plot = Plot(
            farmer=farmer,
            organisation=organisation,
            name=row.name,
            area_hectares=row.area_hectares,
            country=row.country or organisation.country,
            geometry=row.geometry,
            established_on=row.established_on,
        )
        try:
            plot.full_clean(exclude=["farmer", "organisation"], validate_unique=False)
        except ValidationError as error:
            errors.setdefault(row.index, []).extend(
                f"{field}: {message}" for field, messages in error.message_dict.items() for message in messages
            )
            continue
        plots.append(plot)
    if errors:
        raise PlotImportRejected(errors, names)
    if not plots:
        raise ValidationFailed("The file holds no plot.", fields={"file": "Add at least one feature."})
    created = Plot.objects.bulk_create(plots, batch_size=500)
    audit_record(
        actor=actor,
        action="plot.imported",
        subject=organisation,
        organisation_id=organisation.pk,
        data={"file_name": file_name, "plots": len(created)},
    )
    return created
