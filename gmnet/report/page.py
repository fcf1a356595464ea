"""The page shell: styles (screen, phone, A4 print) and the assembly of the sections into
one HTML document."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Sequence

from gmnet._version import __version__
from gmnet.report.common import _Context, _esc, _Section

# ============================================================================ assembly
_CSS = """
:root { --ink: #1d232b; --muted: #5b6470; --rule: #d5d9df; --accent: #8a1c1c; --pale: #f3f5f8; }
* { box-sizing: border-box; }
body { font: 15px/1.5 "DejaVu Sans", Verdana, Arial, sans-serif; color: var(--ink);
       max-width: 1100px; margin: 0 auto; padding: 24px 28px 60px; background: #fff; }
h1 { font-size: 1.7em; margin: 0 0 .2em; }
h2 { font-size: 1.25em; margin: 2em 0 .6em; padding-bottom: .2em;
     border-bottom: 2px solid var(--rule); }
h3 { font-size: 1.05em; margin: 1.4em 0 .4em; }
.subtitle { color: var(--muted); margin: 0 0 1.2em; }
nav ol { columns: 2; font-size: .95em; }
dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .2em 1em; }
dt { font-weight: bold; }
dd { margin: 0; min-width: 0; }
code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .9em;
       overflow-wrap: anywhere; }
p, dd, td, li { overflow-wrap: break-word; }
table { border-collapse: collapse; margin: .6em 0 1em; width: 100%; font-size: .92em; }
th, td { border-bottom: 1px solid var(--rule); padding: .35em .6em; text-align: left;
         vertical-align: top; }
