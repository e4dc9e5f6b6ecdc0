"""The secretary's journey in a real browser, from the emailed link to the result.

Each test checks three things: what she sees, what the database holds, and what the
real SMTP server (aiosmtpd) received.
"""

from __future__ import annotations

import re

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import matricule
from dashboard.enrolment.model import Enrolment, LuxTrustIdentity, SecretaryAccount
from dashboard.enrolment.personas import SECRETARIES
from tests import factories as f

MARIE = next(s for s in SECRETARIES if s.key == "marie")
DOCTOR_EMAIL = "dr1@cabinet.lu"  # factories.professional(n=1)
DOCTOR_NAME = "Dr Jean Hoffmann1"  # Professional.display_name of factories.professional(n=1)
LUXTRUST_HEADING = "Vérification de votre identité avec LuxTrust"
MISMATCH_HEADING = "Les données ne correspondent pas entièrement"
EXPIRED_HEADING = "Lien expiré"
INVITATION_SUBJECT = "Créez votre compte eSanté"
ACCOUNT_SUBJECT = "Votre compte eSanté a été créé"
DOCTOR_ACCOUNT_SUBJECT = "Le compte eSanté de votre secrétaire a été créé"


def declare_marie(site) -> int:
    prof = f.professional(site.backend)
    return f.declare(
        site.backend,
        prof,
        last_name=MARIE.last_name,
        first_names=MARIE.first_names,
        matricule=MARIE.matricule,
        email=MARIE.email,
    ).enrolment_id


def state_of(site, enrolment_id) -> str:
    with site.backend.uow() as uow:
        return uow.session.get(Enrolment, enrolment_id).state


def enrolment_row(site, enrolment_id) -> dict:
    """The columns a test looks at, read in a unit of work of its own."""
    with site.backend.uow() as uow:
        e = uow.session.get(Enrolment, enrolment_id)
        return {
            "state": e.state,
            "wrong_matricule_count": e.wrong_matricule_count,
            "account_id": e.account_id,
            "superseded_by_id": e.superseded_by_id,
            "identities": [
                {
                    "subject": i.subject,
                    "matches": i.matches,
                    "kinds": {c["field"]: c["kind"] for c in i.comparison["fields"]},
                }
                for i in uow.session.scalars(
                    select(LuxTrustIdentity)
                    .where(LuxTrustIdentity.enrolment_id == enrolment_id)
                    .order_by(LuxTrustIdentity.id)
                )
            ],
        }


def subjects(site, address: str, total: int) -> list[str]:
    """Subjects received by `address` once the SMTP server holds `total` messages in all."""
    return [m["Subject"] for m in site.mails_to(address, count=total)]


def invitation_links(site, address: str, total: int) -> list[str]:
    """Every invitation link mailed to `address`, oldest first."""
    links = []
    for message in site.mails_to(address, count=total):
        body = message.get_body(("plain",)).get_content()
        found = re.search(r"https?://\S+/enrolment/invitation/\S+", body)
        if found:
            links.append(found.group(0))
    return links


def page_text(duo) -> str:
    return duo.driver.find_element(By.TAG_NAME, "body").text.replace("\u00a0", " ")


def wait_for_path(duo, path: str, timeout: float = 10) -> None:
    WebDriverWait(duo.driver, timeout).until(
        lambda d: d.current_url.split("?")[0].endswith(path),
        f"never reached {path}",
    )


def absent(duo, css: str) -> bool:
    """No element matches `css` now (call once the page has settled on what it shows).

    dash_duo sets a 2 s implicit wait, which every find_elements() for something
    absent would spend; it is lifted for this check only.
    """
    duo.driver.implicitly_wait(0)
    try:
        return not duo.driver.find_elements(By.CSS_SELECTOR, css)
    finally:
        duo.driver.implicitly_wait(2)


def choose(duo, input_id: str) -> None:
    """Tick a checkbox or radio as a person does: by clicking its label."""
    label = duo.driver.find_element(By.CSS_SELECTOR, f"label[for='{input_id}']")
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", label)
    try:
        label.click()
    except Exception:
        duo.driver.save_screenshot("/tmp/e2e-fail.png")
        raise
    assert duo.driver.find_element(By.ID, input_id).is_selected()


