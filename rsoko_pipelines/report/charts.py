"""Charts of the reports: matplotlib drawn to static SVG, inlined in the pages (no script,
no web font, no network: the pages open from a file share). Text stays text in the SVG
(`svg.fonttype: none`), so the browser renders the Cyrillic labels with a system font.

Missing values (a suppressed small cell, a year without data) are gaps, never zeros."""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")  # no display, no GUI toolkit

import matplotlib.pyplot as plt  # noqa: E402

STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "rsoko",           # stable element ids: the same data, the same file
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}
TERRITORY_COLOUR = "#1f5fa8"
REGION_COLOUR = "#8a8f98"
OTHER_COLOURS = ("#d1495b", "#2e933c", "#edae49", "#6b4c9a")
TARGET_COLOUR = "#d1495b"


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog and doctype: inlined in HTML


def _number(value) -> float:
    return math.nan if value is None else float(value)


def _trend_axes(ax, title: str, years: list[int], series: dict[str, list], unit: str,
                target: float | None) -> None:
    for i, (label, values) in enumerate(series.items()):
        is_region = i == len(series) - 1 and len(series) > 1
        colour = REGION_COLOUR if is_region else (
            TERRITORY_COLOUR if i == 0 else OTHER_COLOURS[(i - 1) % len(OTHER_COLOURS)])
        ax.plot(years, [_number(v) for v in values], marker="o", label=label, color=colour,
                linestyle="--" if is_region else "-", linewidth=2 if i == 0 else 1.4)
    if target is not None:
        ax.axhline(target, color=TARGET_COLOUR, linestyle=":", linewidth=1.2,
                   label=f"цель {target:g}")
    ax.set_title(title, fontsize=9, loc="left", wrap=True)
    ax.set_xticks(years, [f"{y - 1}/{str(y)[-2:]}" for y in years])
    ax.set_xlim(min(years) - 0.5, max(years) + 0.5)
    if unit:
        ax.set_ylabel(unit)
    ax.legend(fontsize=7, frameon=False, loc="best")


def trend_chart(title: str, years: list[int], series: dict[str, list], unit: str = "",
                target: float | None = None) -> str:
    """Lines over the academic years, one per territory (the first drawn strongest, the
    last one, the region, dashed grey); `target` as a red dotted line."""
    return trend_grid([(title, series, unit, target)], years, columns=1)


def trend_grid(panels: list[tuple[str, dict[str, list], str, float | None]], years: list[int],
               columns: int = 3) -> str:
    """Several trends as small multiples in one figure (one SVG: far cheaper to draw than
    one figure each, and easier to compare). panels: (title, series, unit, target)."""
    with plt.rc_context(STYLE):
        rows = max(math.ceil(len(panels) / columns), 1)
        cols = min(columns, max(len(panels), 1))
        fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.7 * rows), squeeze=False)
        for ax, (title, series, unit, target) in zip(axes.flat, panels):
            _trend_axes(ax, title, years, series, unit, target)
        for ax in list(axes.flat)[len(panels):]:
            ax.set_visible(False)
        fig.tight_layout()
        return _svg(fig)


def bar_chart(title: str, labels: list[str], values: list, reference: list | None = None,
              reference_label: str = "регион", unit: str = "%",
              targets: list | None = None) -> str:
    """Horizontal bars (one per label) with the region's value (or a target) as a tick on
    each bar: the question "where do we stand against the region / the goal"."""
    with plt.rc_context(STYLE):
        height = 0.9 + 0.32 * max(len(labels), 1)
        fig, ax = plt.subplots(figsize=(6.4, height))
        y = list(range(len(labels)))[::-1]
        ax.barh(y, [_number(v) for v in values], color=TERRITORY_COLOUR, height=0.6,
                label="значение")
        if reference is not None:
            ax.scatter([_number(v) for v in reference], y, marker="|", s=260, linewidths=2.2,
                       color="#333333", label=reference_label, zorder=3)
        if targets is not None:
            ax.scatter([_number(v) for v in targets], y, marker="D", s=22,
                       color=TARGET_COLOUR, label="цель", zorder=4)
        ax.set_yticks(y, labels)
        ax.set_xlabel(unit)
        ax.set_title(title, fontsize=9.5, loc="left")
        ax.legend(fontsize=7.5, frameon=False, loc="lower right", bbox_to_anchor=(1.0, 1.0),
                  ncol=3)
        return _svg(fig)
