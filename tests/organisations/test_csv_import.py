import datetime
import io
import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from marketplace.core.models import AuditEvent
from marketplace.organisations.csv_import import (
    MemberRegisterFileError,
    read_member_register,
)
from marketplace.organisations.models import MemberFarmer, Organisation
from marketplace.organisations.roles import Role
from tests.factories import MemberFarmerFactory, MembershipFactory, OrganisationFactory

IMPORT = "/api/v1/farmers/import/"


def read(text: str | bytes, *, region: str = "CI", max_rows: int = 100):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return read_member_register(io.BytesIO(data), region=region, max_rows=max_rows)


def file_error(text: str | bytes, **kwargs) -> str:
    with pytest.raises(MemberRegisterFileError) as caught:
        read(text, **kwargs)
    assert caught.value.fields["file"] == [caught.value.message]
    return caught.value.message


# --- reading the file -------------------------------------------------------------------


def test_reads_a_semicolon_file_with_bom_and_headers_in_any_case():
    register = read(
        "\ufeffMember Number;NAME;Phone;Gender;Birth_Year;village;JOINED-ON\r\n"
        "M-001;Koné, Awa;07 12 34 56 78;F;1985;Soubré;2021-03-15\r\n"
        "M-002;Yao Kouassi;+225 05 44 33 22 11;homme;1978.0;Méagui;\r\n"
    )
    assert register.columns == ["member_number", "name", "phone", "gender", "birth_year", "village", "joined_on"]
    first, second = register.rows
    assert first.number == 2
    assert first.errors == {}
    assert first.values == {
        "member_number": "M-001",
        "name": "Koné, Awa",
        "phone": "+2250712345678",
        "gender": "female",
        "birth_year": 1985,
        "village": "Soubré",
        "joined_on": datetime.date(2021, 3, 15),
    }
    assert second.values["phone"] == "+2250544332211"
    assert second.values["gender"] == "male"
    assert second.values["birth_year"] == 1978
    assert "joined_on" not in second.values  # empty cells are left out


def test_reads_a_comma_file_with_quotes_and_reports_unknown_columns():
    register = read('member_number,name,notes,status\nM-1,"Bamba, Fatou",pays late,left\n')
    assert register.rows[0].values == {"member_number": "M-1", "name": "Bamba, Fatou"}
    assert register.ignored_columns == ["notes", "status"]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_any_line_ending_and_delimiter_and_apostrophes_in_names(newline, delimiter):
    rows = [
        ["member_number", "name", "village"],
        ["M-1", "Kouadio N'Guessan", "N'Douci"],
        ["M-2", "Aya N'Dri", "Yamoussoukro"],
        ["M-3", '"Koffi, dit ""Le Grand"""', "Bouaflé"],
    ]
    text = newline.join(delimiter.join(cells) for cells in rows) + newline
    register = read(text)
    assert [row.errors for row in register.rows] == [{}, {}, {}]
    assert [row.values["name"] for row in register.rows] == [
        "Kouadio N'Guessan",
        "Aya N'Dri",
        'Koffi, dit "Le Grand"',
    ]
    assert register.rows[0].values["village"] == "N'Douci"


def test_local_phones_use_the_cooperatives_country():
    assert (
        read("member_number,name,phone\nM-1,A,0788 123 456\n", region="RW").rows[0].values["phone"] == "+250788123456"
    )
    assert read("member_number,name,phone\nM-1,A,0712 345678\n", region="KE").rows[0].values["phone"] == "+254712345678"


def test_row_numbers_match_the_spreadsheet_and_blank_lines_are_skipped():
    register = read("member_number,name,phone\n\nM-1,A,\n,,\nM-2,B,12\n")
    assert [row.number for row in register.rows] == [3, 5]
    assert "phone" in register.rows[1].errors


