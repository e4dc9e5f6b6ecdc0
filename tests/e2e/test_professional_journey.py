"""The health professional's journey in a real browser: LuxTrust login at the simulator,
declaring a secretary, resending and cancelling her invitation, logging out.

What he sees is checked in the browser, what the database holds through the backend, and
what left the application at the real SMTP server (aiosmtpd).
"""

from __future__ import annotations

import re

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from dashboard.enrolment import declarations, kernel, matricule, secretary
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.errors import InvalidLink
from dashboard.enrolment.model import Enrolment
from tests import factories as f

SECRETARY = {
    "last_name": "Kremer",
    "first_names": "Isabelle",
    "matricule": matricule.make("19880617", "042"),
    "email": "isabelle.kremer@example.lu",
}
DOCTOR_NAME = "Dr Jean Hoffmann1"  # Professional.display_name of factories.professional(n=1)
LIST_HEADING = "Mes déclarations"
START_HEADING = "Créer votre compte eSanté"


# --- helpers ------------------------------------------------------------------------------------


def wait_until(duo, condition, message: str, timeout: float = 10):
    return WebDriverWait(duo.driver, timeout).until(condition, message)


def wait_for_path(duo, path: str) -> None:
    wait_until(duo, lambda d: d.current_url.split("?")[0].endswith(path), f"never reached {path}")


def choose(duo, input_id: str) -> None:
    """Tick a radio as a person does: by clicking its label."""
    label = duo.driver.find_element(By.CSS_SELECTOR, f"label[for='{input_id}']")
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", label)
    label.click()
    assert duo.driver.find_element(By.ID, input_id).is_selected()


def log_in(site, persona: str = "pro-1", device: str = "smartcard") -> None:
    """From the professionals' login page through the LuxTrust simulator."""
    duo = site.duo
    duo.driver.get(site.url + "/professionnel/connexion")
    duo.wait_for_element("#pro-login").click()
    duo.wait_for_element(f"#device-{device}")
    choose(duo, f"device-{device}")
    choose(duo, f"persona-{persona}")
    duo.driver.find_element(By.ID, "luxtrust-submit").click()


def log_in_and_reach_the_list(site) -> None:
    duo = site.duo
    log_in(site)
    wait_for_path(duo, "/professionnel")
    duo.wait_for_contains_text("h1", LIST_HEADING)
    duo.wait_for_contains_text("#_pages_content", DOCTOR_NAME)


def fill(duo, element_id: str, text: str) -> None:
    field = duo.find_element(f"#{element_id}")
    duo.clear_input(field)
    field.send_keys(text)


def grid_cell(duo, text: str):
    """The AG Grid cell of the "Secrétaire" column showing `text`."""
    xpath = (
        "//div[contains(@class,'ag-cell') and @col-id='secretary']"
        f"[contains(normalize-space(.), '{text}')]"
    )
    return wait_until(
        duo, lambda d: d.find_element(By.XPATH, xpath), f"no grid row for {text}", timeout=15
    )


def select_row(duo, text: str) -> None:
    """Select the row as he does: click the text in its cell; the actions become usable."""
    cell = grid_cell(duo, text)
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
    cell.click()
    wait_until(
        duo,
        lambda d: d.find_element(By.ID, "decl-resend").is_enabled(),
        "selecting the row did not enable « Renvoyer l'invitation »",
    )


def row_state(duo, text: str) -> str:
    cell = grid_cell(duo, text)
    row = cell.find_element(By.XPATH, "./ancestor::div[contains(@class,'ag-row')]")
    return row.find_element(By.CSS_SELECTOR, "[col-id='state_display']").text


def invitation_links(site, address: str, total: int) -> list[str]:
    """Every invitation link mailed to `address`, oldest first, once `total` mails arrived."""
    links = []
    for message in site.mails_to(address, count=total):
        body = message.get_body(("plain",)).get_content()
        found = re.search(r"https?://\S+/enrolment/invitation/\S+", body)
        if found:
            links.append(found.group(0))
    return links


def the_enrolment(site) -> Enrolment:
    with site.backend.uow() as uow:
        return uow.session.scalars(select(Enrolment)).one()


def link_problem(site, link: str) -> str | None:
    """Why the service refuses this emailed link (None: it still works); writes nothing."""
    token = link.rsplit("/", 1)[1]
    with site.backend.uow() as uow:
        try:
            secretary.check_invitation(uow, token)
        except InvalidLink as exc:
            return exc.reason
    return None


