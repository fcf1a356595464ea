"""End-to-end: the page in a real headless Chromium (Debian's, driven by Playwright; no browser
download). The numbers the page shows must equal the API's."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest

pytest.importorskip("fastapi", reason="the web page needs fastapi: pip install 'gmnet[web]'")
pytest.importorskip("playwright", reason="the browser tests need playwright: make test installs it")

import httpx  # noqa: E402
import uvicorn  # noqa: E402

import gmnet  # noqa: E402
from gmnet.display import percent  # noqa: E402
from gmnet.web import create_app  # noqa: E402

MITIGATIONS = ("adversarial_training", "objective_specification", "interpretability_verification",
               "behavior_monitoring", "objective_probing", "anomaly_detection", "ai_control",
               "emergency_shutdown", "human_override")
ALL_OFF = {m: "off" for m in MITIGATIONS}


@contextlib.contextmanager
def serving(app):
    """``app`` on uvicorn in a background thread, on a free loopback port: its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture(scope="module")
def base_url():
    """The app with the bundled network."""
    with serving(create_app()) as url:
        yield url


@pytest.fixture
def page(browser, base_url):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # nothing may leave the machine: any request to another host fails the test
    outside: list[str] = []

    def guard(route):
        if route.request.url.startswith(base_url) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    page.base = base_url  # type: ignore[attr-defined]
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
    assert not outside, f"the page tried to fetch from elsewhere: {outside}"


def settled(page, after: int = 0) -> int:
    """Wait until the page has answered a question newer than ``after``; its number."""
    page.wait_for_function(
        "after => Number(document.body.dataset.seq || 0) > after "
        "&& !document.body.classList.contains('busy')", arg=after, timeout=30_000)
    return int(page.evaluate("document.body.dataset.seq"))


