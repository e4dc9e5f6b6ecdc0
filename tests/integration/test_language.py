"""The language a page is served in: cookie, then Accept-Language, then French; the switch
remembers the choice and goes back; <html lang> follows."""

from __future__ import annotations

import pytest

from dashboard import i18n
from dashboard.app import create_app
from tests import dashclient as dc


@pytest.fixture
def app(sqlite_backend):
    return create_app(sqlite_backend.settings, backend=sqlite_backend)


def _html_lang(response) -> str:
    head = response.get_data(as_text=True)[:300]
    return head.split('<html lang="', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "fr"),
        ("de-LU,de;q=0.9,fr;q=0.8", "de"),
        ("en-GB,en;q=0.9", "en"),
        ("lb-LU,lb;q=0.9,fr;q=0.5", "fr"),  # Luxembourgish: no catalogue, French next
        ("pt-PT,pt;q=0.9", "fr"),  # nothing we speak: French
    ],
)
def test_without_a_choice_the_browser_language_decides(app, accept, expected):
    client = app.server.test_client()
    headers = {"Accept-Language": accept} if accept else {}
    assert _html_lang(client.get("/", headers=headers)) == expected


def test_the_switch_remembers_the_choice_and_goes_back_to_the_page(app):
    client = app.server.test_client()
    back = client.get(
        "/langue/de",
        headers={"Referer": "http://localhost/enrolment/cgu?x=1", "Accept-Language": "en"},
    )
    assert back.status_code == 303
    assert back.headers["Location"] == "/enrolment/cgu?x=1"
    cookie = client.get_cookie("esante_lang")
    assert cookie is not None and cookie.value == "de" and cookie.http_only
    # The cookie wins over the browser's language, on the page and in its callbacks.
    page = client.get("/", headers={"Accept-Language": "en"})
    assert _html_lang(page) == "de"
    layout = str(dc.render_page(client, "/").get_json())
    i18n.set_language("de")
    try:
        german = i18n.gettext("Vous êtes secrétaire médicale ?")
    finally:
        i18n.set_language("fr")
    assert german != "Vous êtes secrétaire médicale ?"  # the catalogue has it
    assert german in layout and "Vous êtes secrétaire médicale ?" not in layout


@pytest.mark.parametrize(
    "referer",
    ["https://evil.example/phish", "//evil.example/x", None, "javascript:alert(1)"],
)
def test_the_switch_never_sends_her_to_another_site(app, referer):
    client = app.server.test_client()
    headers = {"Referer": referer} if referer else {}
    back = client.get("/langue/en", headers=headers)
    assert back.headers["Location"] == "/"


def test_an_unknown_language_is_not_found(app):
    client = app.server.test_client()
    assert client.get("/langue/xx").status_code == 404
    assert client.get_cookie("esante_lang") is None


def test_the_switch_in_the_header_marks_the_current_language(app):
    client = app.server.test_client()
    client.set_cookie("esante_lang", "en")
    layout = client.get("/_dash-layout").get_json()
    links = []

    def walk(node):
        if isinstance(node, dict):
            props = node.get("props", {})
            if "language-link" in str(props.get("className", "")):
                links.append(props)
            for value in props.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(layout)
    assert [link["lang"] for link in links] == list(i18n.LANGUAGES)
    assert [link.get("aria-current") for link in links] == [None, None, "true"]
    assert [link["href"] for link in links] == ["/langue/fr", "/langue/de", "/langue/en"]


# --- each email in the language its reader last used ----------------------------------------


def app_cgu_version(app) -> str:
    return app.server.extensions["esante"].settings.cgu_version


def _outbox(backend) -> list[tuple[str, str, str]]:
    from sqlalchemy import select

    from dashboard.enrolment.model import OutboxEmail

    with backend.uow() as uow:
        return [
            (r.template, r.recipient, r.language)
            for r in uow.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id))
        ]


def _professional_client(app, prof_id: int, lang: str):
    client = app.server.test_client()
    client.set_cookie("esante_lang", lang)
    from tests import factories as f

    return f.signed_in(client, "professional", prof_id)