def open_as_the_secretary(site, link: str) -> None:
    """She opens her link in her own browser: no cookie of his goes with it."""
    site.duo.driver.delete_all_cookies()
    site.duo.driver.get(link)


# --- the journey -------------------------------------------------------------------------------


def test_professional_declares_resends_and_cancels(site):
    duo = site.duo
    f.professional(site.backend, 1, luxtrust_subject="demo-professional-1")

    # 1. LuxTrust login at the simulator lands on his (empty) list.
    log_in_and_reach_the_list(site)

    # 2. He declares his secretary; a wrong second email is caught at the field first.
    duo.find_element("#pro-declare-link").click()
    duo.wait_for_text_to_equal("#page-heading", "Déclarer une secrétaire médicale")
    fill(duo, "decl-last-name", SECRETARY["last_name"])
    fill(duo, "decl-first-names", SECRETARY["first_names"])
    fill(duo, "decl-matricule", matricule.format_display(SECRETARY["matricule"]))
    fill(duo, "decl-email", SECRETARY["email"])
    fill(duo, "decl-email-confirm", "isabelle.kramer@example.lu")
    duo.find_element("#decl-submit").click()
    duo.wait_for_contains_text("#decl-email-confirm-error", "ne sont pas identiques")
    assert "is-invalid" in duo.find_element("#decl-email-confirm").get_attribute("class")
    assert duo.find_element("#decl-result").text == ""
    with site.backend.uow() as uow:
        assert uow.session.scalars(select(Enrolment)).all() == []
    fill(duo, "decl-email-confirm", SECRETARY["email"])
    duo.find_element("#decl-submit").click()
    duo.wait_for_contains_text("#decl-result", "La déclaration a été enregistrée.")
    assert f"Invitation envoyée à {SECRETARY['email']}" in duo.find_element("#decl-result").text
    # The confirmation replaces the form (tests/e2e/test_professional_daily.py).
    assert not duo.find_element("#decl-submit").is_displayed()
    assert duo.find_element("#decl-email-confirm-error").text == ""
    enrolment = the_enrolment(site)
    assert (enrolment.state, enrolment.declared_matricule) == (lc.DECLARED, SECRETARY["matricule"])

    # 3. The invitation reaches the real SMTP server.
    [first_link] = invitation_links(site, SECRETARY["email"], total=1)

    # 4. Back on his list he resends the invitation.
    duo.find_element("#_pages_content a[href='/professionnel']").click()
    duo.wait_for_contains_text("h1", LIST_HEADING)
    assert row_state(duo, "Isabelle Kremer") == "Invitation envoyée"
    assert not duo.find_element("#decl-resend").is_enabled()
    select_row(duo, "Isabelle Kremer")
    duo.find_element("#decl-resend").click()
    duo.wait_for_contains_text("#decl-action-message", "Une nouvelle invitation a été envoyée")
    assert SECRETARY["email"] in duo.find_element("#decl-action-message").text

    # 5. A second invitation arrives, with another link.
    first, second_link = invitation_links(site, SECRETARY["email"], total=2)
    assert first == first_link and second_link != first_link

    # 6. The old link is dead; in her browser the new one opens the start page. (What her
    #    browser shows for a dead link: test_her_dead_links_say_why_in_her_browser.)
    assert link_problem(site, first_link) == "unknown"
    assert link_problem(site, second_link) is None
    open_as_the_secretary(site, second_link)
    duo.wait_for_text_to_equal("#page-heading", START_HEADING)
    assert the_enrolment(site).state == lc.DECLARED  # opening the link changes nothing

    # 7. He logs in again and cancels (after the confirmation dialog).
    duo.driver.delete_all_cookies()
    log_in_and_reach_the_list(site)
    select_row(duo, "Isabelle Kremer")
    duo.find_element("#decl-cancel").click()
    alert = wait_until(duo, EC.alert_is_present(), "no confirmation dialog")
    assert "Annuler cette déclaration" in alert.text
    duo.driver.switch_to.alert.accept()
    duo.wait_for_contains_text("#decl-action-message", "La déclaration a été annulée")
    wait_until(
        duo, lambda d: row_state(duo, "Isabelle Kremer") == "Annulée", "row not shown cancelled"
    )
    assert the_enrolment(site).state == lc.CANCELLED

    # 8. Her newest link is now refused as cancelled.
    assert link_problem(site, second_link) == lc.CANCELLED
    assert link_problem(site, first_link) == "unknown"
    # Nothing else was mailed: two invitations, no mail about the cancellation.
    assert len(site.smtp.inbox.to(SECRETARY["email"])) == 2


