"""HTML estate report for people: one self-contained page (no network, no JavaScript).

Charts are inline SVG; the findings table is filtered by anchors (`#sev-high`, `#rule-CW101`)
that CSS `:target` rules act on, so the page works in any browser and in mail clients that
strip scripts. A Content-Security-Policy forbids every fetch and every script: a name or
message taken from a template can never run, on top of being escaped.
"""
from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from html import escape as escape_markup

from .. import __version__
from ..estate import COVERAGE, SERIES, Estate
from ..findings import Finding, ScanResult
from ..rulepack import FAMILIES, OTHER_FAMILY, family
from . import escape, place, root_of, rule_uri

ORDER = ("critical", "high", "medium", "low", "info")
COLORS = {"critical": "#9f1239", "high": "#dc2626", "medium": "#d97706", "low": "#0284c7", "info": "#6b7280"}
ONE_OF = {"certificate": "certificate", "ca_certificate": "CA certificate", "kms_material": "KMS key material"}
SERIES_COLORS = {"certificate": "#2563eb", "ca_certificate": "#7c3aed", "kms_material": "#0d9488"}
MAX_ROWS = 5000            # findings in the table; the CSV and JSON reports hold them all
MAX_CALENDAR_ROWS = 500
FIX_SNIPPET = {"cfn": "cfn", "tf": "tf", "live": "live"}   # finding source -> the fix's snippet key

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2937;background:#f8fafc}
header{background:#0f172a;color:#f8fafc;padding:20px 32px}header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;color:#cbd5e1}nav.toc{padding:8px 32px;background:#e2e8f0}nav.toc a{margin-right:16px}
main{padding:8px 32px 32px}section{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:16px 20px;margin:16px 0}
h2{margin:0 0 12px;font-size:18px}h3{font-size:15px;margin:16px 0 8px}a{color:#1d4ed8}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border-radius:6px;padding:10px 16px;min-width:96px;color:#fff}
.card b{display:block;font-size:24px}.card.neutral{background:#475569}
.charts{display:flex;flex-wrap:wrap;gap:24px;margin-top:16px}figure{margin:0}figcaption{font-weight:600;margin-bottom:4px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e2e8f0;vertical-align:top}
th{background:#f1f5f9;font-weight:600}td.num,th.num{text-align:right}
.sev{display:inline-block;border-radius:4px;padding:1px 6px;color:#fff;font-size:12px;font-weight:600}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}pre{background:#f1f5f9;padding:8px;overflow:auto;margin:4px 0}
.muted{color:#64748b}.warn{color:#b91c1c;font-weight:600}td.msg{min-width:16em;max-width:36em;overflow-wrap:anywhere}
td.where{overflow-wrap:anywhere;min-width:12em;max-width:24em}td.fix{max-width:28em}
.filters{margin:0 0 12px}.filters a{display:inline-block;margin:2px 4px 2px 0;padding:2px 8px;border:1px solid #cbd5e1;border-radius:12px;text-decoration:none}
.target{display:block;height:0}
table.findings tr.suppressed{display:none}
#suppressed:target~table.findings tr.suppressed{display:table-row}
#suppressed:target~table.findings tbody tr:not(.suppressed){display:none}
#suppressed:target~.filters a[href="#suppressed"]{background:#0f172a;color:#fff}
"""


esc = escape.html   # every value from the scan: names, messages, places


def esc_block(text: str) -> str:
    """A rule's own multi-line snippet: escaped, its line breaks kept."""
    return escape_markup(text, quote=True)


def _ident(text: str) -> str:
    """A string safe in an id, a class and a CSS selector (rule codes already are)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", text)


def _badge(severity: str) -> str:
    return f'<span class="sev" style="background:{COLORS[severity]}">{esc(severity)}</span>'


# -- charts ---------------------------------------------------------------------------------------
def _bars(rows: list[tuple[str, Counter]], label: str, width: int = 520) -> str:
    """Horizontal bars, one per row, stacked by severity, with the count at the end."""
    left, bar_h, gap = 230, 18, 8
    top = max((sum(c.values()) for _, c in rows), default=0) or 1
    scale = (width - left - 50) / top
    height = len(rows) * (bar_h + gap) + gap
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'role="img" aria-label="{esc(label)}"><title>{esc(label)}</title>']
    for i, (name, counts) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        out.append(f'<text x="{left - 8}" y="{y + 13}" text-anchor="end" font-size="12" fill="#1f2937">{esc(name)}</text>')
        x = float(left)
        for sev in ORDER:
            if counts[sev]:
                w = counts[sev] * scale
                out.append(f'<rect x="{x:.1f}" y="{y}" width="{max(w, 1):.1f}" height="{bar_h}" fill="{COLORS[sev]}">'
                           f'<title>{esc(name)}: {counts[sev]} {sev}</title></rect>')
                x += w
        out.append(f'<text x="{x + 6:.1f}" y="{y + 13}" font-size="12" fill="#334155">{sum(counts.values())}</text>')
    out.append("</svg>")
    return "".join(out)


def _legend(items: list[tuple[str, str]]) -> str:
    return '<p class="muted">' + " ".join(
        f'<span style="display:inline-block;width:10px;height:10px;background:{color}"></span> {esc(name)}'
        for name, color in items) + "</p>"


def _month_start(when: datetime, months: int) -> datetime:
    index = when.year * 12 + when.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=timezone.utc)


def _shades(windows: dict[str, int]) -> dict[str, str]:
    """The narrowest warning window is the most urgent: red; wider ones amber."""
    narrowest = min(windows.values(), default=0)
    return {s: "#fee2e2" if d == narrowest else "#fef3c7" for s, d in windows.items()}


def _calendar_svg(estate: Estate, now: datetime) -> str:
    """Expired ones, then twelve calendar months from this one: bars stacked by series, with the
    warning windows shaded from today."""
    months = [_month_start(now, i) for i in range(13)]
    counts = [Counter() for _ in range(13)]          # 0: expired, 1..12: the months
    for e in estate.expiries:
        if e.not_after < now:
            counts[0][e.series] += 1
        elif e.not_after < months[12]:
            column = next(i for i in range(12) if e.not_after < months[i + 1])
            counts[column + 1][e.series] += 1
    width, height, left, bottom, col = 960, 250, 40, 40, 70
    plot_h = height - bottom - 30
    top = max((sum(c.values()) for c in counts), default=0) or 1
    span = (months[12] - months[0]).total_seconds()
    x0 = left + col                                   # where month 1 starts

    def x_of(when: datetime) -> float:
        return x0 + min(max((when - months[0]).total_seconds() / span, 0), 1) * col * 12

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           'role="img" aria-label="Expiry calendar"><title>Certificates and key material by expiry month</title>']
    shades = _shades(estate.windows)
    for i, (series, days) in enumerate(sorted(estate.windows.items(), key=lambda kv: -kv[1])):   # widest first
        end = x_of(now + timedelta(days=days))
        out.append(f'<rect x="{x_of(now):.1f}" y="20" width="{max(end - x_of(now), 1):.1f}" height="{plot_h}" '
                   f'fill="{shades[series]}"><title>{esc(SERIES[series])}: warning window {days} days</title></rect>')
        out.append(f'<text x="{end - 4:.1f}" y="{32 + 14 * i}" text-anchor="end" font-size="11" fill="#92400e">'
                   f'{esc(SERIES[series])}: {days} d</text>')
    base = 20 + plot_h
    for i, c in enumerate(counts):
        x = left + i * col + 12
        y = float(base)
        for series in SERIES:
            if c[series]:
                h = c[series] / top * (plot_h - 40)
                y -= h
                out.append(f'<rect x="{x}" y="{y:.1f}" width="{col - 24}" height="{max(h, 1):.1f}" '
                           f'fill="{SERIES_COLORS[series]}"><title>{esc(SERIES[series])}: {c[series]}</title></rect>')
        if c:
            out.append(f'<text x="{x + (col - 24) / 2}" y="{y - 4:.1f}" text-anchor="middle" font-size="12">{sum(c.values())}</text>')
        label = "expired" if i == 0 else months[i - 1].strftime("%b %Y")
        color = "#b91c1c" if i == 0 else "#334155"
        out.append(f'<text x="{left + i * col + col / 2}" y="{base + 16}" text-anchor="middle" font-size="11" '
                   f'fill="{color}">{label}</text>')
    out.append(f'<line x1="{x_of(now):.1f}" y1="14" x2="{x_of(now):.1f}" y2="{base}" stroke="#0f172a" stroke-dasharray="3 3"/>')
    out.append(f'<text x="{x_of(now) + 4:.1f}" y="14" font-size="11">today {now.date().isoformat()}</text>')
    out.append(f'<line x1="{left}" y1="{base}" x2="{left + 13 * col}" y2="{base}" stroke="#94a3b8"/></svg>')
    return "".join(out)


def _coverage_bar(covered: int, unknown: int, total: int) -> str:
    w = 260
    good = covered / total * w if total else 0
    unsure = unknown / total * w if total else 0
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="14" viewBox="0 0 {w} 14" role="img" '
            f'aria-label="{covered} of {total}"><rect width="{w}" height="14" rx="3" fill="#e2e8f0"/>'
            f'<rect width="{good:.1f}" height="14" rx="3" fill="#16a34a"/>'
            f'<rect x="{good:.1f}" width="{unsure:.1f}" height="14" fill="#facc15"/></svg>')


# -- sections -------------------------------------------------------------------------------------
def _summary(result: ScanResult, active: list[Finding], suppressed: int) -> str:
    counts = Counter(f.severity for f in active)
    cards = [f'<a class="card" style="background:{COLORS[s]};text-decoration:none" href="#sev-{s}">'
             f'<b>{counts[s]}</b>{s}</a>' for s in ORDER]
    cards.append(f'<div class="card neutral"><b>{len(active)}</b>findings</div>')
    cards.append(f'<a class="card neutral" style="text-decoration:none" href="#suppressed"><b>{suppressed}</b>suppressed</a>')
    if result.baseline:
        cards.append(f'<div class="card neutral"><b>{result.baseline["matched"]}</b>in the baseline</div>')
    if result.errors:
        cards.append(f'<a class="card neutral" style="text-decoration:none" href="#errors"><b>{len(result.errors)}</b>input errors</a>')
    by_family: dict[str, Counter] = {name: Counter() for name in FAMILIES.values()}
    for f in active:
        by_family.setdefault(family(f.code), Counter())[f.severity] += 1
    if not by_family.get(OTHER_FAMILY):
        by_family.pop(OTHER_FAMILY, None)
    charts = [
        f'<figure><figcaption>Findings by severity</figcaption>'
        f'{_bars([(s, Counter({s: counts[s]})) for s in ORDER], "Findings by severity", 420)}</figure>',
        f'<figure><figcaption>Findings by rule family</figcaption>'
        f'{_bars(list(by_family.items()), "Findings by rule family")}</figure>',
    ]
    parts = ['<section id="summary"><h2>Summary</h2>', f'<div class="cards">{"".join(cards)}</div>',
             f'<div class="charts">{"".join(charts)}</div>']
    places = Counter((f.where.account, f.where.region) for f in active if f.where.account or f.where.region)
    if result.live or places:
        parts.append(_by_account(active))
    parts.append("</section>")
    return "".join(parts)


def _by_account(active: list[Finding]) -> str:
    groups: dict[tuple, Counter] = {}
    for f in active:
        groups.setdefault((f.where.account or "-", f.where.region or "-"), Counter())[f.severity] += 1
    head = "".join(f'<th class="num">{s}</th>' for s in ORDER)
    rows = []
    for (account, region), c in sorted(groups.items()):
        cells = "".join(f'<td class="num">{c[s] or ""}</td>' for s in ORDER)
        rows.append(f"<tr><td>{esc(account)}</td><td>{esc(region)}</td>{cells}"
                    f'<td class="num">{sum(c.values())}</td></tr>')
    if not rows:
        rows.append(f'<tr><td colspan="{len(ORDER) + 3}" class="muted">no findings in any account</td></tr>')
    chart = _bars([(f"{a} {r}", c) for (a, r), c in sorted(groups.items())][:40], "Findings by account and region")
    return (f'<h3>By account and region</h3><div class="charts"><figure>{chart}</figure></div>'
            f'<table><thead><tr><th>account</th><th>region</th>{head}<th class="num">total</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _coverage(estate: Estate) -> str:
    rows = []
    for key, label in COVERAGE.items():
        c = estate.coverage.get(key)
        if c is None or not c.total:
            figure, bar = '<span class="muted">none scanned</span>', ""
        else:
            figure = f"<b>{c.covered}</b> / {c.total} ({c.covered * 100 // c.total}%)"
            if c.unknown:
                figure += f' <span class="muted">{c.unknown} unresolved</span>'
            bar = _coverage_bar(c.covered, c.unknown, c.total)
        rows.append(f"<tr><td>{esc(label)}</td><td>{bar}</td><td>{figure}</td></tr>")
    return ('<section id="coverage"><h2>Coverage</h2><table><tbody>' + "".join(rows) + "</tbody></table>"
            '<p class="muted">Counted over every resource read, findings or not; a setting that could not be '
            "resolved (a parameter, a variable) is counted as not covered and shown in yellow.</p></section>")


def _calendar(estate: Estate, now: datetime) -> str:
    horizon = _month_start(now, 12)
    shown = sorted((e for e in estate.expiries if e.not_after < horizon), key=lambda e: e.not_after)
    later = len(estate.expiries) - len(shown)
    parts = ['<section id="calendar"><h2>Certificate and key calendar</h2>', _calendar_svg(estate, now),
             _legend([(SERIES[s], SERIES_COLORS[s]) for s in SERIES]
                     + [(f"warning window: {SERIES[s]}, {d} days", _shades(estate.windows)[s])
                        for s, d in estate.windows.items()])]
    if not shown:
        parts.append('<p class="muted">Nothing expired and nothing expires in the next 12 months.</p>')
    else:
        rows = []
        for e in shown[:MAX_CALENDAR_ROWS]:
            left = (e.not_after - now).days
            window = estate.windows.get(e.series)
            state = ('<span class="warn">expired</span>' if e.not_after < now else
                     '<span class="warn">in warning window</span>' if window is not None and left < window else "")
            where = esc(e.place) + (f'<br><span class="muted">{esc(e.account or "")} {esc(e.region or "")}</span>'
                                    if e.account or e.region else "")
            rows.append(f"<tr><td>{e.not_after.date().isoformat()}</td><td class=\"num\">{left}</td><td>{state}</td>"
                        f"<td>{ONE_OF[e.series]}</td><td>{esc(e.name)}</td><td class=\"where\">{where}</td></tr>")
        more = len(shown) - MAX_CALENDAR_ROWS
        parts.append('<table><thead><tr><th>expires</th><th class="num">days left</th><th></th><th>what</th>'
                     f'<th>resource</th><th>where</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')
        if more > 0:
            parts.append(f'<p class="muted">…and {more} more (see the JSON report).</p>')
    if later:
        parts.append(f'<p class="muted">{later} more expire after {horizon.date().isoformat()}.</p>')
    parts.append("</section>")
    return "".join(parts)


def _fix_cell(f: Finding, rule) -> str:
    fix = (rule.fix if rule else None) or {}
    if not fix:
        return '<span class="muted">see the rule page</span>'
    cell = esc(fix.get("description", ""))
    snippet = fix.get(FIX_SNIPPET.get(f.source, ""))
    if snippet:
        cell += f"<details><summary>{'command' if f.source == 'live' else 'code'}</summary><pre>{esc_block(snippet.rstrip())}</pre></details>"
    return cell


def _findings(result: ScanResult, root) -> tuple[str, str]:
    """The table and its filter rules (CSS for the head: one pair per severity and rule shown)."""
    rules = {r.code: r for r in result.rules}
    places = {id(f): place(f, root) for f in result.findings}   # resolving paths is the costly part
    shown = sorted(result.findings, key=lambda f: (f.suppressed, ORDER.index(f.severity), f.code, places[id(f)]))
    active = [f for f in shown if not f.suppressed]
    codes = sorted({f.code for f in active})
    severities = [s for s in ORDER if any(f.severity == s for f in active)]
    targets = [f"sev-{s}" for s in severities] + [f"rule-{_ident(c)}" for c in codes]
    css = "".join(f"#{t}:target~table.findings tbody tr:not(.{t}){{display:none}}"
                  f'#{t}:target~.filters a[href="#{t}"]{{background:#0f172a;color:#fff}}' for t in targets)
    links = ['<a href="#findings">all</a>'] + [f'<a href="#sev-{s}">{s}</a>' for s in severities]
    links += [f'<a href="#rule-{_ident(c)}" title="{esc(rules[c].title) if c in rules else ""}">{esc(c)}</a>' for c in codes]
    if len(active) != len(shown):
        links.append('<a href="#suppressed">suppressed</a>')
    rows = []
    for f in shown[:MAX_ROWS]:
        rule = rules.get(f.code)
        classes = ["suppressed"] if f.suppressed else [f"sev-{f.severity}", f"rule-{_ident(f.code)}"]
        link = f'<a href="{esc(rule_uri(rule))}">{esc(f.code)}</a>' if rule else esc(f.code)
        where = esc(places[id(f)]) + (f":{f.where.line}" if f.where.line else "")
        if f.where.account or f.where.region:
            where += f'<br><span class="muted">{esc(f.where.account or "")} {esc(f.where.region or "")}</span>'
        note = ""
        if f.suppressed:
            note = '<br><span class="muted">suppressed: ' + esc("; ".join(
                s.get("justification", "") for s in f.suppressions)) + "</span>"
        elif f.review:
            note = '<br><span class="muted">review: a value could not be resolved</span>'
        rows.append(f'<tr class="{" ".join(classes)}"><td>{_badge(f.severity)}</td>'
                    f'<td>{link}<br><span class="muted">{esc(f.name)}</span></td>'
                    f'<td>{esc(f.resource)}<br><span class="muted">{esc(f.resource_type)}</span></td>'
                    f'<td class="where">{where}</td><td class="msg">{esc(f.message)}{note}</td>'
                    f'<td class="fix">{_fix_cell(f, rule)}</td></tr>')
    if not active:
        rows.append('<tr><td colspan="6" class="muted">No findings.</td></tr>')
    more = len(shown) - MAX_ROWS
    marks = "".join(f'<span class="target" id="{t}"></span>' for t in [*targets, "suppressed"])
    return css, (f'<section id="findings"><h2>Findings</h2>{marks}'
            f'<div class="filters">Show: {" ".join(links)}</div>'
            '<table class="findings"><thead><tr><th>severity</th><th>rule</th><th>resource</th><th>where</th>'
            f'<th>message</th><th>fix</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
            + (f'<p class="muted">…and {more} more (see the CSV or JSON report).</p>' if more > 0 else "")
            + "</section>")


def _errors(result: ScanResult) -> str:
    if not result.errors and not result.notices:
        return ""
    items = "".join(f"<li><code>{esc(e)}</code></li>" for e in result.errors)
    notes = "".join(f"<li>{esc(n)}</li>" for n in result.notices)
    return ('<section id="errors"><h2>Inputs not read</h2>'
            + (f"<ul>{items}</ul>" if items else '<p class="muted">none</p>')
            + (f"<h3>Notices</h3><ul>{notes}</ul>" if notes else "") + "</section>")


def render(result: ScanResult, root=None) -> str:
    root = root_of(result, root)
    estate = result.estate
    now = estate.as_of or datetime.now(timezone.utc)
    active = [f for f in result.findings if not f.suppressed]
    filters, table = _findings(result, root)
    what = "service-regions read" if result.live else "units scanned (files, modules)"
    head = (f"{'Live accounts' if result.live else 'Infrastructure as code'} as of {now.date().isoformat()} · "
            f"{what}: {result.scanned} · resources: {estate.resources} · certwarden {esc(__version__)}")
    return "".join([
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; img-src data:">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>certwarden report {now.date().isoformat()}</title><style>{CSS}{filters}</style></head><body>",
        f"<header><h1>certwarden estate report</h1><p>{head}</p></header>",
        '<nav class="toc"><a href="#summary">Summary</a><a href="#coverage">Coverage</a>'
        '<a href="#calendar">Calendar</a><a href="#findings">Findings</a></nav><main>',
        _summary(result, active, len(result.findings) - len(active)),
        _coverage(estate), _calendar(estate, now), table, _errors(result),
        "</main></body></html>\n",
    ])
