"""The monthly performance dashboard a council would publish: plain HTML and inline SVG, nothing fetched."""

from collections.abc import Mapping
from html import escape
from typing import Any
from urllib.parse import urlencode

from onestop.analytics.adapters.measures import Filter
from onestop.analytics.web.definitions import definition_link, published_definitions
from onestop.analytics.web.tables import Table, cards, charts, tables
from onestop.contracts.events.common import Channel
from onestop.contracts.service_catalogue import service_catalogue

STYLE = """
body{font-family:"Helvetica Neue",Arial,sans-serif;margin:0;color:#0b0c0c;background:#f3f2f1}
header{background:#0b0c0c;color:#fff;padding:1rem 2rem}header h1{margin:0;font-size:1.6rem}
header p{margin:.3rem 0 0;color:#b1b4b6}main{padding:1.5rem 2rem;max-width:80rem}
form{display:flex;gap:1rem;align-items:end;flex-wrap:wrap;margin-bottom:1.5rem}
label{display:flex;flex-direction:column;font-weight:bold;font-size:.9rem}
select,input,button{font-size:1rem;padding:.3rem .5rem;margin-top:.2rem}
button{background:#00703c;color:#fff;border:0;padding:.45rem 1rem;cursor:pointer}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:1rem;margin-bottom:2rem}
.card{background:#fff;padding:1rem;border-top:5px solid #b1b4b6}.card.good{border-color:#00703c}
.card.bad{border-color:#d4351c}.card h2{font-size:.95rem;margin:0 0 .4rem}.card .value{font-size:2rem;font-weight:bold}
.card .target{font-size:.85rem;color:#505a5f}.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(34rem,1fr));gap:1rem}
section{background:#fff;padding:1rem}section h2{font-size:1.1rem;margin:0 0 .6rem}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.35rem;border-bottom:1px solid #b1b4b6;font-size:.9rem}
.published section{margin-bottom:1rem}a{color:#1d70b8}footer{padding:1rem 2rem;color:#505a5f;font-size:.85rem}
"""


def _query(period: Filter, **extra: str | None) -> str:
    params = {
        "month": f"{period.start:%Y-%m}",
        "service_area": period.service_area or "",
        "channel": period.channel or "",
    }
    params.update({k: v for k, v in extra.items() if v})
    return urlencode({k: v for k, v in params.items() if v})


def _defined(heading: str) -> str:
    """The link from a figure to its definition: `heading` is its section of MEASURES.md."""
    return f"<p class='definition'><a href='{definition_link(heading)}'>How this is counted</a></p>"


def _card(
    title: str,
    value: float | int | None,
    unit: str,
    target: float | None = None,
    higher_is_better: bool = True,
    *,
    defined_in: str,
) -> str:
    shown = "no figure" if value is None else f"{value:g}{unit}"
    verdict, target_text = "", ""
    if target is not None:
        target_text = f"Target: {'at least' if higher_is_better else 'no more than'} {target:g}{unit}"
        if value is not None:
            good = value >= target if higher_is_better else value <= target
            verdict = "good" if good else "bad"
            target_text += " (met)" if good else " (not met)"
    return (
        f"<div class='card {verdict}'><h2>{escape(title)}</h2><div class='value'>{escape(shown)}</div>"
        f"<div class='target'>{escape(target_text)}</div>{_defined(defined_in)}</div>"
    )


def _bars(
    title: str,
    data: Mapping[str, float | int | None],
    unit: str = "",
    link: Any = None,
    note: str = "",
    *,
    defined_in: str,
    csv: str = "",
) -> str:
    items = [(k, v) for k, v in data.items() if v is not None]
    if not items:
        return (
            f"<section><h2>{escape(title)}</h2><p>No figures for this period.</p>{csv}{_defined(defined_in)}</section>"
        )
    width, row, label_w = 600, 28, 250
    top = max(float(v) for _, v in items) or 1.0
    bars = []
    for n, (label, value) in enumerate(items):
        y = n * row
        length = max(2.0, (width - label_w - 70) * float(value) / top)
        words = str(label).replace("_", " ")
        text = escape(words if len(words) <= 30 else words[:29] + "…")
        style = " fill='#1d70b8' text-decoration='underline'" if link else ""
        label_text = f"<text x='{label_w - 8}' y='{y + 17}' text-anchor='end' font-size='15'{style}>{text}</text>"
        if link:  # an SVG link wraps the text it makes clickable
            label_text = f"<a href='{escape(link(label))}'>{label_text}</a>"
        bars.append(
            f"{label_text}<rect x='{label_w}' y='{y + 4}' width='{length:.1f}' height='18' fill='#1d70b8'><title>{text}: {value:g}{unit}</title></rect>"
            f"<text x='{label_w + length + 6:.1f}' y='{y + 17}' font-size='15'>{value:g}{unit}</text>"
        )
    height = row * len(items) + 6
    svg = (
        f"<svg role='img' aria-label='{escape(title)}' viewBox='0 0 {width} {height}' width='100%' "
        f"xmlns='http://www.w3.org/2000/svg'>{''.join(bars)}</svg>"
    )
    note_text = f"<p>{escape(note)}</p>" if note else ""
    return f"<section><h2>{escape(title)}</h2>{svg}{note_text}{csv}{_defined(defined_in)}</section>"


def _shown(value: Any) -> str:
    if value is None:
        return "no figure"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _csv_link(name: str, period: Filter) -> str:
    return f"<p class='download'><a href='/dashboard/{name}.csv?{escape(_query(period))}'>Download as CSV</a></p>"