def open_link_and_reach_matricule(site, link: str | None = None) -> None:
    duo = site.duo
    duo.driver.get(link or site.invitation_link(MARIE.email))
    duo.wait_for_text_to_equal("#page-heading", "Créer votre compte eSanté")
    assert "/enrolment/invitation/" not in duo.driver.current_url
    duo.find_element("#start-button").click()
    duo.wait_for_text_to_equal("#page-heading", "Conditions Générales d'Utilisation")
    choose(duo, "cgu-accepted")
    duo.find_element("#cgu-submit").click()
    duo.wait_for_text_to_equal("#page-heading", "Vérification de votre matricule")


def open_link_and_reach_luxtrust(site, typed_matricule=MARIE.matricule):
    duo = site.duo
    open_link_and_reach_matricule(site)
    duo.find_element("#matricule-input").send_keys(typed_matricule)
    duo.find_element("#matricule-submit").click()


def simulator_login(site, persona: str, device: str = "mobile") -> None:
    """On the LuxTrust simulator (plain HTML): pick a device and a persona, then submit."""
    duo = site.duo
    duo.wait_for_element(f"#device-{device}")
    choose(duo, f"device-{device}")
    choose(duo, f"persona-{persona}")
    duo.driver.find_element(By.ID, "luxtrust-submit").click()


def luxtrust_login(site, persona: str, device: str = "mobile"):
    duo = site.duo
    duo.wait_for_text_to_equal("#page-heading", LUXTRUST_HEADING)
    duo.find_element("#luxtrust-start").click()
    simulator_login(site, persona, device)


def type_matricule(duo, text: str) -> None:
    field = duo.find_element("#matricule-input")
    duo.clear_input(field)
    field.send_keys(text)
    duo.find_element("#matricule-submit").click()


# --- (a) match ----------------------------------------------------------------------------


def test_match_path_creates_the_account_and_mails_it(site):
    enrolment_id = declare_marie(site)
    open_link_and_reach_luxtrust(site)
    luxtrust_login(site, "marie-louise")
    site.duo.wait_for_text_to_equal("#page-heading", "Votre compte a été créé")
    assert state_of(site, enrolment_id) == lc.ACCOUNT_CREATED
    subjects = [m["Subject"] for m in site.mails_to(MARIE.email, count=2)]
    assert "Votre compte eSanté a été créé" in subjects


# --- (b) mismatch -------------------------------------------------------------------------


def test_mismatch_then_own_device_goes_to_manual_review(site):
    duo = site.duo
    enrolment_id = declare_marie(site)
    open_link_and_reach_luxtrust(site)
    luxtrust_login(site, "marie-typo")

    duo.wait_for_text_to_equal("#page-heading", MISMATCH_HEADING)
    wait_for_path(duo, "/enrolment/appareil")
    assert "dispositif LuxTrust personnel" in page_text(duo)
    # Neither what the professional declared nor what LuxTrust returned is disclosed.
    shown = page_text(duo).lower()
    source = duo.driver.page_source.lower()
    for secret in ("schmit", MARIE.matricule, matricule.format_display(MARIE.matricule)):
        assert secret.lower() not in shown
        assert secret.lower() not in source
    assert state_of(site, enrolment_id) == lc.IDENTITY_MISMATCH

    duo.find_element("#device-yes").click()
    duo.wait_for_contains_text(
        "#result-message",
        "Notre équipe d'identito-vigilance va vérifier votre identité manuellement",
    )
    wait_for_path(duo, "/enrolment/resultat")

    row = enrolment_row(site, enrolment_id)
    assert row["state"] == lc.PENDING_REVIEW
    assert row["account_id"] is None
    [identity] = row["identities"]
    assert identity["matches"] is False
    assert identity["kinds"]["last_name"] == "typo"
    assert identity["subject"] == "sim-marie-typo"
    with site.backend.uow() as uow:  # the identity-vigilance queue
        queue = uow.session.scalars(
            select(Enrolment.id).where(Enrolment.state == lc.PENDING_REVIEW)
        ).all()
        assert queue == [enrolment_id]
        assert uow.session.scalar(select(SecretaryAccount.id)) is None

    got = subjects(site, MARIE.email, total=2)
    assert got == [
        INVITATION_SUBJECT,
        "Votre demande de compte eSanté est en cours de vérification",
    ]
    assert site.smtp.inbox.to(DOCTOR_EMAIL) == []