def test_logout_ends_his_session(site):
    duo = site.duo
    prof = f.professional(site.backend, 1, luxtrust_subject="demo-professional-1")
    f.declare(site.backend, prof, **SECRETARY)
    log_in_and_reach_the_list(site)
    grid_cell(duo, "Isabelle Kremer")
    duo.find_element("#pro-logout").click()
    wait_for_path(duo, "/professionnel/connexion")
    duo.wait_for_element("#pro-login")
    duo.driver.get(site.url + "/professionnel")
    duo.wait_for_element("#access-denied")
    assert "Accès refusé" in duo.find_element("#access-denied").text
    assert "Isabelle" not in duo.driver.find_element(By.TAG_NAME, "body").text


def test_an_unregistered_identity_is_told_so_in_french(site):
    duo = site.duo
    f.professional(site.backend, 1, luxtrust_subject="demo-professional-1")
    log_in(site, persona="pro-2")  # a demo professional the agency has not registered
    wait_for_path(duo, "/professionnel/connexion")
    duo.wait_for_contains_text(
        "#pro-login-error", "n'est pas enregistrée comme professionnel de santé"
    )
    duo.driver.get(site.url + "/professionnel")
    duo.wait_for_element("#access-denied")


NO_ROWS_BUG = (
    "dashboard/pages/professional_home.py layout(): the empty list should say « Aucune "
    "déclaration pour l'instant. » but shows AG Grid's English « No Rows To Show »: "
    "dash-ag-grid refuses the string dashGridOptions.overlayNoRowsTemplate (an HTML template) "
    "unless dangerously_allow_code is set, and logs « Blocked a string that AG Grid would "
    "evaluate, to prevent XSS attacks ». The French text belongs in "
    "dashGridOptions.localeText.noRowsToShow, which is plain text."
)


def test_an_empty_list_says_so_in_french(site):
    duo = site.duo
    f.professional(site.backend, 1, luxtrust_subject="demo-professional-1")
    log_in_and_reach_the_list(site)
    wait_until(
        duo,
        lambda d: (
            "Aucune déclaration pour l'instant." in d.find_element(By.ID, "declarations-grid").text
        ),
        f"the empty grid says: {duo.find_element('#declarations-grid').text!r}",
        timeout=5,
    )
    assert "No Rows To Show" not in duo.find_element("#declarations-grid").text


REDIRECT_BUG = (
    "dashboard/components.py redirect() (used by callbacks/enrolment.py guard_step()) and "
    "dashboard/pages/professional_login.py layout() return "
    "dcc.Location(href=target, refresh='callback-nav') as the page's layout to redirect. "
    "dcc.Location only navigates when its href prop CHANGES after mount (with "
    "refresh='callback-nav' the mount-time href equals this.props.href, so updateLocation() "
    "does nothing), so the browser stays on a blank page: a dead invitation link "
    "(/enrolment/invitation/<old> → /enrolment/debut, which should redirect to "
    "/enrolment/resultat) shows no message at all"
)


def test_her_dead_links_say_why_in_her_browser(site):
    """After his resend her old link says it was replaced; after his cancel, « annulée »."""
    duo = site.duo
    prof = f.professional(site.backend, 1)
    declared = f.declare(site.backend, prof, **SECRETARY)
    with site.backend.uow() as uow:
        declarations.resend_invitation(uow, declared.enrolment_id, prof)
    old_link, new_link = invitation_links(site, SECRETARY["email"], total=2)
    open_as_the_secretary(site, old_link)
    duo.wait_for_contains_text("#link-problem", "n'est pas valide ou a été remplacé")
    assert not duo.driver.find_elements(By.ID, "start-button")
    with site.backend.uow() as uow:
        declarations.cancel(
            uow, declared.enrolment_id, kernel.Actor("professional", str(prof)), prof
        )
    open_as_the_secretary(site, new_link)
    duo.wait_for_contains_text("#link-problem", "annulée")
    assert not duo.driver.find_elements(By.ID, "start-button")


def test_the_login_page_sends_a_logged_in_professional_to_his_list(site):
    duo = site.duo
    f.professional(site.backend, 1, luxtrust_subject="demo-professional-1")
    log_in_and_reach_the_list(site)
    duo.driver.get(site.url + "/professionnel/connexion")
    wait_for_path(duo, "/professionnel")
    duo.wait_for_contains_text("h1", LIST_HEADING)