def render_table(name: str, table: Table, period: Filter) -> str:
    """A table of figures with its CSV download and its definition; each row's cells in `td`."""
    header = "".join(f"<th>{escape(column)}</th>" for column in table.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(_shown(value))}</td>" for value in row) + "</tr>" for row in table.rows
    )
    body = f"<table><tr>{header}</tr>{rows}</table>" if table.rows else "<p>No figures for this period.</p>"
    return (
        f"<section id='{escape(name)}'><h2>{escape(table.title)}</h2>{body}{_csv_link(name, period)}"
        f"{_defined(table.defined_in)}</section>"
    )


def _select(name: str, options: list[tuple[str, str]], chosen: str | None) -> str:
    rendered = "".join(
        f"<option value='{escape(value)}'{' selected' if value == (chosen or '') else ''}>{escape(label)}</option>"
        for value, label in [("", "All"), *options]
    )
    return f"<select name='{name}' id='{name}'>{rendered}</select>"


def _page(title: str, subtitle: str, body: str) -> str:
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body><header><h1>{escape(title)}</h1>"
        f"<p>{escape(subtitle)}</p></header><main>{body}</main><footer>Figures are counted from the council's "
        "case log by when things happened, in council months; see the "
        "<a href='/definitions'>published definitions</a> of each measure.</footer></body></html>"
    )


def render_dashboard(figures: dict[str, Any], period: Filter) -> str:
    m = figures["measures"]
    catalogue = service_catalogue()
    areas = [(area.id, area.name) for area in catalogue.areas]
    channels = [(c.value, c.value.replace("_", " ").capitalize()) for c in Channel]
    form = (
        f"<form method='get' action='/dashboard'><label for='month'>Month<input type='month' id='month' name='month' "
        f"value='{period.start:%Y-%m}'></label><label for='service_area'>Service{_select('service_area', areas, period.service_area)}"
        f"</label><label for='channel'>Channel{_select('channel', channels, period.channel)}</label>"
        "<button type='submit'>Show</button></form>"
    )
    ni14 = m["avoidable_contact"]
    shown_cards = "".join(
        _card(c.title, c.value, c.unit, c.target, c.higher_is_better, defined_in=c.defined_in) for c in cards(figures)
    )
    drill = lambda category: f"/dashboard/ni14?{_query(period, category=category)}"  # noqa: E731
    drawn = []
    for name, chart in charts(figures, period).items():
        drawn.append(
            _bars(
                chart.title + (" (select a reason to see the contacts)" if name == "avoidable_by_reason" else ""),
                dict(chart.rows),
                chart.unit,
                link=drill if name == "avoidable_by_reason" else None,
                note=f"{ni14['avoidable']} of {ni14['contacts']} contacts were avoidable."
                if name == "avoidable_by_reason"
                else "",
                defined_in=chart.defined_in,
                csv=_csv_link(name, period),
            )
        )
    every = tables(figures, period)
    drawn += [render_table(name, every[name], period) for name in ("hand_off_models", "by_channel")]
    trends = render_table("trends", every["trends"], period)
    scope = (
        " · ".join(
            x
            for x in (
                period.service_area and dict(areas).get(period.service_area),
                period.channel and period.channel.replace("_", " "),
            )
            if x
        )
        or "All services and channels"
    )
    return _page(
        f"Customer services performance: {period.start:%B %Y}",
        scope,
        form
        + f"<div class='cards'>{shown_cards}</div><div class='charts'>{''.join(drawn)}</div>{trends}"
        + f"<p><a href='/dashboard/ni14?{escape(_query(period))}'>See every avoidable contact this month</a></p>",
    )


def render_published(figures: dict[str, Any], period: Filter) -> str:
    """The performance page for the council's website: every published table, each downloadable as CSV."""
    every = tables(figures, period)
    body = "".join(render_table(name, table, period) for name, table in every.items())
    return _page(
        f"How we performed: {period.start:%B %Y}",
        "Customer services across every service and channel, against our targets",
        f"<p><a href='/dashboard?{escape(_query(period))}'>See the dashboard</a></p>"
        f"<div class='published'>{body}</div>",
    )


def render_drilldown(rows: list[dict[str, Any]], period: Filter, category: str | None) -> str:
    """The public drill-down: when, channel, service and reason of each avoidable contact. The explanation
    (which can hold a reason typed by staff, or a team's name) and the contact's id are for analysts only,
    behind `/ni14/contacts`."""
    body = "".join(
        f"<tr><td>{r['received_at']:%d %b %H:%M}</td><td>{escape(str(r['channel']).replace('_', ' '))}</td>"
        f"<td>{escape(str(r['service_area']).replace('_', ' '))}</td><td>{escape(str(r['category']).replace('_', ' '))}</td></tr>"
        for r in rows
    )
    what = category.replace("_", " ") if category else "all reasons"
    table = (
        f"<table><tr><th>When</th><th>Channel</th><th>Service</th><th>Reason</th></tr>{body}</table>"
        if rows
        else "<p>No avoidable contacts for this selection.</p>"
    )
    return _page(
        f"Avoidable contacts, {period.start:%B %Y}: {what}",
        f"{len(rows)} contacts",
        f"<p><a href='/dashboard?{escape(_query(period))}'>Back to the dashboard</a></p>{table}",
    )


def render_definitions() -> str:
    """The published definitions page (MEASURES.md), which every figure on the dashboard links to."""
    title, body = published_definitions()
    return _page(
        title,
        "How every figure on the dashboard is counted",
        f"<p><a href='/dashboard'>Back to the dashboard</a></p><article class='definitions'>{body}</article>",
    )
