"""The report rendered in a real browser (Debian's Chromium, driven by Playwright): it fits a
390 px phone without horizontal scrolling, and printed on A4 the brief is the first page and the
whole report has a bounded number of pages. Screenshots and the PDF are kept in the test's
temporary folder."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("playwright", reason="the browser tests need playwright: make test installs it")


import gmnet  # noqa: E402
from gmnet.model.question import Question  # noqa: E402
from gmnet.report import build_report  # noqa: E402

#: The full report at 2,000 draws prints on 15 pages (the brief, then the appendix: overview and
#: core table, the diagram on a landscape page, what-ifs, mitigations, uncertainty,
#: sensitivity, the audit, every number); the bound leaves room for small layout changes.
MAX_PAGES = 22  # the audit alone (23 inconsistencies, band coverage) takes 6-7 pages


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """The full report, and a scenario report, as files."""
    folder = tmp_path_factory.mktemp("report-render")
    net = gmnet.load_network()
    full = folder / "report.html"
    full.write_text(build_report(net, samples=200, rng=1))
    agents = folder / "agents.html"
    agents.write_text(build_report(net, question=Question("harm", scenarios=("autonomous_agents",)),
                                   label="scenario autonomous_agents", samples=200, rng=1))
    brief = folder / "brief.html"
    brief.write_text(build_report(net, sections=["brief"], samples=200, rng=1))
    agents_brief = folder / "agents-brief.html"
    agents_brief.write_text(build_report(
        net, question=Question("harm", scenarios=("autonomous_agents", "2028-2030")),
        label="scenario autonomous_agents + 2028-2030", sections=["brief"], samples=200, rng=1))
    return {"full": full, "agents": agents, "brief": brief, "agents-brief": agents_brief,
            "folder": folder}


def _pages(pdf: bytes) -> int:
    """Pages of a PDF (Chromium writes one ``/Type /Page`` object per page)."""
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_page_counter_counts_pages():
    assert _pages(b"<< /Type /Pages /Kids [1 0 R 2 0 R] >> << /Type /Page >> << /Type/Page >>") \
        == 2


@pytest.mark.parametrize("which", ["full", "agents"])
def test_the_report_fits_a_phone_without_horizontal_scrolling(browser, reports, which):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(reports[which].as_uri())
    widths = page.evaluate("""() => ({
        scroll: document.documentElement.scrollWidth,
        client: document.documentElement.clientWidth,
        wide: [...document.querySelectorAll('body *')]
            .filter(e => !e.closest('.diagram'))
            .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .slice(0, 5).map(e => e.tagName + '.' + e.className + ': ' +
                             (e.textContent || '').slice(0, 40)),
    })""")
    page.screenshot(path=str(reports["folder"] / f"{which}-390.png"))
    context.close()
    assert widths["client"] == 390
    assert widths["scroll"] <= widths["client"], widths["wide"]
    assert widths["wide"] == []


def test_on_a_phone_the_headline_comes_first_and_tables_become_cards(browser, reports):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(reports["full"].as_uri())
    layout = page.evaluate("""() => {
        const head = document.querySelector('.headline').getBoundingClientRect();
        const box = document.querySelector('dl.question').getBoundingClientRect();
        const cell = document.querySelector('table.whatifs td.num');
        return {headBottom: head.bottom, boxTop: box.top,
                thead: getComputedStyle(document.querySelector('table.whatifs thead')).display,
                label: getComputedStyle(cell, '::before').content};
    }""")
    context.close()
    assert layout["headBottom"] <= layout["boxTop"]
    assert layout["thead"] == "none"
    assert layout["label"].startswith('"P(harm=yes) [90% interval]')


def test_the_audit_counts_are_aligned_with_their_headers(browser, reports):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(reports["full"].as_uri())
    offsets = page.evaluate("""() => {
        const table = document.querySelector('table.verdicts');
        const heads = [...table.querySelectorAll('thead th')];
        const out = [];
        for (const row of table.querySelectorAll('tbody tr')) {
            [...row.children].forEach((td, i) => {
                if (!td.classList.contains('num') || !td.textContent) return;
                const range = document.createRange();
                range.selectNodeContents(td);
                const text = range.getBoundingClientRect();
                const head = heads[i].getBoundingClientRect();
                // the count's centre lies under its header's centre
                out.push(Math.abs((text.left + text.right) / 2 - (head.left + head.right) / 2));
            });
        }
        return out;
    }""")
    context.close()
    assert len(offsets) > 10
    assert max(offsets) < 3


def test_printed_on_a4_the_brief_is_one_page_and_the_report_is_bounded(browser, reports):
    sizes = {}
    for which in ("brief", "agents-brief", "full"):
        context = browser.new_context()
        page = context.new_page()
        page.goto(reports[which].as_uri())
        pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
        (reports["folder"] / f"{which}.pdf").write_bytes(pdf)
        sizes[which] = _pages(pdf)
        context.close()
    # the brief alone fills one page; in the full report the appendix starts on a new page
    # (tested in test_report.py), so the first page holds the brief and nothing else
    assert sizes["brief"] == 1 and sizes["agents-brief"] == 1
    assert 5 <= sizes["full"] <= MAX_PAGES
