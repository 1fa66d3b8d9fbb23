"""Read a cooperative's member register from a CSV file saved from a spreadsheet.

The file is UTF-8 (with or without the byte-order mark Excel writes), separated by commas or
semicolons (the sniffer decides; the header row settles any doubt). The first row names the columns,
in any order and any case; spaces and hyphens count as underscores ("Member Number" is
``member_number``):

- ``member_number`` (required): the cooperative's number for the member; one row per member.
- ``name`` (required).
- ``phone``: international (+225 07 12 34 56 78) or local to the cooperative's country; stored in E.164.
- ``gender``: female, male or other (also F/M, and femme/homme).
- ``birth_year``: four digits.
- ``village``.
- ``joined_on``: an ISO date, YYYY-MM-DD.

Other columns are ignored and reported. Blank lines are skipped. Rows are numbered as a spreadsheet
shows them: the header is row 1, the first member row 2. This module only reads and checks the file;
``services.member_farmer_import`` writes it.
"""

import contextlib
import csv
import datetime
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO

import phonenumbers
from django.utils import timezone

from marketplace.core.errors import ValidationFailed

COLUMNS = ("member_number", "name", "phone", "gender", "birth_year", "village", "joined_on")
REQUIRED_COLUMNS = ("member_number", "name")
MAX_LENGTHS = {"member_number": 32, "name": 200, "village": 100}
BYTES_PER_ROW = 1024  # generous: a member's row is rarely more than 150 bytes
DELIMITERS = (",", ";", "\t")
GENDERS = {
    "f": "female",
    "female": "female",
    "woman": "female",
    "femme": "female",
    "m": "male",
    "male": "male",
    "man": "male",
    "h": "male",
    "homme": "male",
    "other": "other",
    "o": "other",
    "autre": "other",
}
SAVE_AS_CSV = (
    'Save it as CSV: in Excel "CSV UTF-8 (Comma delimited)"; in LibreOffice "Text CSV" with the '
    'character set "Unicode (UTF-8)".'
)


class MemberRegisterFileError(ValidationFailed):
    """The file as a whole cannot be read; nothing in it was looked at row by row."""

    default_code = "invalid_file"

    def __init__(self, message: str) -> None:
        super().__init__(message, fields={"file": message})


class MemberRegisterRejected(ValidationFailed):
    """Some rows are wrong, so nothing was imported.

    ``fields`` names each problem as ``rows.<row>.<column>`` (the API's dotted path for nested
    fields); ``rows`` holds the same as ``[{"row": 3, "fields": {"phone": ["..."]}}]``.
    """

    default_code = "invalid_rows"

    def __init__(self, row_errors: dict[int, dict[str, list[str]]]) -> None:
        self.rows = [{"row": number, "fields": row_errors[number]} for number in sorted(row_errors)]
        first = self.rows[0]
        column, messages = next(iter(first["fields"].items()))
        count = len(self.rows)
        message = (
            f"{count} row{'s' if count != 1 else ''} of the file {'have' if count != 1 else 'has'} errors, "
            f"so nothing was imported. Correct them and upload the file again. "
            f"First: row {first['row']}, {column}: {messages[0]}"
        )
        super().__init__(
            message,
            fields={
                f"rows.{row['row']}.{column}": messages
                for row in self.rows
                for column, messages in row["fields"].items()
            },
        )


@dataclass
class RegisterRow:
    number: int
    values: dict[str, object]
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add_error(self, column: str, message: str) -> None:
        self.errors.setdefault(column, []).append(message)


@dataclass
class MemberRegister:
    columns: list[str]
    ignored_columns: list[str]
    rows: list[RegisterRow]


def read_member_register(file: IO[bytes] | bytes, *, region: str, max_rows: int) -> MemberRegister:
    """Decode, split and check every row; row errors are collected on the rows, file errors raised."""
    raw = file if isinstance(file, bytes) else file.read(max_rows * BYTES_PER_ROW + 1)
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if len(raw) > max_rows * BYTES_PER_ROW:
        raise MemberRegisterFileError(
            f"The file is too large: a register of at most {max_rows} members fits in "
            f"{max_rows * BYTES_PER_ROW // 1024} KB. Split it into smaller files."
        )
    text = _decode(raw)
    if not text.strip():
        raise MemberRegisterFileError(
            "The file is empty. Upload a CSV file whose first row names the columns "
            f"({', '.join(COLUMNS)}) followed by one row per member."
        )
    records = _records(text)
    header = _header(records[0])
    columns = {name: index for index, name in enumerate(header) if name in COLUMNS}
    ignored = [name for name in header if name and name not in COLUMNS]
    rows: list[RegisterRow] = []
    first_row_of: dict[str, int] = {}
    for number, cells in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) == max_rows:
            raise MemberRegisterFileError(
                f"The file has more than {max_rows} member rows, the most one import takes. "
                f"Split it into files of at most {max_rows} rows."
            )
        row = _row(number, cells, columns, len(header), region)
        number_value = row.values.get("member_number")
        if isinstance(number_value, str) and number_value:
            if number_value in first_row_of:
                row.add_error(
                    "member_number",
                    f"Member number {number_value} is also in row {first_row_of[number_value]}; "
                    "each member must appear once.",
                )
            else:
                first_row_of[number_value] = number
        rows.append(row)
    if not rows:
        raise MemberRegisterFileError("The file has a header row but no members. Add one row per member.")
    return MemberRegister(columns=list(columns), ignored_columns=ignored, rows=rows)