def test_mismatch_then_not_my_device_retries_luxtrust(site):
    duo = site.duo
    enrolment_id = declare_marie(site)
    open_link_and_reach_luxtrust(site)
    luxtrust_login(site, "marie-typo")
    duo.wait_for_text_to_equal("#page-heading", MISMATCH_HEADING)

    duo.find_element("#device-no").click()
    duo.wait_for_text_to_equal("#page-heading", LUXTRUST_HEADING)
    wait_for_path(duo, "/enrolment/luxtrust")
    assert state_of(site, enrolment_id) == lc.MATRICULE_VERIFIED

    luxtrust_login(site, "marie")
    duo.wait_for_text_to_equal("#page-heading", "Votre compte a été créé")
    assert "votre compte eSanté a été créé" in duo.find_element("#result-message").text

    row = enrolment_row(site, enrolment_id)
    assert row["state"] == lc.ACCOUNT_CREATED
    assert row["account_id"] is not None
    assert [i["matches"] for i in row["identities"]] == [False, True]
    assert [i["subject"] for i in row["identities"]] == ["sim-marie-typo", "sim-marie"]

    assert subjects(site, MARIE.email, total=3) == [INVITATION_SUBJECT, ACCOUNT_SUBJECT]
    assert [m["Subject"] for m in site.smtp.inbox.to(DOCTOR_EMAIL)] == [DOCTOR_ACCOUNT_SUBJECT]


def test_cancel_at_luxtrust_comes_back_with_a_message_and_retry_works(site):
    duo = site.duo
    enrolment_id = declare_marie(site)
    open_link_and_reach_luxtrust(site)
    duo.wait_for_text_to_equal("#page-heading", LUXTRUST_HEADING)
    duo.find_element("#luxtrust-start").click()
    duo.wait_for_element("#luxtrust-cancel")
    duo.driver.find_element(By.ID, "luxtrust-cancel").click()

    duo.wait_for_contains_text("#luxtrust-error", "Vous avez annulé l'authentification LuxTrust")
    duo.wait_for_text_to_equal("#page-heading", LUXTRUST_HEADING)
    wait_for_path(duo, "/enrolment/luxtrust")
    row = enrolment_row(site, enrolment_id)
    assert row["state"] == lc.MATRICULE_VERIFIED
    assert row["identities"] == []

    luxtrust_login(site, "marie")
    duo.wait_for_text_to_equal("#page-heading", "Votre compte a été créé")
    assert state_of(site, enrolment_id) == lc.ACCOUNT_CREATED
    assert subjects(site, MARIE.email, total=3) == [INVITATION_SUBJECT, ACCOUNT_SUBJECT]


# --- (c) wrong matricules -----------------------------------------------------------------

GUIDE_TEXT = "veuillez contacter le médecin vous ayant déclarée"


def test_five_wrong_matricules_lock_the_request_and_warn_both(site):
    duo = site.duo
    enrolment_id = declare_marie(site)
    open_link_and_reach_matricule(site)

    # A malformed matricule: a format message, no attempt spent.
    type_matricule(duo, "1234")
    duo.wait_for_contains_text("#matricule-input-error", "13 chiffres")
    message = duo.find_element("#matricule-input-error").text.replace("\u00a0", " ")
    assert "vous en avez saisi 4" in message
    assert "Tentatives" not in message
    assert enrolment_row(site, enrolment_id)["wrong_matricule_count"] == 0

    # A double click (and Enter) on one wrong value: one attempt, not three.
    field = duo.find_element("#matricule-input")
    duo.clear_input(field)
    field.send_keys(matricule.make("19900101", "001"), Keys.ENTER)
    ActionChains(duo.driver).double_click(duo.find_element("#matricule-submit")).perform()
    duo.wait_for_contains_text("#matricule-input-error", "Tentatives restantes : 4")
    WebDriverWait(duo.driver, 5).until(
        lambda d: d.find_element(By.ID, "matricule-submit").is_enabled()
    )
    assert enrolment_row(site, enrolment_id)["wrong_matricule_count"] == 1

    # The loop starts by typing that same value again: still 4 left, still one attempt.
    for attempt, left in enumerate((4, 3, 2, 1), start=1):
        type_matricule(duo, matricule.make("19900101", f"{attempt:03d}"))
        duo.wait_for_contains_text("#matricule-input-error", f"Tentatives restantes : {left}")
        message = duo.find_element("#matricule-input-error").text.replace("\u00a0", " ")
        assert GUIDE_TEXT in message
        assert "nouvelle déclaration" in message
        assert duo.find_element("#matricule-input").get_attribute("aria-invalid") == "true"
        row = enrolment_row(site, enrolment_id)
        assert (row["state"], row["wrong_matricule_count"]) == (lc.CGU_ACCEPTED, attempt)

    type_matricule(duo, matricule.make("19900101", "005"))
    duo.wait_for_contains_text("#link-problem", "nouvelle déclaration")
    assert "bloquée" in duo.find_element("#link-problem").text
    assert absent(duo, "#matricule-input")
    # What happens next: her doctor was told, and a new link comes with a new declaration.
    following = duo.find_element("#result-next").text
    assert "Nous avons informé votre médecin par email" in following
    assert "nouveau lien" in following

    row = enrolment_row(site, enrolment_id)
    assert (row["state"], row["wrong_matricule_count"]) == (lc.LOCKED, 5)

    # invitation + her "locked" mail + the doctor's "professional_locked" mail
    mine = subjects(site, MARIE.email, total=3)
    assert mine == [INVITATION_SUBJECT, "Votre demande de compte eSanté est bloquée"]
    [doctor_mail] = site.smtp.inbox.to(DOCTOR_EMAIL)
    assert "bloquée" in doctor_mail["Subject"]
    # The doctor's mail is the professional_locked template (addressed to him by name).
    assert DOCTOR_NAME in doctor_mail.get_body(("plain",)).get_content()


