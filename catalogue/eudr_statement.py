"""A lot's or an order's due-diligence statement in the EU Information System's structure (`traceability.dds`).

Built from the due-diligence package (`catalogue.due_diligence`): one commodity entry per commodity, one producer per
member farmer with the GeoJSON FeatureCollection of that member's contributing plots. The operator is the
organisation that downloads it (the cooperative exporting, or the buyer importing), and the statement names the
upstream statements that organisation recorded for the lot or order. When the producers exceed the Commission's
limits (1,000 per commodity, 10,000 per statement, 25 MB), the statement is split into parts, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext

from catalogue.due_diligence import Package
from marketplace.core.errors import Conflict, ValidationFailed
from marketplace.organisations.models import Organisation
from traceability import dds
from traceability.eudr import due_diligence_feature_collection
from traceability.models import StatementReference

DEFAULT_ACTIVITY = {Organisation.Kind.COOPERATIVE: "EXPORT", Organisation.Kind.BUYER: "IMPORT"}


@dataclass
class StatementSet:
    subject: str
    activity_type: str
    parts: list[dict]
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def split(self) -> bool:
        return len(self.parts) > 1

    def as_json(self) -> dict:
        return {
            "format": "EUDR Information System DDS V3 (submitDds), as JSON",
            "subject": self.subject,
            "activity_type": self.activity_type,
            "split": self.split,
            "notes": self.notes,
            "valid": not self.errors,
            "errors": self.errors,
            "statements": self.parts,
        }


def operator_identification(organisation: Organisation) -> dict:
    """EconomicOperatorIdentificationType of an organisation: its name, identifiers and contacts as known here."""
    operator: dict = {"operatorName": organisation.legal_name[:200]}
    if organisation.gln:
        operator["operatorReferenceNumber"] = {"identifierType": "gln", "identifierValue": organisation.gln}
    elif organisation.registration_number:
        operator["operatorReferenceNumber"] = {
            "identifierType": "comp_reg",
            "identifierValue": organisation.registration_number[:80],
        }
    if organisation.email:
        operator["operatorEmail"] = organisation.email
    if organisation.phone:
        operator["operatorPhone"] = str(organisation.phone)[:50]
    return operator


def _producers(package: Package, cattle: bool) -> list[dds.Producer]:
    by_farmer: dict[int, list] = {}
    for plot in package.plots:
        by_farmer.setdefault(plot.farmer_id, []).append(plot)
    return [
        dds.Producer(
            country=str(plots[0].country),
            name=plots[0].farmer.name[:500],
            geojson=due_diligence_feature_collection(plots, cattle=cattle),
        )
        for _, plots in sorted(by_farmer.items())
    ]


def _net_weight(grams: int) -> str:
    return str((Decimal(grams) / 1000).quantize(Decimal("0.001")))


def _hs_heading(hs_code: str) -> str:
    return "".join(ch for ch in hs_code if ch.isdigit())[:6]


def build_statements(
    package: Package,
    *,
    operator: Organisation,
    activity_type: str = "",
    confidential: bool = True,
    country_of_activity: str = "",
    border_cross_country: str = "",
) -> StatementSet:
    """The statement(s) for a package, or Conflict when the package is not EUDR-ready (it says what is missing)."""
    if not package.ready:
        reasons = "; ".join(item.message for item in package.missing[:5])
        raise Conflict(
            gettext("This %(kind)s is not EUDR-ready, so no statement can be made: %(reasons)s")
            % {"kind": package.kind, "reasons": reasons},
            code="not_eudr_ready",
            fields={"missing": [item.message for item in package.missing]},
        )
    activity = activity_type or DEFAULT_ACTIVITY.get(operator.kind, "DOMESTIC")
    if activity not in dds.ACTIVITY_TYPES:
        raise ValidationFailed(
            gettext("%(activity)s is not an activity type; choose one of: %(activity_types)s.")
            % {"activity": repr(activity), "activity_types": ", ".join(dds.ACTIVITY_TYPES)},
            fields={
                "activity_type": gettext("One of: %(activity_types)s.")
                % {"activity_types": ", ".join(dds.ACTIVITY_TYPES)}
            },
        )
    cattle = any(item.commodity.eudr_commodity == "cattle" for item in package.commodities)
    producers = _producers(package, cattle)
    references = [
        {"referenceNumber": ref.reference_number, "verificationNumber": ref.verification_number}
        for ref in StatementReference.objects.filter(organisation=operator, subject=package.identifier)
    ]
    chunks = dds.split_producers(producers)
    # Each part carries the whole commodity entry with its share of the producers; the mass is declared once,
    # on the first part, so that the parts add up to what was sold.
    parts = []
    for number, chunk in enumerate(chunks, start=1):
        suffix = f"-{number}" if len(chunks) > 1 else ""
        commodities = []
        for position, item in enumerate(package.commodities, start=1):
            measure = {"netWeight": _net_weight(item.grams if number == 1 else 0)}
            commodities.append(
                {
                    "position": position,
                    "descriptors": {
                        "descriptionOfGoods": f"{item.commodity.name}, {package.kind} {package.reference}"[:150],
                        "goodsMeasure": measure,
                    },
                    "hsHeading": _hs_heading(item.commodity.hs_code),
                    "producers": [
                        {"position": index, "country": p.country, "name": p.name, "geometryGeojson": p.encoded()}
                        for index, p in enumerate(chunk, start=1)
                    ],
                }
            )
        statement: dict = {
            "internalReferenceNumber": f"{package.kind[:1].upper()}-{package.reference}{suffix}"[:35],
            "activityType": activity,
            "commodities": commodities,
            "geoLocationConfidential": confidential,
        }
        if country_of_activity:
            statement["countryOfActivity"] = country_of_activity.upper()
        if border_cross_country:
            statement["borderCrossCountry"] = border_cross_country.upper()
        if references:
            statement["groupedDeclarations"] = references
        parts.append(
            {"operatorRole": "OPERATOR", "operator": operator_identification(operator), "statement": statement}
        )
    result = StatementSet(subject=package.identifier, activity_type=activity, parts=parts)
    if len(chunks) > 1:
        result.notes.append(
            f"{len(producers)} producers exceed the EU limit of {dds.MAX_PRODUCERS_PER_COMMODITY} per commodity "
            f"(or 25 MB of geolocation): the statement is split into {len(chunks)} parts; submit each and keep "
            "their reference numbers together. The net weight is declared on part 1."
        )
    for index, part in enumerate(parts):
        request = {"operatorRole": part["operatorRole"], "statement": part["statement"]}
        result.errors += [f"part {index + 1}: {error}" for error in dds.statement_errors(request)]
        result.errors += [f"part {index + 1}: {error}" for error in dds.operator_errors(part["operator"])]
    return result
