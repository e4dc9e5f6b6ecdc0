"""The secretary's journey in a real browser, from the emailed link to the result."""

from __future__ import annotations

from selenium.webdriver.common.by import By

from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.model import Enrolment
from dashboard.enrolment.personas import SECRETARIES
from tests import factories as f

MARIE = next(s for s in SECRETARIES if s.key == "marie")


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


def open_link_and_reach_luxtrust(site, typed_matricule=MARIE.matricule):
    duo = site.duo
    duo.driver.get(site.invitation_link(MARIE.email))
    duo.wait_for_text_to_equal("#page-heading", "Créer votre compte eSanté")
    assert "/enrolment/invitation/" not in duo.driver.current_url
    duo.find_element("#start-button").click()
    duo.wait_for_text_to_equal("#page-heading", "Conditions Générales d'Utilisation")
    duo.find_element("#cgu-accepted").click()
    duo.find_element("#cgu-submit").click()
    duo.wait_for_text_to_equal("#page-heading", "Vérification de votre matricule")
    duo.find_element("#matricule-input").send_keys(typed_matricule)
    duo.find_element("#matricule-submit").click()


def luxtrust_login(site, persona: str, device: str = "mobile"):
    duo = site.duo
    duo.wait_for_text_to_equal("#page-heading", "Vérification de votre identité avec LuxTrust")
    duo.find_element("#luxtrust-start").click()
    duo.wait_for_element(f"#device-{device}")
    duo.driver.find_element(By.ID, f"device-{device}").click()
    duo.driver.find_element(By.ID, f"persona-{persona}").click()
    duo.driver.find_element(By.ID, "luxtrust-submit").click()


def test_match_path_creates_the_account_and_mails_it(site):
    enrolment_id = declare_marie(site)
    open_link_and_reach_luxtrust(site)
    luxtrust_login(site, "marie-louise")
    site.duo.wait_for_text_to_equal("#page-heading", "Votre compte a été créé")
    assert state_of(site, enrolment_id) == lc.ACCOUNT_CREATED
    subjects = [m["Subject"] for m in site.mails_to(MARIE.email, count=2)]
    assert "Votre compte eSanté a été créé" in subjects