th { background: var(--pale); vertical-align: bottom; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
.doc { color: var(--muted); font-size: .9em; }
.params td { font-size: .86em; }
dl.findings { display: block; }
dl.findings dt { margin-top: .8em; }
dl.findings dd { margin: .2em 0 0 1.2em; }
dl.findings p { margin: .2em 0; }
.assumption { font-style: italic; }
.note { color: var(--muted); font-size: .9em; }
.caption { color: var(--muted); font-size: .88em; margin: .3em 0 1.2em; }
.caption .held { font-size: .95em; }
.missing { color: var(--muted); font-style: italic; }
/* the brief: the question and the headline side by side, then the what-ifs and the chart */
.brief-top { display: grid; grid-template-columns: minmax(0, 1fr) 15em; gap: 1.2em;
             align-items: start; }
dl.question { margin: 0; font-size: .92em; }
.headline { border: 2px solid var(--accent); border-radius: 6px; padding: .8em 1em;
            text-align: center; }
.headline-number { font-size: 2.6em; font-weight: bold; color: var(--accent); line-height: 1.1; }
.headline-interval { font-weight: bold; }
.headline-question { color: var(--muted); font-size: .85em; margin-top: .4em; }
section.brief h3 { margin-top: 1em; }
section.brief img.figure { max-width: 760px; margin: 0 auto; }
/* the audit's verdict counts: narrow numeric columns under their own headers */
table.verdicts th.num, table.verdicts td.num { width: 6.5em; white-space: normal;
                                               text-align: center; }
table.verdicts td:first-child { min-width: 10em; }
/* the diagram is wide: it may use the whole window, not just the text column */
.diagram { margin: 0 calc(50% - 50vw + 24px); text-align: center; }
.diagram svg { height: auto; }
img.figure { width: 100%; max-width: 860px; height: auto; display: block; margin: .5em 0; }
footer { margin-top: 3em; color: var(--muted); font-size: .85em; }
/* a phone: one column, tables as cards (each cell under its header), the diagram pans */
@media screen and (max-width: 700px) {
  body { font-size: 14px; padding: 12px 12px 40px; }
  h1 { font-size: 1.35em; }
  nav ol { columns: 1; }
  .brief-top { grid-template-columns: minmax(0, 1fr); }
  .headline { order: -1; }
  dl { grid-template-columns: minmax(0, 1fr); gap: 0; }
  dd { margin: 0 0 .5em; }
  table, thead, tbody, tr, th, td { display: block; width: 100%; }
  thead { display: none; }
  tr { border: 1px solid var(--rule); border-radius: 4px; margin: 0 0 .6em; padding: .2em 0; }
  td, td.num { border: 0; padding: .15em .6em; text-align: left; white-space: normal; }
  td[data-label]::before { content: attr(data-label) ": "; color: var(--muted);
                           font-size: .88em; }
  table.verdicts th.num, table.verdicts td.num { width: 100%; text-align: left; }
  table.verdicts td:first-child { min-width: 0; }
  table.verdicts td.num:empty { display: none; }
  .diagram { margin: 0; overflow-x: auto; -webkit-overflow-scrolling: touch; }
  .diagram svg { min-width: 820px; }
}
@media print {
  body { font-size: 9.5pt; max-width: none; padding: 0; }
  h1 { font-size: 1.5em; }
  h2 { margin: 1.2em 0 .5em; break-after: avoid; page-break-after: avoid; }
  h3 { break-after: avoid; page-break-after: avoid; }
  nav, footer { display: none; }
  table { font-size: .9em; }
  table.verdicts th.num, table.verdicts td.num { width: 4.2em; padding: .2em .3em; }
  table.verdicts th { font-size: .85em; }
  tr, img.figure, .diagram, dl, .headline { break-inside: avoid; page-break-inside: avoid; }
  .caption { break-before: avoid; page-break-before: avoid; }
  .diagram { margin: 0; }
  .diagram svg { max-height: 150mm; }
  section#diagram { page: wide; }
  section.appendix { break-before: page; page-break-before: always; }
  section.brief .subtitle { margin: 0; }
  section.brief { font-size: .9em; }
  section.brief h3 { margin: .6em 0 .2em; }
  section.brief table { margin: .3em 0 .4em; }
  section.brief th, section.brief td { padding: .2em .5em; }
  section.brief img.figure { max-width: 125mm; max-height: 74mm; width: auto; }
  section.brief .caption { margin: .1em 0 0; }
  img.figure { max-width: 165mm; max-height: 120mm; width: auto; margin: .3em auto; }
  .params td { font-size: .8em; padding: .15em .4em; }
  a { color: inherit; text-decoration: none; }
}
@page { size: A4; margin: 14mm 13mm; }
@page wide { size: A4 landscape; margin: 10mm; }
"""


def _build(ctx: _Context, sections: Sequence[_Section],
           progress: Callable[[str, int, int], None] | None = None) -> str:
    rendered = []
    for done, section in enumerate(sections):
        if progress is not None:
            progress(section.title, done, len(sections))
        body = section.render(ctx)
        if body:
            rendered.append((section, body))
    title = f"{ctx.network.title}: report" + (f" ({ctx.label})" if ctx.label else "")
    brief = [(s, body) for s, body in rendered if s.key == "brief"]
    rest = [(s, body) for s, body in rendered if s.key != "brief"]
    toc = "".join(f'<li><a href="#{s.key}">{_esc(s.title)}</a></li>' for s, _ in rest)
    blocks = [f'<section id="brief" class="brief">{body}</section>' for _, body in brief]
    if rest:
        blocks.append(f'<nav><h2>{"Appendix" if brief else "Contents"}</h2><ol>{toc}</ol></nav>')
    for i, (s, body) in enumerate(rest):
        klass = ' class="appendix"' if brief and i == 0 or s.key == "parameters" else ""
        blocks.append(f'<section id="{s.key}"{klass}><h2>{_esc(s.title)}</h2>{body}</section>')
    notes = "".join(f"<li>{_esc(n)}</li>" for n in ctx.notes)
    today = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{_esc(title)}</h1>"
        f"<p class=\"subtitle\">Goal misgeneralization as an executable Bayesian network, "
        f"from the source document <em>Goal Misgeneralization Probability Model</em>. "
        f"Generated by gmnet {__version__} on {today}.</p></header>"
        + "".join(blocks)
        + (f"<section><h2>Notes</h2><ul>{notes}</ul></section>" if notes else "")
        + "<footer>Made with gmnet. Numbers from the source document are cited by its table "
          "names; everything else is a labelled assumption.</footer>"
        "</body></html>\n")
