import datetime

import factory
from factory.django import DjangoModelFactory

from marketplace.organisations.models import MemberFarmer, Membership, Organisation, Plot, User
from marketplace.organisations.roles import Role

PASSWORD = "demo-pass-1234"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation

    kind = Organisation.Kind.COOPERATIVE
    legal_name = factory.Sequence(lambda n: f"Cooperative {n}")
    country = "CI"
    region = "Nawa"
    registration_number = factory.Sequence(lambda n: f"REG-{n:05d}")
    currency = "XOF"
    preferred_language = "fr"
    verification_status = Organisation.Verification.VERIFIED


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.MANAGER


class MemberFarmerFactory(DjangoModelFactory):
    class Meta:
        model = MemberFarmer

    organisation = factory.SubFactory(OrganisationFactory)
    member_number = factory.Sequence(lambda n: f"M{n:05d}")
    name = factory.Faker("name")
    phone = factory.Sequence(lambda n: f"+22507{n:08d}")
    gender = MemberFarmer.Gender.FEMALE
    birth_year = 1985
    joined_on = datetime.date(2020, 1, 15)


class PlotFactory(DjangoModelFactory):
    class Meta:
        model = Plot

    farmer = factory.SubFactory(MemberFarmerFactory)
    organisation = factory.SelfAttribute("farmer.organisation")
    name = factory.Sequence(lambda n: f"Plot {n}")
    area_hectares = "1.5000"
    country = "CI"
    geometry = None
    established_on = datetime.date(2009, 4, 1)
