"""Reference commodities, grades and packaging.

The quality limits are indicative values drawn from common national and regional standards (ICCO and
CCC for cocoa, ICO for coffee, East African Standards for grains and pulses); each cooperative's buyers
may ask for stricter ones. Rank 1 is the best grade of a commodity.
"""

from decimal import Decimal

from django.db import migrations

D = Decimal

# code, name, HS code, EUDR commodity, default unit, grades: (code, name, max moisture %, max defects %, min screen)
COMMODITIES = [
    ("cocoa-beans", "Cocoa beans", "1801.00", "cocoa", "KGM", [
        ("grade-1", "Grade I", D("7.5"), D("3"), None),
        ("grade-2", "Grade II", D("8"), D("8"), None),
        ("sub-standard", "Sub-standard", D("10"), None, None),
    ]),
    ("coffee-arabica-green", "Coffee, arabica, green", "0901.11", "coffee", "KGM", [
        ("aa", "AA (screen 18)", D("12.5"), D("3"), 18),
        ("ab", "AB (screen 15)", D("12.5"), D("5"), 15),
        ("c", "C (screen 14)", D("12.5"), D("8"), 14),
        ("ungraded", "Ungraded", D("13.5"), None, None),
    ]),
    ("coffee-robusta-green", "Coffee, robusta, green", "0901.11", "coffee", "KGM", [
        ("grade-1", "Grade 1 (screen 16)", D("12.5"), D("2"), 16),
        ("grade-2", "Grade 2 (screen 13)", D("13"), D("5"), 13),
        ("grade-3", "Grade 3", D("13"), D("8"), None),
    ]),
    ("coffee-arabica-cherry", "Coffee, arabica, cherry", "0901.11", "coffee", "KGM", [
        ("ripe", "Ripe red cherry", None, D("5"), None),
        ("mixed", "Mixed cherry", None, D("20"), None),
    ]),
    ("coffee-robusta-cherry", "Coffee, robusta, dried cherry (kiboko)", "0901.11", "coffee", "KGM", [
        ("faq", "FAQ kiboko", D("13"), D("10"), None),
        ("under-dried", "Under-dried kiboko", D("16"), None, None),
    ]),
    ("maize-white", "Maize, white", "1005.90", "", "KGM", [
        ("grade-1", "Grade 1", D("13"), D("5"), None),
        ("grade-2", "Grade 2", D("13.5"), D("10"), None),
        ("grade-3", "Grade 3", D("14"), D("15"), None),
    ]),
    ("rice-paddy", "Rice, paddy", "1006.10", "", "KGM", [
        ("grade-1", "Grade 1", D("14"), D("5"), None),
        ("grade-2", "Grade 2", D("14"), D("10"), None),
    ]),
    ("sorghum", "Sorghum", "1007.90", "", "KGM", [
        ("grade-1", "Grade 1", D("13.5"), D("5"), None),
        ("grade-2", "Grade 2", D("14"), D("10"), None),
    ]),
    ("beans-dry", "Beans, dry (Phaseolus)", "0713.33", "", "KGM", [
        ("grade-1", "Grade 1", D("14"), D("2"), None),
        ("grade-2", "Grade 2", D("15"), D("5"), None),
    ]),
    ("cashew-rcn", "Cashew nuts, in shell (RCN)", "0801.31", "", "KGM", [
        ("grade-1", "Grade 1", D("8"), D("10"), None),
        ("grade-2", "Grade 2", D("10"), D("18"), None),
    ]),
    ("sesame", "Sesame seed", "1207.40", "", "KGM", [
        ("grade-1", "Grade 1 (99 % purity)", D("6"), D("1"), None),
        ("grade-2", "Grade 2 (98 % purity)", D("8"), D("2"), None),
    ]),
    ("shea-kernels", "Shea kernels", "1207.99", "", "KGM", [
        ("grade-1", "Grade 1", D("7"), D("3"), None),
        ("grade-2", "Grade 2", D("8"), D("10"), None),
    ]),
    ("soya-beans", "Soya beans", "1201.90", "soya", "KGM", [
        ("grade-1", "Grade 1", D("13"), D("2"), None),
        ("grade-2", "Grade 2", D("14"), D("5"), None),
    ]),
    ("palm-kernels", "Palm kernels", "1207.10", "oil_palm", "KGM", [
        ("standard", "Standard", D("7"), D("5"), None),
    ]),
    ("rubber-cup-lump", "Natural rubber, cup lump", "4001.29", "rubber", "TNE", [
        ("standard", "Standard", None, None, None),
    ]),
]  # fmt: skip

# code, name, net mass g, net volume ml, unit count, tare g
PACKAGING = [
    ("jute-bag-62-5kg", "Jute bag, 62.5 kg", 62_500, None, None, 1_000),
    ("jute-bag-60kg", "Jute bag, 60 kg", 60_000, None, None, 900),
    ("pp-bag-100kg", "Woven PP bag, 100 kg", 100_000, None, None, 150),
    ("pp-bag-90kg", "Woven PP bag, 90 kg", 90_000, None, None, 140),
    ("pp-bag-50kg", "Woven PP bag, 50 kg", 50_000, None, None, 120),
    ("pp-bag-25kg", "Woven PP bag, 25 kg", 25_000, None, None, 100),
    ("seed-bag-10kg", "Seed bag, 10 kg", 10_000, None, None, 80),
    ("seed-pack-2kg", "Seed pack, 2 kg", 2_000, None, None, 20),
    ("bottle-1l", "Bottle, 1 l", None, 1_000, None, 0),
    ("jerrycan-5l", "Jerrycan, 5 l", None, 5_000, None, 0),
    ("jerrycan-20l", "Jerrycan, 20 l", None, 20_000, None, 0),
    ("piece", "Single piece", None, None, 1, 0),
    ("box-10", "Box of 10 pieces", None, None, 10, 0),
]


def load(apps, schema_editor):
    Commodity = apps.get_model("catalogue", "Commodity")
    Grade = apps.get_model("catalogue", "Grade")
    Packaging = apps.get_model("catalogue", "Packaging")
    for code, name, hs_code, eudr, unit, grades in COMMODITIES:
        commodity, _ = Commodity.objects.update_or_create(
            code=code, defaults={"name": name, "hs_code": hs_code, "eudr_commodity": eudr, "default_unit": unit}
        )
        for rank, (grade_code, grade_name, moisture, defects, screen) in enumerate(grades, start=1):
            Grade.objects.update_or_create(
                commodity=commodity,
                code=grade_code,
                defaults={
                    "name": grade_name,
                    "rank": rank,
                    "max_moisture_pct": moisture,
                    "max_defects_pct": defects,
                    "min_screen_size": screen,
                },
            )
    for code, name, mass, volume, count, tare in PACKAGING:
        Packaging.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "net_mass_grams": mass,
                "net_volume_ml": volume,
                "unit_count": count,
                "tare_grams": tare,
            },
        )


def unload(apps, schema_editor):
    """Remove what this migration added, where nothing refers to it yet."""
    Commodity = apps.get_model("catalogue", "Commodity")
    Grade = apps.get_model("catalogue", "Grade")
    Packaging = apps.get_model("catalogue", "Packaging")
    codes = [row[0] for row in COMMODITIES]
    Grade.objects.filter(commodity__code__in=codes).delete()
    Commodity.objects.filter(code__in=codes).delete()
    Packaging.objects.filter(code__in=[row[0] for row in PACKAGING]).delete()


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0002_integrity_triggers")]

    operations = [migrations.RunPython(load, unload)]
