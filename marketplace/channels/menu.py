"""The registry of what a farmer can ask for, by USSD and by SMS keyword.

Each entry has a menu label, optional SMS keywords (every language; matched upper case without accents), whether it
needs the member's PIN, and the functions that answer it. The built-in entries live in `entries.py`. A new
capability (requesting inputs in an open ordering window, voting) is one more module in this package that builds a
`MenuEntry` calling the owning app's selectors and services, and calls `register()`; apps below `channels` cannot
import it (layers), so their entries live here and call down.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from marketplace.organisations.models import MemberFarmer

USSD_MAX = 182


@dataclass(frozen=True)
class Caller:
    """The member farmer on the phone, identified by number (and by choice when the number is shared)."""

    farmer: MemberFarmer
    language: str
    phone: str


@dataclass(frozen=True)
class Screen:
    text: str
    end: bool = True

    def render(self) -> str:
        text = self.text.strip()
        body = f"{'END' if self.end else 'CON'} {text}"
        if len(body) > USSD_MAX:
            body = body[: USSD_MAX - 1].rstrip() + "…"
        return body


@dataclass(frozen=True)
class MenuEntry:
    key: str
    order: int
    label: Callable[[], str]  # called with the caller's language active
    ussd: Callable[[Caller, list[str]], Screen]  # the inputs after the entry (and after the PIN)
    needs_pin: bool = False
    keywords: frozenset[str] = field(default_factory=frozenset)
    sms: Callable[[Caller, list[str]], str] | None = None  # the words after the keyword (PIN removed)
    word: Callable[[], str] | None = None  # the keyword HELP shows, in the caller's language
    available: Callable[[Caller], bool] = lambda caller: True
    in_ussd_menu: bool = True  # False: an SMS keyword only (the USSD menu keeps its numbers and its length)


_REGISTRY: dict[str, MenuEntry] = {}


def register(entry: MenuEntry) -> MenuEntry:
    if entry.key in _REGISTRY and _REGISTRY[entry.key] is not entry:
        raise ValueError(f"A menu entry {entry.key!r} is already registered.")
    clashes = {word for other in _REGISTRY.values() if other.key != entry.key for word in other.keywords} & set(
        entry.keywords
    )
    if clashes:
        raise ValueError(f"Keywords already taken: {', '.join(sorted(clashes))}.")
    _REGISTRY[entry.key] = entry
    return entry


def entries_for(caller: Caller, *, ussd: bool = False) -> list[MenuEntry]:
    return sorted(
        (e for e in _REGISTRY.values() if e.available(caller) and (e.in_ussd_menu or not ussd)),
        key=lambda e: (e.order, e.key),
    )


def entry_for_keyword(word: str) -> MenuEntry | None:
    for entry in _REGISTRY.values():
        if word in entry.keywords:
            return entry
    return None


def fold(text: str) -> str:
    """Upper case without accents: "Crédit" -> "CREDIT"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).upper()


def words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s,;.:*#]+", fold(text)) if w]


def pick(inputs: list[str], count: int) -> tuple[int | None, bool, list[str]]:
    """The first valid choice 1..count among the inputs; invalid ones (letters, unknown numbers, empty) are
    skipped and reported. Returns (choice or None, whether an invalid input was seen, the inputs left)."""
    invalid = False
    for position, value in enumerate(inputs):
        value = value.strip()
        if value.isdigit() and 1 <= int(value) <= count:
            return int(value), invalid, inputs[position + 1 :]
        invalid = True
    return None, invalid, []


def lines_within(head: str, lines: list[str], *, limit: int = USSD_MAX - 4) -> str:
    """The head and as many lines as fit in one USSD screen."""
    text = head
    for line in lines:
        candidate = f"{text}\n{line}" if text else line
        if len(candidate) > limit:
            break
        text = candidate
    return text
