"""Server-rendered SVG charts: no script, a viewBox that scales to a phone, a title and description for screen
readers (the figures are also in a table next to every chart)."""

from dataclasses import dataclass
from datetime import date

from django.utils.html import escape

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 40
SVG_ATTRIBUTES = (
    'class="chart" width="100%" style="max-width:40rem;height:auto" role="img" preserveAspectRatio="xMidYMid meet" '
    'xmlns="http://www.w3.org/2000/svg"'
)
COLOURS = ["#1b6b3a", "#b5651d", "#1f4e8c", "#8c1f5a", "#5a5a5a"]


@dataclass
class Line:
    label: str
    points: list[tuple[date, float]]


def _ticks(low: float, high: float, count: int = 4) -> list[float]:
    if high <= low:
        return [low]
    step = (high - low) / count
    return [low + step * i for i in range(count + 1)]


def _short(value: float) -> str:
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if abs(value) >= 10_000:
        return f"{value / 1_000:.0f}k"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def line_chart(*, title: str, lines: list[Line], y_label: str = "") -> str:
    """A line chart of one or more series over time; returns the SVG markup (safe: every text is escaped)."""
    points = [p for line in lines for p in line.points]
    if not points:
        return ""
    days = [p[0].toordinal() for p in points]
    values = [p[1] for p in points]
    x0, x1 = min(days), max(days)
    y0, y1 = min(0.0, min(values)), max(values) * 1.1 or 1.0
    span_x = (x1 - x0) or 1

    def x(day: date) -> float:
        return LEFT + (day.toordinal() - x0) / span_x * (WIDTH - LEFT - RIGHT)

    def y(value: float) -> float:
        return TOP + (1 - (value - y0) / (y1 - y0)) * (HEIGHT - TOP - BOTTOM)

    parts = [
        f'<svg {SVG_ATTRIBUTES} viewBox="0 0 {WIDTH} {HEIGHT}" aria-labelledby="chart-title chart-desc">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(y_label)}</desc>',
    ]
    for tick in _ticks(y0, y1):
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#ddd"/>'
            f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="12">{_short(tick)}</text>'
        )
    first, last = date.fromordinal(x0), date.fromordinal(x1)
    parts.append(f'<text x="{LEFT}" y="{HEIGHT - 12}" font-size="12">{first.isoformat()}</text>')
    if last != first:
        parts.append(
            f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 12}" text-anchor="end" font-size="12">{last.isoformat()}</text>'
        )
    for index, line in enumerate(lines):
        colour = COLOURS[index % len(COLOURS)]
        coords = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in line.points)
        if len(line.points) > 1:
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2.5" points="{coords}"/>')
        for d, v in line.points:
            parts.append(f'<circle cx="{x(d):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>')
        parts.append(
            f'<text x="{LEFT + 8 + 150 * index}" y="{TOP + 12}" font-size="12" fill="{colour}">'
            f"{escape(line.label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(*, title: str, bars: list[tuple[str, float]], y_label: str = "") -> str:
    """Bars with a label under each (deliveries per week on the dashboard)."""
    if not bars:
        return ""
    top = max(v for _, v in bars) * 1.1 or 1.0
    slot = (WIDTH - LEFT - RIGHT) / len(bars)
    parts = [
        f'<svg {SVG_ATTRIBUTES} viewBox="0 0 {WIDTH} {HEIGHT}" aria-labelledby="bars-title bars-desc">',
        f'<title id="bars-title">{escape(title)}</title><desc id="bars-desc">{escape(y_label)}</desc>',
    ]
    for tick in _ticks(0, top):
        ty = TOP + (1 - tick / top) * (HEIGHT - TOP - BOTTOM)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#ddd"/>'
            f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" font-size="12">{_short(tick)}</text>'
        )
    for index, (label, value) in enumerate(bars):
        height = value / top * (HEIGHT - TOP - BOTTOM)
        bx = LEFT + index * slot + slot * 0.15
        parts.append(
            f'<rect x="{bx:.1f}" y="{HEIGHT - BOTTOM - height:.1f}" width="{slot * 0.7:.1f}" height="{height:.1f}" '
            f'fill="{COLOURS[0]}"/>'
        )
        if len(bars) <= 12 or index % 2 == 0:
            parts.append(
                f'<text x="{bx + slot * 0.35:.1f}" y="{HEIGHT - 22}" text-anchor="middle" font-size="11">'
                f"{escape(label)}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)
