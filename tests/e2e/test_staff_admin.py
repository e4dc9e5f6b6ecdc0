"""The back-office's administrator in a real browser: the login form, a new reviewer's
account with its one-time password, that reviewer's first login, a new password and the
end of sessions (each confirmed in the browser first), and the failed logins."""

from __future__ import annotations

import dash
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import func, select, update

from dashboard.enrolment import sessions, staff
from dashboard.enrolment.model import LoginSession, StaffUser

ADMIN_EMAIL = "admin@esante.lu"
ADMIN_PASSWORD = "admin password long enough"
NEW_EMAIL = "nouvelle.reviewer@esante.lu"


def wait_for_path(duo, path: str) -> None:
    WebDriverWait(duo.driver, 10).until(
        lambda d: d.current_url.split("?")[0].rstrip("/").endswith(path),
        f"never reached {path}",
    )


def path_of(duo) -> str:
    return "/" + duo.driver.current_url.split("?")[0].split("/", 3)[3]


def log_in(site, email: str, password: str) -> None:
    duo = site.duo
    duo.driver.get(site.url + "/backoffice/connexion")
    duo.wait_for_text_to_equal("#page-heading", "Connexion de l'équipe eSanté")
    duo.find_element("#staff-email").send_keys(email)
    duo.find_element("#staff-password").send_keys(password)
    duo.find_element("#staff-login-submit").click()


def tick(duo, checklist_id: str, label_text: str) -> None:
    """Tick one option of a checklist as a person does: by clicking its label."""
    label = duo.driver.find_element(
        By.XPATH, f"//*[@id='{checklist_id}']//label[normalize-space()=\"{label_text}\"]"
    )
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", label)
    label.click()
    box = duo.driver.find_element(By.ID, label.get_attribute("for"))
    WebDriverWait(duo.driver, 5).until(lambda d: box.is_selected())


