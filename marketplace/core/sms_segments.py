"""How many SMS a text costs: GSM 03.38 (7-bit) when every character is in the GSM alphabet, else UCS-2.

GSM-7: 160 characters in one message, 153 per part when split (the user data header takes 7);
the extension characters (^ { } \\ [ ~ ] | €) take two. UCS-2: 70 in one, 67 per part, counted in
UTF-16 code units (an emoji takes two). One character outside GSM-7 (French ç ê â ô, curly quotes)
turns the whole message into UCS-2.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7 = "GSM-7"
UCS2 = "UCS-2"


@dataclass(frozen=True)
class Segments:
    encoding: str
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    count: int


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def sms_segments(text: str) -> Segments:
    if is_gsm7(text):
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        single, part = 160, 153
        encoding = GSM7
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part = 70, 67
        encoding = UCS2
    if units <= single:
        return Segments(encoding, units, 1)
    return Segments(encoding, units, -(-units // part))


def segment_count(text: str) -> int:
    return sms_segments(text).count
