"""End-to-end: the page in a real headless Chromium (Debian's, driven by Playwright; no browser
download). The numbers the page shows must equal the API's."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

pytest.importorskip("fastapi", reason="the web page needs fastapi: pip install 'gmnet[web]'")
pytest.importorskip("playwright", reason="the browser tests need playwright: make test installs it")

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from gmnet.web import create_app  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
MITIGATIONS = ("adversarial_training", "objective_specification", "interpretability_verification",
               "behavior_monitoring", "objective_probing", "anomaly_detection", "ai_control",
               "emergency_shutdown", "human_override")
ALL_OFF = {m: "off" for m in MITIGATIONS}


@pytest.fixture(scope="module")
def base_url():
    """The app on uvicorn in a background thread, on a free loopback port."""
    app = create_app()
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
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Debian's chromium is not installed ({CHROMIUM} is missing); `make test` "
                    "installs it (its system-deps target: apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


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
    expected = api(page, "/api/query", {"do": ALL_OFF})["probability"]
    assert value == expected and text == f"{100 * expected:.2f}%"

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
    assert value == expected and text == f"{100 * expected:.2f}%"
    # the diagram shows the same number on the harm node
    assert f"{expected:.1%}" in page.locator("#diagram g.node[data-node=harm]").text_content()
    # the comparison chart: its highlighted row is AI control alone, with the API's number
    comparison = api(page, "/api/compare", {"scenario": ["autonomous_agents"],
                                            "do": {"shift_type": "extreme"},
                                            "context": "prior"})
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