def test_admin_adds_a_reviewer_who_then_logs_in(site):
    duo = site.duo
    with site.backend.uow() as uow:
        staff.add_user(uow, ADMIN_EMAIL, ADMIN_PASSWORD, ["admin"], display_name="Anne Admin")

    # A wrong password first: the message, and the email kept for the next try.
    log_in(site, ADMIN_EMAIL, "not the password")
    duo.wait_for_text_to_equal("#staff-login-error", "Adresse email ou mot de passe incorrect.")
    assert duo.find_element("#staff-email").get_attribute("value") == ADMIN_EMAIL
    assert duo.find_element("#staff-login-error").get_attribute("role") == "alert"

    duo.find_element("#staff-password").send_keys(ADMIN_PASSWORD)  # the email is still there
    duo.find_element("#staff-login-submit").click()
    wait_for_path(duo, "/backoffice/accueil")
    duo.wait_for_text_to_equal("#staff-name", "Anne Admin")
    duo.find_element("#part-staff a").click()
    wait_for_path(duo, "/backoffice/personnel")
    duo.wait_for_contains_text("#staff-grid", ADMIN_EMAIL)

    # Add a reviewer; the password is shown once.
    duo.find_element("#staff-new-email").send_keys(NEW_EMAIL)
    duo.find_element("#staff-new-name").send_keys("Rita Nouvelle")
    tick(duo, "staff-new-roles", "Vérification d'identité")
    duo.find_element("#staff-add").click()
    duo.wait_for_element("#staff-new-password-value", timeout=10)
    password = duo.find_element("#staff-new-password-value").text.strip()
    assert len(password) >= staff.MIN_PASSWORD
    assert "ne sera plus jamais affiché" in duo.find_element("#staff-new-password").text
    duo.wait_for_contains_text("#staff-message", "a été créé")
    duo.wait_for_contains_text("#staff-grid", NEW_EMAIL)
    with site.backend.uow() as uow:
        user = uow.session.scalar(select(StaffUser).where(StaffUser.email == NEW_EMAIL))
        assert user.role_names == {"reviewer"}
        assert user.password_hash.startswith("$argon2id$")

    # Select the new row: the panel shows her roles; give her the indicators too.
    duo.driver.find_element(
        By.XPATH, f"//*[@id='staff-grid']//div[@role='gridcell'][normalize-space()='{NEW_EMAIL}']"
    ).click()
    duo.wait_for_contains_text("#staff-selected", NEW_EMAIL)
    duo.wait_for_text_to_equal("#staff-toggle-active", "Désactiver")
    tick(duo, "staff-roles", "Indicateurs")
    duo.find_element("#staff-save-roles").click()
    duo.wait_for_text_to_equal("#staff-message", "Les rôles ont été enregistrés.")
    with site.backend.uow() as uow:
        user = uow.session.scalar(select(StaffUser).where(StaffUser.email == NEW_EMAIL))
        assert user.role_names == {"reviewer", "manager"}
    # Saving hid the one-time password.
    assert not duo.driver.find_elements(By.ID, "staff-new-password-value")
    # Disable, then enable again: the button follows the account's state.
    duo.find_element("#staff-toggle-active").click()
    duo.wait_for_contains_text("#staff-message", "Le compte a été désactivé")
    duo.wait_for_text_to_equal("#staff-toggle-active", "Réactiver")
    duo.wait_for_contains_text("#staff-grid", "Désactivé")
    # The disabled state stands out (a class rule the Content-Security-Policy lets run).
    cell = duo.driver.find_element(
        By.XPATH, "//*[@id='staff-grid']//div[@role='gridcell'][normalize-space()='Désactivé']"
    )
    assert "state-attention" in cell.get_attribute("class").split()
    duo.find_element("#staff-toggle-active").click()
    duo.wait_for_text_to_equal("#staff-message", "Le compte a été réactivé.")
    duo.wait_for_text_to_equal("#staff-toggle-active", "Désactiver")

    duo.find_element("#staff-logout").click()
    wait_for_path(duo, "/backoffice/connexion")

    # Her first login lands on the review queue.
    log_in(site, NEW_EMAIL, password)
    wait_for_path(duo, "/backoffice")
    assert path_of(duo) == "/backoffice"
    if any(page["path"] == "/backoffice" for page in dash.page_registry.values()):
        # The queue page is someone else's: only check that it rendered, and not "refused".
        WebDriverWait(duo.driver, 10).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "#_pages_content > *")
        )
        assert not duo.driver.find_elements(By.ID, "access-denied")
    duo.driver.get(site.url + "/backoffice/accueil")
    duo.wait_for_text_to_equal("#staff-name", "Rita Nouvelle")
    duo.wait_for_element("#part-queue")
    duo.wait_for_element("#part-indicators")
    assert not duo.driver.find_elements(By.ID, "part-staff")
    # And the staff page is not hers.
    duo.driver.get(site.url + "/backoffice/personnel")
    duo.wait_for_element("#access-denied")


def test_an_action_refused_by_the_server_says_so(site):
    """Refused on the server (here the account was disabled meanwhile; the same as a session
    expired after 30 idle minutes), a click must not seem to do nothing."""
    duo = site.duo
    with site.backend.uow() as uow:
        staff.add_user(uow, ADMIN_EMAIL, ADMIN_PASSWORD, ["admin"], display_name="Anne Admin")
    log_in(site, ADMIN_EMAIL, ADMIN_PASSWORD)
    wait_for_path(duo, "/backoffice/accueil")
    duo.driver.get(site.url + "/backoffice/personnel")
    duo.wait_for_contains_text("#staff-grid", ADMIN_EMAIL)
    banner = duo.find_element("#request-refused")
    assert not banner.is_displayed()

    with site.backend.uow() as uow:
        uow.session.execute(update(StaffUser).values(active=False))
        uow.commit()
    duo.find_element("#staff-new-email").send_keys(NEW_EMAIL)
    duo.find_element("#staff-add").click()
    duo.wait_for_contains_text("#request-refused", "Rechargez la page")
    assert banner.is_displayed()
    assert banner.get_attribute("role") == "alert"
    with site.backend.uow() as uow:  # and nothing was done
        assert uow.session.scalar(select(StaffUser).where(StaffUser.email == NEW_EMAIL)) is None


