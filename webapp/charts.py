"""Plotly figures built from the backend's aggregates (plain dicts and lists; no queries here).

Category names can come from users (dataset or run names); Plotly renders a subset of HTML in labels,
so every label passes through html.escape.
"""

import html
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

_LAYOUT = {"margin": {"l": 40, "r": 10, "t": 40, "b": 40}, "height": 280, "template": "plotly_white"}


def _label(value: Any) -> str:
    return html.escape(str(value))


def bar(
    counts: Mapping[Any, float], *, title: str, x_title: str = "", y_title: str = "count", empty: str = ""
) -> go.Figure:
    """A bar per key; with no data and an `empty` sentence, that sentence instead of empty axes."""
    if not counts and empty:
        return note(title, empty)
    figure = go.Figure(go.Bar(x=[_label(k) for k in counts], y=list(counts.values())))
    figure.update_layout(
        title=_label(title), xaxis_title=_label(x_title), yaxis_title=_label(y_title), **_LAYOUT
    )
    return figure


def grouped_bars(
    series: Mapping[str, Mapping[Any, float]],
    *,
    title: str,
    x_title: str = "",
    y_title: str = "",
    stacked: bool = False,
    empty: str = "",
) -> go.Figure:
    """One bar trace per series (e.g. one per teacher run), sharing the x categories; with no data and
    an `empty` sentence, that sentence instead of empty axes."""
    if not any(series.values()) and empty:
        return note(title, empty)
    figure = go.Figure()
    for name, counts in series.items():
        figure.add_trace(go.Bar(name=_label(name), x=[_label(k) for k in counts], y=list(counts.values())))
    figure.update_layout(
        title=_label(title),
        barmode="stack" if stacked else "group",
        showlegend=True,
        xaxis_title=_label(x_title),
        yaxis_title=_label(y_title),
        **_LAYOUT,
    )
    return figure


def lines(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]], *, title: str, x_title: str, y_title: str
) -> go.Figure:
    """One line per series of (xs, ys): loss curves, overlaid for several runs."""
    figure = go.Figure()
    for name, (xs, ys) in series.items():
        figure.add_trace(go.Scatter(name=_label(name), x=list(xs), y=list(ys), mode="lines+markers"))
    figure.update_layout(
        title=_label(title), xaxis_title=_label(x_title), yaxis_title=_label(y_title), **_LAYOUT
    )
    return figure


def empty(title: str, message: str = "") -> go.Figure:
    """A titled figure with nothing plotted; `message` (when given) says why and what would fill it."""
    return note(title, message) if message else _blank(title)


def _blank(title: str) -> go.Figure:
    figure = go.Figure()
    figure.update_layout(title=_label(title), **_LAYOUT)
    return figure


def note(title: str, message: str) -> go.Figure:
    """No axes, just `message` in the middle (wrapped by hand: Plotly does not wrap annotations)."""
    figure = _blank(title)
    words, lines, line = message.split(), [], ""
    for word in words:
        if line and len(line) + len(word) > 48:
            lines.append(line)
            line = ""
        line = f"{line} {word}".strip()
    lines.append(line)
    figure.add_annotation(
        text="<br>".join(_label(part) for part in lines),
        x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font={"size": 13, "color": "#6b7280"},
    )  # fmt: skip
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return figure