def api(page, path: str, body: dict) -> dict:
    r = httpx.post(page.base + path, json=body, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def shown_probability(page) -> tuple[str, float]:
    out = page.locator("#p-value")
    return out.inner_text(), float(out.get_attribute("data-value"))


# ============================================================================ the tests
def test_scenario_and_mitigation_numbers_equal_the_api(page):
    page.goto(page.base + "/")
    seq = settled(page)
    text, value = shown_probability(page)
    # the page asks the plain question, as the command line does: the baseline context holds
    # every mitigation off, so the switched-off mitigations are not said again
    first = api(page, "/api/query", {})
    expected = first["probability"]
    assert expected == api(page, "/api/query", {"do": ALL_OFF})["probability"]
    assert value == expected and text == percent(expected)
    # the page asks what the command line asks: the baseline context, stated under the number
    assert expected == gmnet.ask("P(harm=yes)").probability
    shown = page.locator("#assumptions li").all_inner_texts()
    assert shown == first["assumptions"] and shown[0].startswith("context: baseline; held at")

    page.locator("#scenario-domain").select_option("autonomous_agents")
    seq = settled(page, seq)
    page.locator("#ctx-shift_type").select_option("extreme")
    seq = settled(page, seq)
    page.locator("label[for=mit-ai_control]").click()
    seq = settled(page, seq)
    assert "scenario=autonomous_agents" in page.url
    assert "do.ai_control=on" in page.url and "do.shift_type=extreme" in page.url

    body = {"scenario": ["autonomous_agents"],
            "do": {**ALL_OFF, "shift_type": "extreme", "ai_control": "on"}}
    answer = api(page, "/api/query", body)
    assert answer["evidence"] == {"spec_quality": "low"}  # the scenario's observation
    expected = answer["probability"]
    text, value = shown_probability(page)
    assert value == expected and text == percent(expected)
    # the diagram shows the same number on the harm node
    assert f"{expected:.1%}" in page.locator("#diagram g.node[data-node=harm]").text_content()
    # the comparison chart: its highlighted row is AI control alone, with the API's number
    comparison = api(page, "/api/compare", {"scenario": ["autonomous_agents"],
                                            "do": {"shift_type": "extreme"}})
    rows = {p["name"]: p["probability"] for p in comparison["portfolios"]}
    current = page.locator("#compare g.row-group.current")
    assert current.count() == 1 and current.get_attribute("data-on") == "ai_control"
    assert float(current.locator(".row-value").get_attribute("data-value")) == rows["ai_control"]
    assert rows["ai_control"] == pytest.approx(expected, abs=1e-12)
    # the band: the API's 5% and 95% quantiles over the same draws (fixed seed)
    band = api(page, "/api/uncertainty", {**body, "samples": 2000, "seed": 20240601})
    shown = page.locator("#band-text .band-range")
    low, high = band["quantiles"]["0.05"], band["quantiles"]["0.95"]
    assert float(shown.get_attribute("data-low")) == low
    assert float(shown.get_attribute("data-high")) == high
    assert page.locator("#band-low").inner_text() == f"{100 * low:.1f}%"
    assert page.locator("#band-high").inner_text() == f"{100 * high:.1f}%"
    # the tornado's top bar is the number with the widest one-way swing
    tornado = api(page, "/api/sensitivity", body)
    widest = max((i for i in tornado["inputs"] if i["reaches_target"]), key=lambda i: i["swing"])
    assert page.locator("#sensitivity g.param").first.get_attribute("data-param") == widest["name"]
    # a worldview changes the number, again as the API says
    page.locator("#worldview").select_option("document-note")
    settled(page, seq)
    expected = api(page, "/api/query", {**body, "worldview": "document-note"})["probability"]
    assert shown_probability(page)[1] == expected
    assert "worldview=document-note" in page.url


def test_state_lives_in_the_url(page):
    query = "?e.capability_level=superhuman&do.spec_quality=low&do.human_override=on"
    page.goto(page.base + "/" + query)
    seq = settled(page)
    assert page.locator("#ctx-capability_level").input_value() == "superhuman"
    assert page.locator(".ctx[data-node=capability_level] [data-mode=observe]").get_attribute(
        "aria-pressed") == "true"
    assert page.locator("#ctx-spec_quality").input_value() == "low"
    assert page.locator("#mit-human_override").is_checked()
    assert not page.locator("#mit-ai_control").is_checked()
    expected = api(page, "/api/query", {
        "evidence": {"capability_level": "superhuman"},
        "do": {**ALL_OFF, "spec_quality": "low", "human_override": "on"}})["probability"]
    assert shown_probability(page)[1] == expected
    # switching the observation to an intervention rewrites the link
    page.locator(".ctx[data-node=capability_level] [data-mode=do]").click()
    settled(page, seq)
    assert "do.capability_level=superhuman" in page.url and "e.capability_level" not in page.url


def test_the_page_gives_the_documents_number_and_the_prior_on_request(page):
    from gmnet.cli import main

    page.goto(page.base + "/?e.shift_type=extreme")
    seq = settled(page)
    # a plain question gives the document's Type 4 row, as `gmnet query` does
    assert shown_probability(page) == ("27.7%", pytest.approx(0.277, abs=1e-12))
    assert page.locator("#ctx-capability_level option").first.inner_text() == (
        "— baseline: human level —")
    assert main(["query", "--json", "P(harm=yes | shift_type=extreme)"]) == 0
    page.locator("#context-policy").select_option("prior")
    settled(page, seq)
    assert "context=prior" in page.url
    prior = gmnet.ask("P(harm=yes | shift_type=extreme, do(adversarial_training=off, "
                      "objective_specification=off, interpretability_verification=off, "
                      "behavior_monitoring=off, objective_probing=off, anomaly_detection=off, "
                      "ai_control=off, emergency_shutdown=off, human_override=off))",
                      context="prior").probability
    assert shown_probability(page)[1] == pytest.approx(prior, abs=1e-12)
    assert page.locator("#assumptions li").first.inner_text().startswith("context: prior")
    assert page.locator("#ctx-capability_level option").first.inner_text() == "— prior —"


def test_bad_link_shows_the_api_error(page):
    page.goto(page.base + "/?e.shift_type=extrme")
    settled(page)
    error = page.locator("#error")
    assert error.is_visible()
    assert "unknown state 'extrme' for shift_type" in error.inner_text()
    assert "(evidence.shift_type)" in error.inner_text()


def test_clicking_a_node_shows_its_numbers_and_sources(page, net):
    page.goto(page.base + "/")
    settled(page)
    page.locator("#diagram g.node[data-node=capability_transfer]").click()
    sheet = page.locator("#details")
    assert sheet.is_visible()
    text = sheet.inner_text()
    p = net.parameters["p_capability_transfer.extreme"]
    assert "p_capability_transfer.extreme" in text and p.source in text
    page.keyboard.press("Escape")
    assert not sheet.is_visible()


def test_screenshot_and_phone_width(page, tmp_path):
    page.goto(page.base + "/?do.shift_type=extreme&do.ai_control=on&do.behavior_monitoring=on")
    settled(page)
    for selector in ("#diagram svg", "#controls", "#p-value", "#band", "#compare svg"):
        assert page.locator(selector).is_visible(), selector
    shot = tmp_path / "gmnet-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    print(f"screenshot: {shot}")
    # at a phone's width nothing overflows sideways and P(harm) stays in view
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(100)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("#p-value").is_visible()
    page.screenshot(path=str(tmp_path / "gmnet-phone.png"))


# ============================================================================ visual checks
# what a person would see, measured: rendered sizes and boxes, not pixels
TEXT_PX = """() => [...document.querySelectorAll('#diagram svg text')].map(
    t => parseFloat(t.getAttribute('font-size')) * t.getScreenCTM().a)"""
TEXT_BOXES = """sel => [...document.querySelectorAll(sel + ' svg text')].map(t => {
    const b = t.getBoundingClientRect();
    return {text: t.textContent, x0: b.left, y0: b.top, x1: b.right, y1: b.bottom}; })"""


def overlapping(boxes: list[dict]) -> list[tuple[str, str]]:
    """Pairs of text boxes that overlap by more than half a pixel each way."""
    out = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if (min(a["x1"], b["x1"]) - max(a["x0"], b["x0"]) > 0.5
                    and min(a["y1"], b["y1"]) - max(a["y0"], b["y0"]) > 0.5):
                out.append((a["text"], b["text"]))
    return out


def chart_checks(page, width: int) -> None:
    """At the viewport's width: nothing scrolls sideways, the diagram's text at Fit size is
    legible, and the tornado's (and comparison's) labels are whole, distinct and apart."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.locator("#diagram").get_attribute("data-mode") == "fit"
    sizes = page.evaluate(TEXT_PX)
    assert len(sizes) > 50 and min(sizes) >= 9.9, f"diagram text at Fit: {min(sizes):.1f}px"
    for chart in ("#sensitivity", "#compare"):
        boxes = page.evaluate(TEXT_BOXES, chart)
        assert len(boxes) >= 5, chart
        assert not overlapping(boxes), (chart, overlapping(boxes))
        assert max(b["x1"] for b in boxes) <= width, chart
    assert not [t for t in page.locator("#compare .row-label").all_text_contents() if "…" in t]
    labels = page.locator("#sensitivity .row-label").all_text_contents()
    assert len(labels) >= 2 and len(set(labels)) == len(labels), labels
    assert not any(label.endswith("…") and label.startswith("Critical Unknown") for label in labels)


def test_screenshots_at_desktop_and_phone_size(page, tmp_path):
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(page.base + "/?scenario=autonomous_agents&do.shift_type=extreme")
    settled(page)
    chart_checks(page, 1400)
    # the measure can fail: the whole diagram in the card has text well under 10px
    page.locator("#zoom-whole").click()
    assert min(page.evaluate(TEXT_PX)) < 9.9
    page.locator("#zoom-fit").click()
    desktop = tmp_path / "gmnet-1400x900.png"
    page.screenshot(path=str(desktop), full_page=True)
    print(f"screenshot: {desktop}")

    page.set_viewport_size({"width": 390, "height": 844})
    # the charts are redrawn at the phone's width
    page.wait_for_function("() => Number(document.querySelector('#sensitivity svg')"
                           ".getAttribute('width')) <= 390", timeout=10_000)
    chart_checks(page, 390)
    # the legible view is centred on the target: harm is within the diagram's box
    inside = page.evaluate("""() => {
        const b = document.querySelector('#diagram').getBoundingClientRect();
        const n = document.querySelector('#diagram g.node[data-node=harm]').getBoundingClientRect();
        return n.left >= b.left - 1 && n.right <= b.right + 1 && n.top >= b.top - 1
            && n.bottom <= b.bottom + 1; }""")
    assert inside
    # the node the scenario observes is shown as set by it, not as the baseline's
    assert page.locator("#ctx-spec_quality option").first.inner_text() == "— scenario: low —"
    note = page.locator(".ctx[data-node=spec_quality] .ctx-note")
    assert note.is_visible() and note.inner_text() == "Autonomous agents observes low"
    assert page.locator("#ctx-capability_level option").first.inner_text() == (
        "— baseline: human level —")
    phone = tmp_path / "gmnet-390x844.png"
    page.screenshot(path=str(phone), full_page=True)
    print(f"screenshot: {phone}")
    # the node sheet on a phone: the source of every number is within the screen
    page.locator("#diagram g.node[data-node=harm_if_failed]").click()  # the harm factor
    sheet = page.locator("#details")
    assert sheet.is_visible()
    sources = page.evaluate("""() => [...document.querySelectorAll('#details td.src')].map(
        td => { const b = td.getBoundingClientRect();
                return [b.left, b.right, td.scrollWidth - td.clientWidth]; })""")
    assert len(sources) >= 4  # P(harm | goal fails, shift type) and its modifiers
    assert all(left >= 0 and right <= 390 and hidden <= 0 for left, right, hidden in sources)
    assert page.evaluate("document.querySelector('#details').scrollWidth") <= 390
    sheet_shot = tmp_path / "gmnet-390x844-node.png"
    page.screenshot(path=str(sheet_shot))
    print(f"screenshot: {sheet_shot}")


def test_an_outcome_can_be_observed(page):
    # "given harm, how likely was the shift extreme?"
    page.goto(page.base + "/?target=shift_type&state=extreme&e.harm=yes")
    seq = settled(page)
    assert page.locator("#obs-harm").input_value() == "yes"
    assert page.locator("#panel-observations").get_attribute("open") is not None
    expected = api(page, "/api/query", {"target": "shift_type", "state": "extreme",
                                        "evidence": {"harm": "yes"}})
    assert expected["query"] == "P(shift_type=extreme | harm=yes)"
    assert shown_probability(page)[1] == expected["probability"]
    assert page.locator("#query-text").inner_text() == expected["query"]
    # a root node as target: no meaningless bars, a reason instead
    assert page.locator("#compare svg").count() == 0
    assert "Distribution shift type is not downstream of any mitigation" in (
        page.locator("#compare").inner_text())
    assert "harm=yes" in page.locator("#compare").inner_text()
    # choosing an observation from the panel asks again; clearing it too
    page.locator("#obs-harm").select_option("")
    settled(page, seq)
    prior = api(page, "/api/query", {"target": "shift_type", "state": "extreme"})["probability"]
    assert shown_probability(page)[1] == prior == pytest.approx(0.25)
    assert "e.harm" not in page.url


def test_a_bad_share_link_gives_one_message_and_a_working_page(page):
    page.goto(page.base + "/?do.shift_type=huge&scenario=nope")
    seq = settled(page)
    error = page.locator("#error")
    assert error.is_visible()
    text = error.inner_text()
    assert text.startswith("This link asked for what the page cannot answer")
    assert "do.shift_type=huge: unknown state 'huge' for shift_type" in text
    assert "scenario=nope: unknown scenario 'nope'" in text
    body = page.locator("body").inner_text()
    assert body.count("unknown state 'huge'") == 1 and body.count("unknown scenario") == 1
    assert "drawing…" not in body and "computing…" not in body
    # the rest of the link is answered: the plain question, its diagram and charts
    assert shown_probability(page)[1] == api(page, "/api/query", {})["probability"]
    assert page.locator("#diagram svg").count() == 1
    assert page.locator("#compare svg").count() == 1
    assert "scenario" not in page.url and "shift_type" not in page.url
    # the message can be put away, and the page works: the next change answers
    page.locator("#error .dismiss").click()
    assert not error.is_visible()
    page.goto(page.base + "/?scenario=nope")
    seq = settled(page)
    assert error.is_visible() and "scenario=nope" in error.inner_text()
    page.locator("#ctx-shift_type").select_option("extreme")
    settled(page, seq)
    assert shown_probability(page)[1] == pytest.approx(0.277, abs=1e-12)
    assert not error.is_visible()


def test_the_page_is_es_modules_served_as_javascript(base_url):
    from pathlib import Path

    static = Path(__file__).resolve().parents[1] / "gmnet" / "web" / "static"
    html = (static / "index.html").read_text()
    assert '<script type="module" src="/static/js/main.js"></script>' in html
    modules = sorted(static.glob("js/*.js"))
    assert len(modules) >= 8
    for module in modules:
        lines = module.read_text().count("\n")
        assert lines <= 400, f"{module.name}: {lines} lines"
        r = httpx.get(f"{base_url}/static/js/{module.name}", timeout=10)
        assert r.status_code == 200
        # a module script runs only when served with a JavaScript MIME type
        assert r.headers["content-type"].split(";")[0] in ("text/javascript",
                                                           "application/javascript")
    assert not (static / "app.js").exists()


def test_the_diagram_zooms_and_pans(page):
    page.goto(page.base + "/")
    settled(page)
    box = page.locator("#diagram")
    fit = float(box.get_attribute("data-text-px"))
    assert fit >= 9.9
    page.locator("#zoom-in").click()
    assert float(box.get_attribute("data-text-px")) == pytest.approx(fit * 1.25, abs=0.1)
    assert box.get_attribute("data-mode") == "zoom"
    assert page.locator("#zoom-fit").get_attribute("aria-pressed") == "false"
    page.locator("#zoom-whole").click()
    whole = float(box.get_attribute("data-text-px"))
    assert whole < fit
    # the whole diagram fits the card's width; Fit is wider than the card (the text would
    # be too small otherwise) and is moved around by dragging, which opens no node
    assert page.evaluate("document.querySelector('#diagram').scrollWidth "
                         "<= document.querySelector('#diagram').clientWidth + 1")
    page.locator("#zoom-fit").click()
    assert page.evaluate("document.querySelector('#diagram').scrollWidth "
                         "> document.querySelector('#diagram').clientWidth")
    start = page.evaluate("[document.querySelector('#diagram').scrollLeft, "
                          "document.querySelector('#diagram').scrollTop]")
    b = box.bounding_box()
    # the view starts on the target (harm, at the right end of the left-to-right pathway):
    # drag towards the right to see the context on the left
    assert start[0] > 300
    page.mouse.move(b["x"] + 200, b["y"] + 300)
    page.mouse.down()
    page.mouse.move(b["x"] + 500, b["y"] + 150, steps=6)
    page.mouse.up()
    end = page.evaluate("[document.querySelector('#diagram').scrollLeft, "
                        "document.querySelector('#diagram').scrollTop]")
    assert end[0] - start[0] == pytest.approx(-300, abs=2)
    assert not page.locator("#details").is_visible()


def test_on_a_phone_a_tap_shows_everything_the_number_assumed(page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.base + "/?scenario=autonomous_agents")
    settled(page)
    shown = page.locator("#assumptions li:visible").all_inner_texts()
    assert len(shown) == 1  # one line in the sticky headline
    page.locator("#assumptions").click()
    sheet = page.locator("#details")
    assert sheet.is_visible()
    answer = api(page, "/api/query", {"scenario": ["autonomous_agents"]})
    assert sheet.locator(".assumptions-full li").all_inner_texts() == answer["assumptions"]
    assert answer["statement"] in sheet.inner_text()


def test_two_networks_on_a_phone(browser):
    with serving(create_app(["goal_misgeneralization", "reward_hacking"])) as url:
        context = browser.new_context(viewport={"width": 390, "height": 844})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url + "/")
        seq = settled(page)
        assert page.locator("#network-pick").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.locator("#network").select_option("reward_hacking")
        settled(page, seq)
        assert "network=reward_hacking" in page.url
        expected = httpx.post(url + "/api/query", json={"network": "reward_hacking"},
                              timeout=30).json()["probability"]
        assert shown_probability(page)[1] == expected
        assert page.locator("#compare-card").is_hidden()  # no mitigations in that network
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        context.close()
        assert not errors


def test_decisions_card_shows_the_api_frontier_and_ranking(page):
    page.goto(page.base + "/?do.shift_type=extreme")
    settled(page)
    page.fill("#decisions-budget", "3")
    page.click("#decisions-run")
    page.wait_for_function("() => document.body.dataset.decisions === '1'", timeout=60_000)
    assert page.locator("#decisions-frontier svg").is_visible()
    body = {"do": {"shift_type": "extreme"}, "budget": 3, "samples": 0}
    expected = api(page, "/api/decisions/portfolios", body)["best"]
    shown = page.locator("#decisions-best")
    assert float(shown.get_attribute("data-p")) == expected["p_harm"]
    assert " + ".join(expected["mitigations"]) in shown.inner_text()
    assert page.locator("#decisions-ranking").inner_text().startswith("What knowing each number")
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(100)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
