"""Browser tests: the real app served on loopback, driven in headless Debian Chromium.

WebDriver reads an element's text with its no-break spaces as plain spaces: the French
texts expected here are written with plain spaces (the pages themselves have U+00A0)."""

from __future__ import annotations

import re
import shutil

import pytest

from dashboard.app import create_app
from dashboard.enrolment import mail
from dashboard.enrolment.bootstrap import Backend
from dashboard.enrolment.db import make_engine
from tests.conftest import Clock, free_port

HAVE_BROWSER = bool(shutil.which("chromedriver") and shutil.which("chromium"))

pytestmark = pytest.mark.e2e


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath) and not HAVE_BROWSER:
            item.add_marker(pytest.mark.skip(reason="chromium/chromedriver not installed"))


class Site:
    """The served app, its backend and its real SMTP server, as a browser test sees them."""

    def __init__(self, dash_duo, backend: Backend, smtp_server, clock: Clock):
        self.duo = dash_duo
        self.backend = backend
        self.smtp = smtp_server
        self.clock = clock
        self.transport = mail.SmtpTransport.from_url(smtp_server.url)

    @property
    def url(self) -> str:
        return self.backend.settings.base_url

    def deliver_mail(self) -> None:
        # The workers' two dispatchers: the identity platform (here the backend's embedded
        # directory) confirms the accounts, whose emails are queued only then; mail goes.
        self.backend.deliver_provisioning()
        self.backend.deliver_mail(self.transport)

    def mails_to(self, address: str, count: int = 1, timeout: float = 10.0):
        self.deliver_mail()
        self.smtp.inbox.wait_for(count, timeout)
        return self.smtp.inbox.to(address)

    def invitation_link(self, address: str) -> str:
        [*_, message] = self.mails_to(address)
        body = message.get_body(("plain",)).get_content()
        return re.search(r"https?://\S+/enrolment/invitation/\S+", body).group(0)


def _served(dash_duo, tmp_path, sqlite_template, smtp_server, **settings_extra) -> Site:
    """The app on a copy of the migrated SQLite file, served on a free loopback port."""
    import datetime as dt

    from dashboard.config import Settings

    path = tmp_path / "e2e.sqlite3"
    shutil.copy(sqlite_template, path)
    port = free_port()
    settings = Settings(
        env="test",
        database_url=f"sqlite:///{path}",
        base_url=f"http://localhost:{port}",
        secret_key="e2e-secret-key-" + "y" * 32,
        smtp_url=smtp_server.url,
        **settings_extra,
    )
    clock = Clock()
    clock.now = dt.datetime.now(dt.UTC)
    backend = Backend(settings, make_engine(settings.database_url), clock)
    app = create_app(settings, backend=backend)
    dash_duo.start_server(app, port=port)
    dash_duo.driver.set_window_size(1280, 1000)
    return Site(dash_duo, backend, smtp_server, clock)


@pytest.fixture
def site(dash_duo, tmp_path, sqlite_template, smtp_server):
    served = _served(dash_duo, tmp_path, sqlite_template, smtp_server)
    yield served
    served.backend.dispose()


def pytest_setup_options():
    """Chromium as a French-speaking secretary's browser (its Accept-Language picks the
    pages' language); tests of other languages use the language switch."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.add_argument("--lang=fr-FR")
    options.add_argument("--accept-lang=fr-FR,fr")
    # Bootstrap scrolls smoothly unless motion is reduced; WebDriver's scroll-then-click
    # would otherwise click mid-animation, where the element is not yet.
    options.add_argument("--force-prefers-reduced-motion")
    return options


@pytest.fixture
def scim_site(dash_duo, tmp_path, sqlite_template, smtp_server, scim_server):
    """`site`, but the app's identity platform is a real SCIM server process (scim2-server,
    tests/scim_server.py) instead of the embedded directory: SCIM_URL and SCIM_TOKEN set.
    `Site.scim` is that server, for the test to look at what the directory holds."""
    from tests.scim_server import TOKEN

    served = _served(
        dash_duo, tmp_path, sqlite_template, smtp_server, scim_url=scim_server.url, scim_token=TOKEN
    )
    assert not served.backend.settings.uses_embedded_directory
    served.scim = scim_server
    yield served
    served.backend.dispose()
