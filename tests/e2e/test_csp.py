"""The Content-Security-Policy works with Dash in a real browser (issue #7, point 3).

Headless Debian Chromium loads the public home page, the secretary's start page, the
back-office queue (logged in through the real login form) and the metrics page with the
application's CSP active, and its console (goog:loggingPrefs browser ALL) must report no
CSP violation. A control run with a policy stripped of Dash's script hashes proves that the
console does report violations, so the first check could fail.

Plain Selenium rather than dash_duo: dash_duo only keeps SEVERE entries.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.app import create_app
from dashboard.config import Settings
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import matricule
from dashboard.enrolment.bootstrap import Backend
from dashboard.enrolment.db import make_engine
from tests import factories as f
from tests.conftest import Clock, LiveServer, free_port

pytestmark = pytest.mark.e2e

STAFF_EMAIL = "boss@esante.lu"
STAFF_PASSWORD = "correct horse battery staple"  # tests/factories.reviewer()
CSP_WORDS = ("Content Security Policy", "Content-Security-Policy", "unsafe-eval", "unsafe-inline")


@pytest.fixture
def browser():
    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    options.add_argument("--window-size=1280,1000")
    options.binary_location = shutil.which("chromium")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    yield driver
    driver.quit()


@pytest.fixture
def served(tmp_path, sqlite_template):
    """The app on loopback with: a declared secretary, a case in the queue, a manager who
    is also a reviewer."""
    path = tmp_path / "csp.sqlite3"
    shutil.copy(sqlite_template, path)
    port = free_port()
    settings = Settings(
        env="test",
        database_url=f"sqlite:///{path}",
        base_url=f"http://localhost:{port}",
        secret_key="csp-secret-key-" + "z" * 32,
    )
    clock = Clock(dt.datetime.now(dt.UTC))
    backend = Backend(settings, make_engine(settings.database_url), clock)
    prof = f.professional(backend)
    declared = f.declare(backend, prof)
    f.walk_to(
        backend,
        prof,
        lc.PENDING_REVIEW,
        matricule=matricule.make("19900101", "010"),
        email="laura.weber@example.lu",
        last_name="Weber",
        first_names="Laura",
    )
    f.reviewer(backend, email=STAFF_EMAIL, roles=("reviewer", "manager"))
    yield backend, port, declared.token
    backend.dispose()


def _console(driver) -> list[dict]:
    return driver.get_log("browser")


def _csp_errors(entries) -> list[str]:
    return [e["message"] for e in entries if any(w in e["message"] for w in CSP_WORDS)]


def _wait(driver, css: str, timeout: float = 20) -> None:
    WebDriverWait(driver, timeout).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, css), f"never saw {css}"
    )
    time.sleep(0.5)  # let late callbacks and lazy bundles (Plotly, AG Grid) run


def test_dash_pages_run_under_the_policy_without_any_violation(served, browser):
    backend, port, token = served
    app = create_app(backend.settings, backend=backend)
    seen: dict[str, list[dict]] = {}
    with LiveServer(app.server, port) as live:
        browser.get(f"{live.url}/")
        _wait(browser, "#_pages_content h1")
        seen["home"] = _console(browser)

        browser.get(f"{live.url}/enrolment/invitation/{token}")
        _wait(browser, "#start-button")
        assert browser.current_url.endswith("/enrolment/debut")
        seen["secretary start"] = _console(browser)

        browser.get(f"{live.url}/backoffice/connexion")
        _wait(browser, "#staff-email")
        browser.find_element(By.ID, "staff-email").send_keys(STAFF_EMAIL)
        browser.find_element(By.ID, "staff-password").send_keys(STAFF_PASSWORD)
        browser.find_element(By.ID, "staff-login-submit").click()  # the plain form POST
        _wait(browser, "#queue-grid .ag-row")
        assert "Weber" in browser.find_element(By.ID, "queue-grid").text
        # A quick filter runs the page's clientside callback (an inline, hashed script).
        browser.find_element(By.CSS_SELECTOR, "#queue-quick input").click()
        time.sleep(1)
        seen["back-office queue"] = _console(browser)

        browser.get(f"{live.url}/langue/fr")  # the browser asks for English: choose French
        browser.get(f"{live.url}/backoffice/indicateurs")
        _wait(browser, "#metrics-funnel .main-svg")
        # Plotly's toolbar speaks the page's language (its texts come with the figure), and
        # offers no "Share chart…" to Plotly's cloud.
        titles = [
            b.get_attribute("data-title")
            for b in browser.find_elements(By.CSS_SELECTOR, "#metrics-funnel .modebar-btn")
        ]
        assert {"Télécharger le graphique (PNG)", "Zoomer"} <= set(titles), titles
        assert not [t for t in titles if "Share" in t or "Cloud" in t], titles
        seen["metrics"] = _console(browser)
    violations = {page: _csp_errors(entries) for page, entries in seen.items()}
    assert violations == {page: [] for page in seen}
    severe = {
        page: [e["message"] for e in entries if e["level"] == "SEVERE"]
        for page, entries in seen.items()
    }
    assert severe == {page: [] for page in seen}


def test_control_a_policy_without_dashs_hashes_is_reported_by_the_browser(served, browser):
    """The same check against a policy stripped of the script hashes finds violations:
    the console capture above is able to see them."""
    backend, port, _token = served
    app = create_app(backend.settings, backend=backend)

    @app.server.after_request
    def strip_hashes(response):  # registered last, so it runs before the app's setdefault
        response.headers["Content-Security-Policy"] = "default-src 'self'; script-src 'self'"
        return response

    with LiveServer(app.server, port) as live:
        browser.get(f"{live.url}/")
        time.sleep(2)
        errors = _csp_errors(_console(browser))
    assert errors, "the browser log reports CSP violations"
    assert any("script" in e for e in errors)