def _decode(raw: bytes) -> str:
    if raw.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise MemberRegisterFileError(f"This is a spreadsheet workbook (Excel or LibreOffice), not CSV. {SAVE_AS_CSV}")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise MemberRegisterFileError(f"The file is UTF-16 text; it must be UTF-8. {SAVE_AS_CSV}")
    if b"\x00" in raw:
        raise MemberRegisterFileError(f"This is not a text file. {SAVE_AS_CSV}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise MemberRegisterFileError(
            f"The file is not UTF-8 text (line {line} has a character in another encoding, "
            f"such as Windows-1252). {SAVE_AS_CSV}"
        ) from None


def _records(text: str) -> list[list[str]]:
    """Split into records with the sniffed dialect, or the delimiter that makes sense of the header."""
    delimiters: list[str] = []
    sample = text[:16384]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    with contextlib.suppress(csv.Error):  # too little text to tell: the header decides below
        delimiters.append(csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter)
    # Only the delimiter is taken from the sniffer: spreadsheets quote with ", and names such as
    # N'Guessan can make it guess ' as the quote character.
    for delimiter in [*delimiters, *DELIMITERS]:
        records = _split(text, type("Register", (csv.excel,), {"delimiter": delimiter}))
        if records and all(column in _header(records[0], strict=False) for column in REQUIRED_COLUMNS):
            return records
    first_line = text.splitlines()[0].strip()
    raise MemberRegisterFileError(
        f"The first row must name the columns, separated by commas or semicolons, including "
        f"{' and '.join(REQUIRED_COLUMNS)}. It reads: {first_line[:200]!r}. "
        f"The columns the import knows: {', '.join(COLUMNS)}."
    )


def _split(text: str, dialect) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error:
        return []


def _normalise(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _header(cells: Sequence[str], *, strict: bool = True) -> list[str]:
    header = [_normalise(cell) for cell in cells]
    if strict:
        repeated = sorted({name for name in header if name in COLUMNS and header.count(name) > 1})
        if repeated:
            raise MemberRegisterFileError(
                f"The header names these columns more than once: {', '.join(repeated)}. Keep one of each."
            )
    return header


def _row(number: int, cells: list[str], columns: dict[str, int], width: int, region: str) -> RegisterRow:
    row = RegisterRow(number=number, values={})
    if any(cell.strip() for cell in cells[width:]):
        row.add_error("cells", f"The row has {len(cells)} cells but the header names {width} columns.")
    for name, index in columns.items():
        value = cells[index].strip() if index < len(cells) else ""
        try:
            parsed = PARSERS[name](value, region)
        except ValueError as error:
            row.add_error(name, str(error))
            continue
        if parsed not in ("", None) or name in REQUIRED_COLUMNS:
            row.values[name] = parsed
    return row


def _text(column: str, *, required: bool = False):
    def parse(value: str, region: str) -> str:
        if required and not value:
            raise ValueError(f"Required: every member needs a {column.replace('_', ' ')}.")
        limit = MAX_LENGTHS[column]
        if len(value) > limit:
            raise ValueError(f"At most {limit} characters (this has {len(value)}).")
        return value

    return parse


def _phone(value: str, region: str) -> str:
    if not value:
        return ""
    hint = (
        f"Enter a valid phone number in international format, e.g. +225 07 12 34 56 78, "
        f"or a local number of the cooperative's country ({region}). "
        "If the spreadsheet dropped a leading 0, format the column as text."
    )
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise ValueError(f"{value!r} is not a phone number. {hint}") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{value!r} is not a valid phone number. {hint}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _gender(value: str, region: str) -> str:
    if not value:
        return ""
    try:
        return GENDERS[value.strip().lower()]
    except KeyError:
        raise ValueError(f"{value!r} is not a gender this register knows: use female, male or other (F/M).") from None


def _birth_year(value: str, region: str) -> int | None:
    if not value:
        return None
    match = re.fullmatch(r"(\d{4})(?:\.0+)?", value)  # spreadsheets sometimes write 1985.0
    this_year = timezone.now().year
    if not match or not 1900 <= int(match.group(1)) <= this_year:
        raise ValueError(f"{value!r} is not a birth year: write four digits between 1900 and {this_year}.")
    return int(match.group(1))


def _joined_on(value: str, region: str) -> datetime.date | None:
    if not value:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(f"{value!r} is not an ISO date: write YYYY-MM-DD, e.g. 2021-03-15.")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date of the calendar.") from None


PARSERS = {
    "member_number": _text("member_number", required=True),
    "name": _text("name", required=True),
    "phone": _phone,
    "gender": _gender,
    "birth_year": _birth_year,
    "village": _text("village"),
    "joined_on": _joined_on,
}