def test_the_invitation_goes_out_in_the_declaring_professionals_language(app, sqlite_backend):
    from dashboard.enrolment import matricule
    from dashboard.enrolment.model import Professional
    from tests import factories as f

    prof = f.professional(sqlite_backend)
    client = _professional_client(app, prof, "de")
    fields = ("last-name", "first-names", "matricule", "email", "email-confirm", "phone")
    values = ("Weber", "Laura", matricule.make("19900101", "101"), "laura@example.lu")
    values += ("laura@example.lu", "")
    response = dc.call_by_input(
        client,
        "decl-submit",
        [("decl-submit", "n_clicks", 1)],
        [(f"decl-{n}", "value", v) for n, v in zip(fields, values, strict=True)]
        + [("decl-correcting", "data", None)],
    )
    assert response.status_code == 200
    assert ("invitation", "laura@example.lu", "de") in _outbox(sqlite_backend)
    with sqlite_backend.uow() as uow:
        assert uow.session.get(Professional, prof).language == "de"


def test_the_secretarys_emails_follow_the_language_of_her_last_step(app, sqlite_backend):
    from dashboard.enrolment import lifecycle as lc
    from dashboard.enrolment import secretary
    from dashboard.enrolment.model import Enrolment
    from tests import factories as f

    prof = f.professional(sqlite_backend)
    eid, token_hash = f.walk_to(sqlite_backend, prof, lc.DECLARED)
    client = app.server.test_client()
    client.set_cookie("esante_lang", "en")
    f.signed_in(client, "enrolment", eid, token_hash=token_hash)
    response = dc.call_by_input(
        client,
        "cgu-submit",
        [("cgu-submit", "n_clicks", 1)],
        [("cgu-accepted", "value", True), ("cgu-version", "data", app_cgu_version(app))],
    )
    assert response.status_code == 200
    with sqlite_backend.uow() as uow:
        assert uow.session.get(Enrolment, eid).language == "en"
    # Later mails to her (written by the system, whoever triggers them) are in English.
    with sqlite_backend.uow() as uow:
        secretary.verify_matricule(uow, token_hash, f.MARIE["matricule"])
    with sqlite_backend.uow() as uow:
        secretary.record_luxtrust_identity(uow, token_hash, f.identity_of())
    f.provision(sqlite_backend)
    sent = _outbox(sqlite_backend)
    assert ("account_created", f.MARIE["email"], "en") in sent


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fr", "valable jusqu'au 31 mars 2026"), ("de", "31. März 2026"), ("en", "31 March 2026")],
)
def test_the_invitation_date_is_written_as_its_reader_writes_dates(
    sqlite_backend, clock, language, expected
):
    import datetime as dt

    from dashboard.enrolment import declarations, mail
    from dashboard.enrolment.model import OutboxEmail
    from tests import factories as f

    clock.now = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)  # + 30 days: 31 March
    prof = f.professional(sqlite_backend)
    with sqlite_backend.uow() as uow:
        declarations.declare(uow, prof, language=language, **f.MARIE)
    with sqlite_backend.uow() as uow:
        from sqlalchemy import select

        row = uow.session.scalars(select(OutboxEmail)).one()
        assert expected in mail.render(row, uow.settings).text


@pytest.mark.parametrize(
    ("lang", "zoom", "january", "sunday"),
    [("fr", "Zoomer", "janvier", "dimanche"), ("de", "Zoomen", "Januar", "Sonntag")],
)
def test_the_charts_speak_the_page_language(app, sqlite_backend, lang, zoom, january, sunday):
    """Plotly's toolbar and date axes are English unless told: the metrics page tells them."""
    from tests import factories as f

    manager = f.reviewer(sqlite_backend, "manager@esante.lu", roles=("manager",))
    client = app.server.test_client()
    client.set_cookie("esante_lang", lang)
    f.signed_in(client, "staff", manager)
    page = dc.render_page(client, "/backoffice/indicateurs").get_json()
    configs = [c["props"]["config"] for c in dc.components(page) if c["type"] == "Graph"]
    assert len(configs) == 6  # with the ended-access chart (issue 20)
    for config in configs:
        assert config["locale"] == lang and config["displaylogo"] is False
        texts = config["locales"][lang]
        assert texts["dictionary"]["Zoom"] == zoom
        assert texts["format"]["months"][0] == january
        assert texts["format"]["days"][0] == sunday  # Plotly's weeks start on Sunday
