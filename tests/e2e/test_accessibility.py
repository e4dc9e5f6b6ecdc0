"""WCAG 2.1 AA, checked by axe-core (npm) in headless Chromium, on every secretary and
professional page, each step and each error state; then the same pages on a phone
(360 × 640 CSS pixels).

axe-core comes from `node_modules/axe-core` (`npm ci`, done by `make test`); its script is
injected through WebDriver, which the page's Content-Security-Policy does not govern.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.config import PROJECT_ROOT
from dashboard.enrolment import matricule
from tests import factories as f
from tests.e2e.test_professional_journey import log_in
from tests.e2e.test_secretary_journey import MARIE, choose, declare_marie, wait_for_path

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}


def axe_violations(duo) -> list[dict]:
    """axe-core's violations on the page as it is now (WCAG 2.1 A/AA rules)."""
    driver = duo.driver
    if not driver.execute_script("return typeof window.axe !== 'undefined'"):
        driver.execute_script(Path(AXE).read_text())
    driver.set_script_timeout(30)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(JSON.stringify(r.violations)))"
        ".catch(e => done(JSON.stringify([{id: 'axe-error', impact: 'critical',"
        " help: String(e), nodes: []}])));",
        WCAG_TAGS,
    )
    return json.loads(result)


def summary(violations: list[dict]) -> list[str]:
    return [
        f"{v['impact']}: {v['id']} ({len(v['nodes'])}×) {v['help']} — "
        + "; ".join(n["target"][0] if n.get("target") else "?" for n in v["nodes"][:3])
        for v in violations
    ]


class Audit:
    """Checks page after page, keeping every page's counts for the report."""

    def __init__(self, duo):
        self.duo = duo
        self.counts: dict[str, dict[str, int]] = {}
        self.blocking: dict[str, list[str]] = {}

    def check(self, name: str) -> None:
        self.duo.wait_for_element("h1")
        name = f"{name} [{self.duo.driver.execute_script('return document.documentElement.lang')}]"
        found = axe_violations(self.duo)
        by_impact: dict[str, int] = {}
        for v in found:
            by_impact[v["impact"]] = by_impact.get(v["impact"], 0) + len(v["nodes"])
        self.counts[name] = by_impact
        serious = [v for v in found if v["impact"] in BLOCKING]
        if serious:
            self.blocking[name] = summary(serious)

    def report(self, capsys) -> None:
        with capsys.disabled():
            print("\naxe-core (WCAG 2.1 AA) violations per page, by impact:")
            for name, counts in self.counts.items():
                print(f"  {name}: {counts or 'none'}")


@pytest.fixture
def audit(site):
    if not AXE.exists():
        pytest.skip("axe-core not installed: run `npm ci` (make test does)")
    return Audit(site.duo)


HEADING_JS = "const h = document.getElementById('page-heading'); return h ? h.textContent : null;"


def _wait_heading_change(duo, before: str) -> None:
    WebDriverWait(duo.driver, 10).until(
        lambda d: d.execute_script(HEADING_JS) not in (None, before), "the page did not change"
    )


def _heading(duo) -> str:
    return duo.driver.execute_script(HEADING_JS)


@pytest.mark.parametrize("language", ["fr", "de", "en"])
def test_every_secretary_page_and_error_state_passes_axe(site, audit, capsys, language):
    duo = site.duo
    declare_marie(site)
    duo.driver.get(site.url + "/healthz")
    duo.driver.add_cookie({"name": "esante_lang", "value": language, "path": "/"})
    duo.driver.get(site.invitation_link(MARIE.email))
    assert duo.driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == language
    audit.check("secretary: start")
    before = _heading(duo)
    duo.find_element("#start-button").click()
    _wait_heading_change(duo, before)
    audit.check("secretary: CGU")
    duo.find_element("#cgu-submit").click()  # not ticked: the error state
    duo.wait_for_element("#cgu-accepted-error")
    duo.wait_for_contains_text("#cgu-accepted-error", " ")
    audit.check("secretary: CGU, not ticked")
    choose(duo, "cgu-accepted")
    before = _heading(duo)
    duo.find_element("#cgu-submit").click()
    _wait_heading_change(duo, before)
    audit.check("secretary: matricule")
    field = duo.find_element("#matricule-input")
    field.send_keys("12345")
    duo.find_element("#matricule-submit").click()
    duo.wait_for_contains_text("#matricule-input-error", " ")
    audit.check("secretary: matricule, badly formed")
    wrong = matricule.make("19850412", "999")
    duo.clear_input(field)
    field.send_keys(wrong)
    duo.find_element("#matricule-submit").click()
    duo.wait_for_contains_text("#matricule-input-error", "4")  # attempts left
    audit.check("secretary: matricule, not the declared one")
    duo.clear_input(field)
    field.send_keys(MARIE.matricule)
    before = _heading(duo)
    duo.find_element("#matricule-submit").click()
    _wait_heading_change(duo, before)
    audit.check("secretary: LuxTrust")
    duo.find_element("#luxtrust-start").click()
    duo.wait_for_element("#luxtrust-submit")
    audit.check("LuxTrust simulator")
    choose(duo, "device-mobile")
    choose(duo, "persona-marie-typo")
    duo.driver.find_element(By.ID, "luxtrust-submit").click()
    wait_for_path(duo, "/enrolment/appareil")
    audit.check("secretary: own device confirmation")
    before = _heading(duo)
    duo.find_element("#device-yes").click()
    _wait_heading_change(duo, before)
    audit.check("secretary: result, manual review")
    # A dead link, in a fresh browser.
    duo.driver.delete_all_cookies()
    duo.driver.get(site.url + "/enrolment/invitation/" + "x" * 43)
    audit.check("secretary: unknown link")
    duo.driver.get(site.url + "/mon-compte")
    audit.check("secretary: my account, login")
    duo.driver.get(site.url + "/")
    audit.check("home")
    audit.report(capsys)
    assert audit.blocking == {}