def _confirm(duo) -> str:
    """Accept the browser's confirmation dialog; returns its French question."""
    alert = WebDriverWait(duo.driver, 5).until(EC.alert_is_present())
    question = alert.text
    alert.accept()
    return question


def test_admin_gives_a_new_password_and_ends_sessions(site):
    duo = site.duo
    with site.backend.uow() as uow:
        staff.add_user(uow, ADMIN_EMAIL, ADMIN_PASSWORD, ["admin"], display_name="Anne Admin")
        rita = staff.add_user(uow, NEW_EMAIL, "rita's old password", ["reviewer"], "Rita").id
    with site.backend.uow() as uow:  # Rita is logged in somewhere else
        sessions.open_session(uow, sessions.STAFF, rita)
    log_in(site, ADMIN_EMAIL, "not the password")
    duo.wait_for_text_to_equal("#staff-login-error", "Adresse email ou mot de passe incorrect.")
    duo.find_element("#staff-password").send_keys(ADMIN_PASSWORD)
    duo.find_element("#staff-login-submit").click()
    wait_for_path(duo, "/backoffice/accueil")
    duo.driver.get(site.url + "/backoffice/personnel")
    # The failed attempt is listed, with a fingerprint of the address, not the address.
    duo.wait_for_contains_text("#staff-failures", ADMIN_EMAIL)
    assert "127.0.0.1" not in duo.find_element("#staff-failures").text
    # Nothing selected: the account's buttons are off (the fieldset is disabled).
    assert not duo.find_element("#staff-reset-password").is_enabled()
    duo.driver.find_element(
        By.XPATH, f"//*[@id='staff-grid']//div[@role='gridcell'][normalize-space()='{NEW_EMAIL}']"
    ).click()
    duo.wait_for_contains_text("#staff-selected", NEW_EMAIL)

    duo.find_element("#staff-reset-password").click()
    assert "Donner un nouveau mot de passe" in _confirm(duo)
    duo.wait_for_element("#staff-reset-password-value", timeout=10)
    password = duo.find_element("#staff-reset-password-value").text.strip()
    duo.wait_for_contains_text("#staff-session-message", "ses sessions ouvertes ont été terminées")
    with site.backend.uow() as uow:
        assert staff.authenticate(uow, NEW_EMAIL, password).id == rita
        assert staff.authenticate(uow, NEW_EMAIL, "rita's old password") is None
        assert uow.session.scalar(select(func.count()).select_from(LoginSession)) == 1  # mine

    with site.backend.uow() as uow:
        sessions.open_session(uow, sessions.STAFF, rita)  # she logged in again
    duo.find_element("#staff-end-sessions").click()
    assert "Terminer toutes les sessions ouvertes de ce compte" in _confirm(duo)
    duo.wait_for_text_to_equal("#staff-session-message", f"Sessions de {NEW_EMAIL} terminées : 1.")
    assert not duo.driver.find_elements(By.ID, "staff-reset-password-value")

    with site.backend.uow() as uow:
        sessions.open_session(uow, sessions.PROFESSIONAL, 1)
        sessions.open_session(uow, sessions.STAFF, rita)
    duo.find_element("#staff-end-all").click()
    assert "sauf la vôtre" in _confirm(duo)
    duo.wait_for_text_to_equal(
        "#staff-session-message", "Sessions terminées : 2. La vôtre reste ouverte."
    )
    duo.driver.get(site.url + "/backoffice/personnel")  # hers indeed
    duo.wait_for_contains_text("#staff-grid", NEW_EMAIL)
