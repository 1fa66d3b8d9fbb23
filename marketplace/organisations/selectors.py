"""Reads that take the viewer: nobody sees another organisation's data by changing an id."""

from dataclasses import dataclass

from django.core import signing
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext

from marketplace.core.errors import NotFound, PermissionDenied
from marketplace.organisations import spatial
from marketplace.organisations.models import Invitation, MemberFarmer, Membership, Organisation, Plot, User
from marketplace.organisations.roles import Capability, role_can

INVITATION_SALT = "coopmarket.invitation"


def invitation_id_from_token(token: str) -> int | None:
    """The invitation a link names, or None when the link was not signed by us."""
    try:
        return int(signing.loads(token, salt=INVITATION_SALT))
    except (signing.BadSignature, TypeError, ValueError):
        return None


def invitation_preview(*, token: str) -> Invitation | None:
    """What the holder of an invitation link may see: organisation, email, role and status."""
    invitation_id = invitation_id_from_token(token)
    if invitation_id is None:
        return None
    return Invitation.objects.select_related("organisation").filter(pk=invitation_id).first()


def _organisation_ids_with(viewer: User, capability: Capability) -> list[int]:
    if not viewer.is_authenticated:
        return []
    return [m.organisation_id for m in viewer.memberships.all() if role_can(m.role, capability)]


def is_operator(viewer: User) -> bool:
    if not viewer.is_authenticated:
        return False
    return viewer.memberships.filter(organisation__kind=Organisation.Kind.OPERATOR).exists()


def membership_list_for_user(*, viewer: User) -> QuerySet[Membership]:
    return viewer.memberships.select_related("organisation").order_by("organisation__legal_name")


def role_in(*, viewer: User, organisation_id: int) -> str | None:
    if not viewer.is_authenticated:
        return None
    membership = viewer.memberships.filter(organisation_id=organisation_id).only("role").first()
    return membership.role if membership else None


def organisation_for(*, viewer: User, organisation_id: int | str | None, capability: Capability) -> Organisation:
    """The organisation the viewer acts for, if the viewer's role there allows `capability`.

    A viewer who is not a member gets NotFound, never a hint that the organisation exists.
    """
    return membership_for(viewer=viewer, organisation_id=organisation_id, capability=capability).organisation


