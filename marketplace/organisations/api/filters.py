"""Query filters of the list endpoints (django-filter); the selectors have already scoped by viewer."""

import django_filters
from django_countries import countries

from marketplace.core.filters import IdFilter
from marketplace.organisations.models import MemberFarmer, Organisation


class OrganisationFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Organisation.Kind.choices)
    country = django_filters.ChoiceFilter(choices=list(countries), help_text="ISO 3166-1 alpha-2 code.")
    verification_status = django_filters.ChoiceFilter(choices=Organisation.Verification.choices)

    class Meta:
        model = Organisation
        fields = ["kind", "country", "verification_status"]


class MemberFarmerFilter(django_filters.FilterSet):
    organisation = IdFilter(field_name="organisation_id", help_text="Organisation id.")
    status = django_filters.ChoiceFilter(choices=MemberFarmer.Status.choices)
    gender = django_filters.ChoiceFilter(choices=MemberFarmer.Gender.choices)

    class Meta:
        model = MemberFarmer
        fields = ["organisation", "status", "gender"]