@pytest.mark.parametrize("language", ["fr", "de", "en"])
def test_every_professional_page_and_error_state_passes_axe(site, audit, capsys, language):
    duo = site.duo
    f.professional(site.backend, 1, luxtrust_subject="demo-professional-1")
    f.declare(site.backend, 1)  # a declaration in his list: the grid, and the cards below
    duo.driver.get(site.url + "/healthz")
    duo.driver.add_cookie({"name": "esante_lang", "value": language, "path": "/"})
    duo.driver.get(site.url + "/professionnel/connexion")
    audit.check("professional: login")
    duo.driver.get(site.url + "/professionnel/connexion?erreur=inconnu_pro")
    audit.check("professional: login, unknown identity")
    log_in(site)
    wait_for_path(duo, "/professionnel")
    duo.wait_for_element(".ag-root")
    audit.check("professional: my declarations")
    phone(duo)  # the cards instead of the grid
    duo.driver.refresh()
    duo.wait_for_element("h1")
    audit.check("professional: my declarations as cards, on a phone")
    duo.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    duo.driver.get(site.url + "/professionnel/declarer")
    duo.wait_for_element("#decl-submit")
    audit.check("professional: declare")
    duo.find_element("#decl-submit").click()
    duo.wait_for_contains_text("#decl-summary", " ")
    # Summarised at the top: each field's error, a link to the field; focus on the first.
    WebDriverWait(duo.driver, 5).until(
        lambda d: len(form_state(duo, "decl-last-name")["summary_links"]) >= 4
    )
    state = form_state(duo, "decl-last-name")
    assert state["summary_links"][0] == ["#decl-last-name", state["error"]]
    assert state["focused"] and state["summary_before_field"]
    audit.check("professional: declare, every field missing")
    audit.report(capsys)
    assert audit.blocking == {}


# --- on a phone: 360 × 640 CSS pixels ------------------------------------------------------------

PHONE_CHECK_JS = """
const width = window.innerWidth;
const problems = [];
if (document.documentElement.scrollWidth > width + 1) {
  problems.push('horizontal scroll: ' + document.documentElement.scrollWidth + ' > ' + width);
}
const targets = document.querySelectorAll(
  'button, a.btn, .language-link, input:not([type=hidden]):not([type=checkbox]):not([type=radio]),'
  + ' select, textarea, .form-check, [role=button]');
for (const el of targets) {
  const r = el.getBoundingClientRect();
  const style = getComputedStyle(el);
  if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') { continue; }
  if (r.height < 44 || r.width < 44) {
    problems.push('small target ' + Math.round(r.width) + 'x' + Math.round(r.height) + ': '
      + (el.id || el.className || el.tagName) + ' ' + (el.textContent || '').trim().slice(0, 30));
  }
  if (r.right > width + 1) { problems.push('beyond the screen: ' + (el.id || el.tagName)); }
}
return problems;
"""


def phone(duo) -> None:
    duo.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 360, "height": 640, "deviceScaleFactor": 2, "mobile": True},
    )


def press(duo, css: str) -> None:
    """Tap a button as on a phone: scrolled into view first (the screen is short)."""
    element = duo.find_element(css)
    # behavior "instant": Bootstrap makes scrolling smooth, and a click mid-scroll misses.
    duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element
    )
    element.click()


def phone_problems(duo) -> list[str]:
    duo.wait_for_element("h1")
    return duo.driver.execute_script(PHONE_CHECK_JS)