# --- (d) expired link ---------------------------------------------------------------------


def test_expired_link_says_so_and_opens_no_step(site):
    duo = site.duo
    enrolment_id = declare_marie(site)
    link = site.invitation_link(MARIE.email)
    site.clock.advance(days=31)

    duo.driver.get(link)
    duo.wait_for_contains_text("#link-problem", "Ce lien a expiré")
    text = duo.find_element("#link-problem").text
    assert "Demandez à votre médecin de vous renvoyer" in text
    duo.wait_for_text_to_equal("#page-heading", EXPIRED_HEADING)
    assert absent(duo, "#start-button")
    assert state_of(site, enrolment_id) == lc.EXPIRED

    for path, field in (
        ("/enrolment/matricule", "matricule-input"),
        ("/enrolment/luxtrust", "luxtrust-start"),
        ("/enrolment/conditions", "cgu-accepted"),
    ):
        duo.driver.get(site.url + path)
        duo.wait_for_contains_text("#link-problem", "Ce lien a expiré")
        assert absent(duo, "#" + field), path
        assert absent(duo, "input"), path

    assert subjects(site, MARIE.email, total=2) == [INVITATION_SUBJECT]  # nothing since
    # The one other mail: the professional is told that her invitation expired unused.
    others = [m["Subject"] for rcpts, m in site.smtp.inbox.messages if MARIE.email not in rcpts]
    assert others == ["L'invitation de votre secrétaire a expiré"]


# --- (e) completed and superseded links ---------------------------------------------------


def test_link_reopened_after_completion_says_the_account_exists(site):
    duo = site.duo
    enrolment_id = declare_marie(site)
    link = site.invitation_link(MARIE.email)
    open_link_and_reach_luxtrust(site)
    luxtrust_login(site, "marie")
    duo.wait_for_text_to_equal("#page-heading", "Votre compte a été créé")

    for fresh_browser in (False, True):  # same browser, then e.g. her phone (no cookie)
        if fresh_browser:
            duo.driver.delete_all_cookies()
        duo.driver.get(link)
        wait_for_path(duo, "/enrolment/resultat")
        duo.wait_for_text_to_equal("#page-heading", "Votre compte a été créé")
        assert "Votre compte" in page_text(duo)
        assert absent(duo, "#start-button")
        assert absent(duo, "#cgu-accepted")
        assert "Conditions Générales" not in page_text(duo)

    assert state_of(site, enrolment_id) == lc.ACCOUNT_CREATED
    with site.backend.uow() as uow:
        assert len(uow.session.scalars(select(SecretaryAccount.id)).all()) == 1
    # Reopening sent nothing more: invitation + account created, + the doctor's mail.
    assert subjects(site, MARIE.email, total=3) == [INVITATION_SUBJECT, ACCOUNT_SUBJECT]
    assert len(site.smtp.inbox.messages) == 3