@pytest.mark.parametrize(
    ("line", "column", "fragment"),
    [
        ("M-1,A,not a phone,,,,", "phone", "international format"),
        ("M-1,A,712345678,,,,", "phone", "leading 0"),
        ("M-1,A,,X,,,", "gender", "female, male or other"),
        ("M-1,A,,,85,,", "birth_year", "four digits"),
        ("M-1,A,,,2999,,", "birth_year", "between 1900"),
        ("M-1,A,,,,,15/03/2021", "joined_on", "YYYY-MM-DD"),
        ("M-1,A,,,,,2021-02-30", "joined_on", "not a date"),
        (",A,,,,,", "member_number", "Required"),
        ("M-1,,,,,,", "name", "Required"),
        (f"{'M' * 33},A,,,,,", "member_number", "At most 32"),
        (f"M-1,A,,,,{'v' * 101},", "village", "At most 100"),
        ("M-1,A,,,,,,extra", "cells", "header names 7 columns"),
    ],
)
def test_each_bad_cell_is_reported_on_its_row(line, column, fragment):
    register = read(f"member_number,name,phone,gender,birth_year,village,joined_on\n{line}\n")
    errors = register.rows[0].errors
    assert column in errors, errors
    assert fragment in errors[column][0]


def test_duplicate_member_numbers_in_the_file_are_errors_on_the_later_rows():
    register = read("member_number,name\nM-1,A\nM-2,B\nM-1,C\n M-1 ,D\n")
    assert [row.errors for row in register.rows[:2]] == [{}, {}]
    for row in register.rows[2:]:
        assert row.errors["member_number"] == ["Member number M-1 is also in row 2; each member must appear once."]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "The file is empty"),
        (b"\xef\xbb\xbf  \r\n\r\n", "The file is empty"),
        (b"member_number,name\n", "no members"),
        (b"member_number,name\n,\n , \n", "no members"),
        ("member_number,name\nM-1,Koné\n".encode("cp1252"), "not UTF-8"),
        ("member_number,name\nM-1,Koné\n".encode("utf-16"), "UTF-16"),
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40, "spreadsheet workbook"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
        (b"id,full name,telephone\n1,A,+225\n", "must name the columns"),
        (b"member_number,name,Name\nM-1,A,B\n", "more than once: name"),
    ],
)
def test_files_that_cannot_be_read_say_what_to_fix(content, fragment):
    assert fragment in file_error(content)


def test_the_wrong_encoding_message_explains_how_to_save_as_utf8():
    message = file_error("member_number,name\nM-1,A\nM-2,Koné\n".encode("cp1252"))
    assert "line 3" in message
    assert "CSV UTF-8" in message


def test_too_many_rows_are_refused():
    text = "member_number,name\n" + "".join(f"M-{n},Name {n}\n" for n in range(11))
    assert "more than 10 member rows" in file_error(text, max_rows=10)
    assert len(read(text, max_rows=11).rows) == 11


def test_too_large_a_file_is_refused_before_reading_it_all():
    text = "member_number,name\n" + "M-1," + "x" * 5000 + "\n"
    assert "too large" in file_error(text, max_rows=2)


# --- the import endpoint ----------------------------------------------------------------


def upload(text: str | bytes, name: str = "register.csv") -> io.BytesIO:
    data = io.BytesIO(text.encode("utf-8") if isinstance(text, str) else text)
    data.name = name
    return data


@pytest.fixture
def coop(db):
    return OrganisationFactory(kind=Organisation.Kind.COOPERATIVE, country="CI")


@pytest.fixture
def manager(make_member, coop):
    return make_member(Role.MANAGER, organisation=coop)


@pytest.fixture
def post_file(as_user, manager, coop):
    def post(text, *, organisation=None, name="register.csv"):
        body = {"file": upload(text, name)}
        body["organisation"] = organisation or coop.pk
        return as_user(manager).post(IMPORT, body, format="multipart")

    return post


def assert_nothing_written(coop, existing: list[MemberFarmer]):
    assert MemberFarmer.objects.filter(organisation=coop).count() == len(existing)
    for farmer in existing:
        stored = MemberFarmer.objects.get(pk=farmer.pk)
        assert (stored.name, stored.phone, stored.village) == (farmer.name, farmer.phone, farmer.village)
    assert not AuditEvent.objects.filter(action="member_farmer.imported").exists()