def test_the_secretary_pages_work_on_a_phone(site):
    duo = site.duo
    phone(duo)
    declare_marie(site)
    problems = {}
    duo.driver.get(site.invitation_link(MARIE.email))
    problems["start"] = phone_problems(duo)
    before = _heading(duo)
    press(duo, "#start-button")
    _wait_heading_change(duo, before)
    problems["CGU"] = phone_problems(duo)
    press(duo, "#cgu-submit")
    duo.wait_for_contains_text("#cgu-accepted-error", " ")
    problems["CGU, error"] = phone_problems(duo)
    choose(duo, "cgu-accepted")
    before = _heading(duo)
    press(duo, "#cgu-submit")
    _wait_heading_change(duo, before)
    field = duo.find_element("#matricule-input")
    # The numeric keypad on phones, without the spinner of type=number.
    assert field.get_attribute("inputmode") == "numeric"
    assert field.get_attribute("type") == "text"
    problems["matricule"] = phone_problems(duo)
    field.send_keys("12345")
    press(duo, "#matricule-submit")
    duo.wait_for_contains_text("#matricule-input-error", " ")
    problems["matricule, error"] = phone_problems(duo)
    duo.clear_input(field)
    field.send_keys(MARIE.matricule)
    before = _heading(duo)
    press(duo, "#matricule-submit")
    _wait_heading_change(duo, before)
    problems["LuxTrust"] = phone_problems(duo)
    press(duo, "#luxtrust-start")
    duo.wait_for_element("#luxtrust-submit")
    choose(duo, "device-mobile")
    choose(duo, "persona-marie-typo")
    press(duo, "#luxtrust-submit")
    wait_for_path(duo, "/enrolment/appareil")
    problems["own device"] = phone_problems(duo)
    before = _heading(duo)
    press(duo, "#device-yes")
    _wait_heading_change(duo, before)
    problems["result"] = phone_problems(duo)
    assert {page: found for page, found in problems.items() if found} == {}


# --- errors tied, announced, summarised, focused; where she is; a title per step ----------------

FORM_STATE_JS = """
const field = document.getElementById(arguments[0]);
const error = document.getElementById(arguments[0] + '-error');
const summary = document.getElementById('error-summary');
const links = summary ? [...summary.querySelectorAll('a')] : [];
const current = document.querySelector('[aria-current="step"]');
return {
  describedby: (field.getAttribute('aria-describedby') || '').split(' '),
  invalid: field.getAttribute('aria-invalid'),
  focused: document.activeElement === field,
  live: error.getAttribute('aria-live') || error.getAttribute('role'),
  error: error.textContent.trim(),
  summary_shown: !!summary && !summary.hidden,
  summary_links: links.map(a => [a.getAttribute('href'), a.textContent.trim()]),
  summary_before_field: !!summary && !!(summary.compareDocumentPosition(field)
    & Node.DOCUMENT_POSITION_FOLLOWING),
  step: current ? current.textContent : null,
  title: document.title,
};
"""


def form_state(duo, field_id: str) -> dict:
    return duo.driver.execute_script(FORM_STATE_JS, field_id)


def test_errors_are_tied_announced_summarised_and_focused(site):
    duo = site.duo
    declare_marie(site)
    duo.driver.get(site.invitation_link(MARIE.email))
    duo.wait_for_element("#start-button")
    titles = [duo.driver.title]
    before = _heading(duo)
    duo.find_element("#start-button").click()
    _wait_heading_change(duo, before)
    titles.append(duo.driver.title)
    duo.find_element("#cgu-submit").click()
    duo.wait_for_contains_text("#cgu-accepted-error", " ")
    WebDriverWait(duo.driver, 5).until(lambda d: form_state(duo, "cgu-accepted")["summary_shown"])
    cgu = form_state(duo, "cgu-accepted")
    assert "cgu-accepted-error" in cgu["describedby"] and cgu["invalid"] == "true"
    assert cgu["focused"] and cgu["live"] in ("assertive", "alert")
    assert cgu["summary_links"] == [["#cgu-accepted", cgu["error"]]]
    assert cgu["summary_before_field"]
    assert "1" in cgu["step"]  # "Conditions", the first step, is the current one
    choose(duo, "cgu-accepted")
    before = _heading(duo)
    duo.find_element("#cgu-submit").click()
    _wait_heading_change(duo, before)
    titles.append(duo.driver.title)
    assert form_state(duo, "matricule-input")["summary_shown"] is False  # no error yet
    duo.find_element("#matricule-input").send_keys("123")
    duo.find_element("#matricule-submit").click()
    duo.wait_for_contains_text("#matricule-input-error", " ")
    WebDriverWait(duo.driver, 5).until(
        lambda d: form_state(duo, "matricule-input")["summary_links"]
    )
    state = form_state(duo, "matricule-input")
    assert state["focused"] and state["invalid"] == "true"
    assert "matricule-input-help" in state["describedby"]
    assert state["summary_links"] == [["#matricule-input", state["error"]]]
    assert "2" in state["step"]
    # Each step its own title (the browser tab, and what a screen reader reads first).
    assert len(set(titles)) == len(titles), titles
    # Corrected: the error and its summary go away.
    field = duo.find_element("#matricule-input")
    duo.clear_input(field)
    field.send_keys(MARIE.matricule)
    before = _heading(duo)
    duo.find_element("#matricule-submit").click()
    _wait_heading_change(duo, before)
    assert duo.driver.execute_script(
        "const s = document.getElementById('error-summary'); return !s || s.hidden;"
    )