def test_superseded_link_says_it_was_replaced(site):
    duo = site.duo
    prof = f.professional(site.backend)
    declared = {
        "last_name": MARIE.last_name,
        "first_names": MARIE.first_names,
        "matricule": MARIE.matricule,
        "email": MARIE.email,
    }
    first = f.declare(site.backend, prof, **declared).enrolment_id
    second = f.declare(site.backend, prof, **declared)
    assert second.superseded_id == first
    old_link, new_link = invitation_links(site, MARIE.email, total=2)
    assert old_link != new_link

    duo.driver.get(old_link)
    duo.wait_for_contains_text("#link-problem", "remplacée")
    assert "Utilisez le lien du dernier email reçu" in duo.find_element("#link-problem").text
    assert "Un email plus récent vous a été envoyé" in duo.find_element("#result-next").text
    assert absent(duo, "#start-button")
    row = enrolment_row(site, first)
    assert (row["state"], row["superseded_by_id"]) == (lc.CANCELLED, second.enrolment_id)
    assert state_of(site, second.enrolment_id) == lc.DECLARED

    # The newer link still works in the same browser.
    duo.driver.get(new_link)
    duo.wait_for_text_to_equal("#page-heading", "Créer votre compte eSanté")
    assert len(site.smtp.inbox.to(MARIE.email)) == 2


def test_link_reopened_halfway_resumes_at_her_step(site):
    """She stops after the CGU and comes back later through the emailed link."""
    duo = site.duo
    enrolment_id = declare_marie(site)
    link = site.invitation_link(MARIE.email)
    open_link_and_reach_matricule(site)
    assert state_of(site, enrolment_id) == lc.CGU_ACCEPTED

    duo.driver.get(link)  # same browser: her session already knows the enrolment
    duo.wait_for_text_to_equal("#page-heading", "Vérification de votre matricule")
    wait_for_path(duo, "/enrolment/matricule")
    assert duo.find_element("#matricule-input").is_displayed()
    assert state_of(site, enrolment_id) == lc.CGU_ACCEPTED
    assert subjects(site, MARIE.email, total=1) == [INVITATION_SUBJECT]


# --- (f) keyboard only --------------------------------------------------------------------


def test_matricule_step_with_the_keyboard_only(site):
    duo = site.duo
    enrolment_id = declare_marie(site)
    open_link_and_reach_matricule(site)

    keys = ActionChains(duo.driver)
    for _ in range(40):
        if duo.driver.switch_to.active_element.get_attribute("id") == "matricule-input":
            break
        keys.send_keys(Keys.TAB).perform()
    assert duo.driver.switch_to.active_element.get_attribute("id") == "matricule-input"

    ActionChains(duo.driver).send_keys(matricule.format_display(MARIE.matricule)).send_keys(
        Keys.ENTER
    ).perform()
    duo.wait_for_text_to_equal("#page-heading", LUXTRUST_HEADING)
    wait_for_path(duo, "/enrolment/luxtrust")
    assert state_of(site, enrolment_id) == lc.MATRICULE_VERIFIED
    assert subjects(site, MARIE.email, total=1) == [INVITATION_SUBJECT]


# --- (g) "Mon compte" ---------------------------------------------------------------------


def test_my_account_after_the_match_path(site):
    duo = site.duo
    enrolment_id = declare_marie(site)
    open_link_and_reach_luxtrust(site)
    luxtrust_login(site, "marie-louise")
    duo.wait_for_text_to_equal("#page-heading", "Votre compte a été créé")
    assert state_of(site, enrolment_id) == lc.ACCOUNT_CREATED

    duo.driver.get(site.url + "/mon-compte")
    duo.wait_for_element("#account-login")
    assert "Se connecter avec LuxTrust" in duo.find_element("#account-login").text
    duo.find_element("#account-login").click()
    simulator_login(site, "marie")

    duo.wait_for_text_to_equal("#account-status", "Actif")
    wait_for_path(duo, "/mon-compte")
    duo.wait_for_contains_text("#account-link-open", DOCTOR_NAME)
    assert "Marie" in page_text(duo)
    with site.backend.uow() as uow:
        account = uow.session.scalar(select(SecretaryAccount))
        assert (account.status, account.matricule) == ("active", MARIE.matricule)
    assert subjects(site, MARIE.email, total=3) == [INVITATION_SUBJECT, ACCOUNT_SUBJECT]

    # "Se déconnecter" (a POST with its token) ends her account session.
    duo.find_element("#account-logout").click()
    wait_for_path(duo, "/")
    duo.driver.get(site.url + "/mon-compte")
    duo.wait_for_element("#account-login")
