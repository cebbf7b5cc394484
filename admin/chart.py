"""A 30-day chart as server-rendered SVG, readable without colour: each series has its own
dash pattern and marker shape, a legend in words, and every point a tooltip with its value."""

from __future__ import annotations

from html import escape
from typing import Any

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 720, 300, 48, 40, 16
STYLES = {
    "checkins": ("none", "circle"),
    "oks": ("8 4", "square"),
    "resends": ("2 4", "triangle"),
    "alerts": ("12 4 2 4", "diamond"),
}


def _marker(shape: str, x: float, y: float) -> str:
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5"/>'
    if shape == "square":
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7"/>'
    shapes: dict[str, list[tuple[float, float]]] = {
        "triangle": [(0, -4.5), (4.5, 3.5), (-4.5, 3.5)],
        "diamond": [(0, -5), (5, 0), (0, 5), (-5, 0)],
    }
    corners = shapes[shape]
    path = " L".join(f"{x + dx:.1f} {y + dy:.1f}" for dx, dy in corners)
    return f'<path d="M{path} Z"/>'


def daily_chart(days: list[dict[str, Any]], labels: dict[str, str], title: str) -> str:
    top = max([1] + [day[s] for day in days for s in STYLES])
    plot_w, plot_h = WIDTH - PAD_LEFT - 16, HEIGHT - PAD_BOTTOM - PAD_TOP
    step = plot_w / max(len(days) - 1, 1)

    def point(index: int, value: int) -> tuple[float, float]:
        return PAD_LEFT + index * step, PAD_TOP + plot_h * (1 - value / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT + 30}" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{PAD_LEFT}" y1="{PAD_TOP + plot_h}" x2="{WIDTH - 16}" y2="{PAD_TOP + plot_h}" '
        'stroke="#555"/>',
        f'<text x="{PAD_LEFT - 6}" y="{PAD_TOP + 4}" text-anchor="end" '
        f'font-size="12">{top}</text>',
        f'<text x="{PAD_LEFT - 6}" y="{PAD_TOP + plot_h}" text-anchor="end" '
        'font-size="12">0</text>',
    ]
    for index, day in enumerate(days):
        last = len(days) - 1
        if (index % 7 == 0 and index < last - 3) or index == last:
            x, _ = point(index, 0)
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - PAD_BOTTOM + 18}" text-anchor="middle" '
                f'font-size="12">{escape(day["date"][5:])}</text>'
            )
    for series, (dash, shape) in STYLES.items():
        coords = [point(i, day[series]) for i, day in enumerate(days)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(
            f'<g class="series {series}" stroke="#222" fill="#222">'
            f'<polyline points="{path}" fill="none" stroke-width="2" stroke-dasharray="{dash}"/>'
        )
        for (x, y), day in zip(coords, days, strict=True):
            parts.append(
                f"<g>{_marker(shape, x, y)}<title>{escape(day['date'])} "
                f"{escape(labels[series])}: {day[series]}</title></g>"
            )
        parts.append("</g>")
    for index, (series, (dash, shape)) in enumerate(STYLES.items()):
        x, y = PAD_LEFT + index * 165, HEIGHT + 14
        parts.append(
            f'<g stroke="#222" fill="#222"><line x1="{x}" y1="{y}" x2="{x + 30}" y2="{y}" '
            f'stroke-width="2" stroke-dasharray="{dash}"/>{_marker(shape, x + 15, y)}</g>'
            f'<text x="{x + 38}" y="{y + 4}" font-size="13">{escape(labels[series])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