def test_import_creates_and_updates_and_writes_one_audit_event(post_file, coop, manager):
    existing = MemberFarmerFactory(organisation=coop, member_number="M-001", name="Awa K.", village="Soubré")
    stamp = existing.updated_at
    same = MemberFarmerFactory(organisation=coop, member_number="M-003", name="Same", village="")
    response = post_file(
        "\ufeffmember_number;name;phone;gender;birth_year;village;joined_on;notes\n"
        "M-001;Awa Koné;07 12 34 56 78;F;1985;;2019-01-10;\n"
        "M-002;Yao Kouassi;+225 05 44 33 22 11;M;1978;Méagui;;new\n"
        "M-003;Same;;;;;;\n"
        "M-004;Aya Bamba;;;;;2015-06-01;\n"
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"created": 2, "updated": 1, "unchanged": 1, "ignored_columns": ["notes"]}
    existing.refresh_from_db()
    assert existing.name == "Awa Koné"
    assert str(existing.phone) == "+2250712345678"
    assert existing.village == "Soubré"  # an empty cell leaves the value alone
    assert existing.updated_at > stamp
    assert existing.joined_on == datetime.date(2019, 1, 10)
    created = MemberFarmer.objects.get(organisation=coop, member_number="M-002")
    assert (created.gender, created.birth_year, created.village) == ("male", 1978, "Méagui")
    assert created.joined_on == datetime.date.today()
    assert created.status == "active"
    assert MemberFarmer.objects.get(member_number="M-004").joined_on == datetime.date(2015, 6, 1)
    same.refresh_from_db()
    assert same.name == "Same"
    event = AuditEvent.objects.get(action="member_farmer.imported")
    assert event.actor == manager
    assert event.organisation_id == coop.pk
    assert event.data["created"] == 2
    assert event.data["updated"] == 1
    assert event.data["file_name"] == "register.csv"
    assert AuditEvent.objects.count() == 1


def test_import_without_organisation_uses_the_only_cooperative(as_user, manager, coop):
    response = as_user(manager).post(IMPORT, {"file": upload("member_number,name\nM-1,A\n")}, format="multipart")
    assert response.status_code == 200, response.content
    assert MemberFarmer.objects.get().organisation == coop