def membership_for(*, viewer: User, organisation_id: int | str | None, capability: Capability) -> Membership:
    """The viewer's membership (with its organisation) of the organisation it acts for, as `organisation_for`
    checks it: one query gives both the organisation and the viewer's role there."""
    try:
        organisation_id = int(organisation_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise NotFound("No such organisation.") from None
    membership = (
        viewer.memberships.select_related("organisation").filter(organisation_id=organisation_id).first()
        if viewer.is_authenticated
        else None
    )
    if membership is None:
        raise NotFound("No such organisation.")
    if not role_can(membership.role, capability):
        raise PermissionDenied(
            gettext("Your role (%(role)s) does not allow this.") % {"role": membership.get_role_display()}
        )
    return membership


def organisation_list(*, viewer: User) -> QuerySet[Organisation]:
    """Operators see every organisation; everyone else sees the organisations they belong to."""
    queryset = Organisation.objects.annotate(member_farmer_count=Count("member_farmers"))
    if not viewer.is_authenticated:
        return queryset.none()
    if is_operator(viewer):
        return queryset
    return queryset.filter(memberships__user=viewer)


def organisation_get(*, viewer: User, organisation_id: int) -> Organisation:
    organisation = organisation_list(viewer=viewer).filter(pk=organisation_id).first()
    if organisation is None:
        raise NotFound("No such organisation.")
    return organisation


def membership_list(*, viewer: User, organisation_id: int) -> QuerySet[Membership]:
    organisation_for(viewer=viewer, organisation_id=organisation_id, capability=Capability.VIEW)
    return Membership.objects.filter(organisation_id=organisation_id).select_related("user").order_by("user__email")


def invitation_list(*, viewer: User, organisation_id: int) -> QuerySet[Invitation]:
    organisation_for(viewer=viewer, organisation_id=organisation_id, capability=Capability.INVITE)
    return Invitation.objects.filter(organisation_id=organisation_id).select_related("invited_by")


def member_farmer_list(
    *,
    viewer: User,
    organisation_id: int | None = None,
    search: str = "",
    status: str = "",
) -> QuerySet[MemberFarmer]:
    visible = _organisation_ids_with(viewer, Capability.VIEW)
    queryset = MemberFarmer.objects.filter(organisation_id__in=visible).select_related("organisation")
    if organisation_id is not None:
        queryset = queryset.filter(organisation_id=organisation_id)
    if search:
        queryset = queryset.filter(
            Q(name__icontains=search)
            | Q(member_number__icontains=search)
            | Q(phone__icontains=search)
            | Q(village__icontains=search)
        )
    if status:
        queryset = queryset.filter(status=status)
    return queryset.annotate(plot_count=Count("plots"))


def member_farmer_get(*, viewer: User, farmer_id: int) -> MemberFarmer:
    farmer = member_farmer_list(viewer=viewer).filter(pk=farmer_id).first()
    if farmer is None:
        raise NotFound("No such member farmer.")
    return farmer


def plot_list(*, viewer: User, farmer_id: int | None = None) -> QuerySet[Plot]:
    visible = _organisation_ids_with(viewer, Capability.VIEW)
    queryset = Plot.objects.filter(organisation_id__in=visible).select_related("farmer")
    if farmer_id is not None:
        queryset = queryset.filter(farmer_id=farmer_id)
    return queryset


def plot_get(*, viewer: User, plot_id: int) -> Plot:
    plot = plot_list(viewer=viewer).filter(pk=plot_id).first()
    if plot is None:
        raise NotFound("No such plot.")
    return plot


def farmer_plot_list(*, viewer: User, farmer_id: int) -> QuerySet[Plot]:
    """The plots of one member farmer; a farmer the viewer cannot see is NotFound, not an empty list."""
    visible = _organisation_ids_with(viewer, Capability.VIEW)
    if not MemberFarmer.objects.filter(pk=farmer_id, organisation_id__in=visible).exists():
        raise NotFound("No such member farmer.")
    return Plot.objects.filter(organisation_id__in=visible, farmer_id=farmer_id).select_related("farmer")


def cooperatives_of(*, viewer: User) -> list[Organisation]:
    """The cooperatives the viewer belongs to, whatever the role."""
    if not viewer.is_authenticated:
        return []
    return list(Organisation.objects.filter(kind=Organisation.Kind.COOPERATIVE, memberships__user=viewer))


def inclusion_figures(*, viewer: User, organisation_id: int, youth_max_age: int = 35, year: int) -> dict:
    """Counts funders ask for: active members by gender and how many are young."""
    organisation_for(viewer=viewer, organisation_id=organisation_id, capability=Capability.VIEW)
    active = MemberFarmer.objects.filter(organisation_id=organisation_id, status=MemberFarmer.Status.ACTIVE)
    return active.aggregate(
        total=Count("id"),
        women=Count("id", filter=Q(gender=MemberFarmer.Gender.FEMALE)),
        youth=Count("id", filter=Q(birth_year__gte=year - youth_max_age)),
    )


@dataclass(frozen=True)
class PlotOverlapRow:
    """An overlap as a page or the API shows it: the plot, the other member's plot and farmer, and by how much."""

    plot: Plot
    other: Plot
    kind: str
    share: float
    hectares: float

    @property
    def percent(self) -> int:
        return round(self.share * 100)


def plot_overlap_list(
    *, viewer: User, organisation_id: int | None = None, farmer_id: int | None = None, plot_id: int | None = None
) -> list[PlotOverlapRow]:
    """Overlaps with other members' plots (see `spatial`): of one plot, of one member's plots, or of every plot of
    a cooperative. A plot, member or cooperative the viewer cannot see is NotFound. Three queries at most."""
    if plot_id is not None:
        organisation_id = plot_get(viewer=viewer, plot_id=plot_id).organisation_id
        plot_ids = [plot_id]
    elif farmer_id is not None:
        organisation_id = member_farmer_get(viewer=viewer, farmer_id=farmer_id).organisation_id
        plot_ids = list(Plot.objects.filter(farmer_id=farmer_id).values_list("pk", flat=True))
    else:
        organisation_id = organisation_for(
            viewer=viewer, organisation_id=organisation_id, capability=Capability.VIEW
        ).pk
        plot_ids = None
    found = spatial.plot_overlaps(organisation_id=organisation_id, plot_ids=plot_ids)
    if not found:
        return []
    wanted = {o.plot_id for o in found} | {o.other_plot_id for o in found}
    plots = Plot.objects.select_related("farmer").in_bulk(wanted)
    return [PlotOverlapRow(plots[o.plot_id], plots[o.other_plot_id], o.kind, o.share, o.hectares) for o in found]