def test_one_bad_row_imports_nothing_and_every_bad_row_is_reported(post_file, coop):
    existing = MemberFarmerFactory(organisation=coop, member_number="M-001", name="Awa K.")
    response = post_file(
        "member_number,name,phone,gender\n"
        "M-001,Awa Koné,,\n"  # fine: would update
        "M-002,Yao,0712,\n"  # row 3: bad phone
        "M-003,Fatou,,X\n"  # row 4: bad gender
        "M-004,Aya,,\n"  # fine: would create
        ",Nobody,+225 0544332211,male\n"  # row 6: no member number
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_rows"
    assert error["message"].startswith("3 rows of the file have errors, so nothing was imported.")
    assert "row 3, phone" in error["message"]
    assert [row["row"] for row in error["rows"]] == [3, 4, 6]
    assert error["rows"][0]["fields"]["phone"][0].startswith("'0712' is not a valid phone number")
    assert set(error["fields"]) == {"rows.3.phone", "rows.4.gender", "rows.6.member_number"}
    assert_nothing_written(coop, [existing])


def test_duplicate_member_numbers_in_the_file_import_nothing(post_file, coop):
    response = post_file("member_number,name\nM-1,A\nM-2,B\nM-1,C\n")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["rows"] == [
        {"row": 4, "fields": {"member_number": ["Member number M-1 is also in row 2; each member must appear once."]}}
    ]
    assert_nothing_written(coop, [])


@pytest.mark.parametrize(
    ("content", "name", "fragment"),
    [
        (b"", "register.csv", "The file is empty"),
        ("member_number,name\nM-1,Koné\n".encode("cp1252"), "register.csv", "not UTF-8"),
        (b"PK\x03\x04" + b"\x00" * 100, "register.xlsx", "spreadsheet workbook"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "photo.png", "not a text file"),
        (b"member_number,name\n", "register.csv", "no members"),
        (b"nom,telephone\nA,1\n", "register.csv", "must name the columns"),
    ],
)
def test_unreadable_files_get_a_400_that_says_what_to_fix(post_file, coop, content, name, fragment):
    response = post_file(content, name=name)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert fragment in error["message"]
    assert fragment in error["fields"]["file"][0]
    assert_nothing_written(coop, [])


def test_a_request_without_a_file_is_a_400(as_user, manager, coop):
    response = as_user(manager).post(IMPORT, {"organisation": coop.pk}, format="multipart")
    assert response.status_code == 400
    assert "multipart/form-data" in response.json()["error"]["fields"]["file"][0]


def test_a_json_body_is_refused_with_415(as_user, manager, coop):
    response = as_user(manager).post(IMPORT, {"organisation": coop.pk, "file": "member_number,name"}, format="json")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_the_row_cap_comes_from_settings(post_file, coop, settings):
    settings.MEMBER_IMPORT_MAX_ROWS = 3
    response = post_file("member_number,name\n" + "".join(f"M-{n},N\n" for n in range(4)))
    assert response.status_code == 400
    assert "more than 3 member rows" in response.json()["error"]["message"]
    assert_nothing_written(coop, [])


def test_the_status_column_is_ignored(post_file, coop):
    farmer = MemberFarmerFactory(organisation=coop, member_number="M-1")
    response = post_file("member_number,name,status\nM-1,Renamed,left\n")
    assert response.json()["ignored_columns"] == ["status"]
    farmer.refresh_from_db()
    assert (farmer.name, farmer.status) == ("Renamed", "active")


def test_the_import_only_touches_the_named_cooperative(post_file, coop):
    elsewhere = MemberFarmerFactory(member_number="M-1", name="Elsewhere")
    assert post_file("member_number,name\nM-1,Mine\n").json()["created"] == 1
    elsewhere.refresh_from_db()
    assert elsewhere.name == "Elsewhere"


def test_a_buyer_organisation_cannot_import(db, as_user, make_member):
    buyer = OrganisationFactory(kind=Organisation.Kind.BUYER)
    admin = make_member(Role.ADMIN, organisation=buyer)
    response = as_user(admin).post(
        IMPORT, {"organisation": buyer.pk, "file": upload("member_number,name\nM-1,A\n")}, format="multipart"
    )
    assert response.status_code == 400
    assert "organisation" in response.json()["error"]["fields"]


def test_a_large_register_imports_with_few_queries(post_file, coop, django_assert_max_num_queries):
    for n in range(5):
        MemberFarmerFactory(organisation=coop, member_number=f"M-{n:05d}")
    text = "member_number,name,phone\n" + "".join(f"M-{n:05d},Member {n},+22507{n:08d}\n" for n in range(1200))
    with django_assert_max_num_queries(16):
        response = post_file(text)
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 1195
    assert response.json()["updated"] == 5
    assert MemberFarmer.objects.filter(organisation=coop).count() == 1200


@pytest.mark.django_db(transaction=True)
def test_two_imports_of_the_same_register_at_once_both_succeed_without_duplicates():
    coop = OrganisationFactory()
    users = [MembershipFactory(organisation=coop, role=Role.MANAGER).user for _ in range(2)]
    text = "member_number,name\n" + "".join(f"M-{n},Member {n}\n" for n in range(50))
    barrier = threading.Barrier(2)
    results = []

    def run(user):
        client = APIClient()
        client.force_authenticate(user=user)
        try:
            barrier.wait(timeout=10)
            response = client.post(IMPORT, {"organisation": coop.pk, "file": upload(text)}, format="multipart")
            results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results, key=lambda r: r[1]["created"]) == [
        (200, {"created": 0, "updated": 0, "unchanged": 50, "ignored_columns": []}),
        (200, {"created": 50, "updated": 0, "unchanged": 0, "ignored_columns": []}),
    ]
    assert MemberFarmer.objects.filter(organisation=coop).count() == 50
