"""The whole secretary journey (the match path) with the keyboard alone — Tab, Space, Enter
and typing — in French, German and English, the language chosen with the switch."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from dashboard import i18n
from dashboard.enrolment import lifecycle as lc
from tests.e2e.test_secretary_journey import MARIE, declare_marie, state_of

MAX_TABS = 80


def translated(language: str, french: str) -> str:
    i18n.set_language(language)
    try:
        return i18n.gettext(french)
    finally:
        i18n.set_language(i18n.DEFAULT_LANGUAGE)


def tab_to(duo, wanted, what: str) -> None:
    """Press Tab until the focused element is the one `wanted(element)` accepts."""
    driver = duo.driver
    for _ in range(MAX_TABS):
        active = driver.switch_to.active_element
        if wanted(active):
            return
        ActionChains(driver).send_keys(Keys.TAB).perform()
    raise AssertionError(f"Tab never reached {what}")


def by_id(element_id: str):
    return lambda element: element.get_attribute("id") == element_id


def press(duo, key: str) -> None:
    ActionChains(duo.driver).send_keys(key).perform()


def wait_for_heading(duo, text: str) -> None:
    WebDriverWait(duo.driver, 15).until(
        lambda d: (
            d.execute_script("const h = document.querySelector('h1'); return h && h.textContent;")
            == text
        ),
        f"never showed « {text} »",
    )


@pytest.mark.parametrize("language", ["fr", "de", "en"])
def test_the_match_path_with_the_keyboard_only(site, language):
    duo = site.duo
    enrolment_id = declare_marie(site)
    duo.driver.get(site.invitation_link(MARIE.email))
    wait_for_heading(duo, translated("fr", "Créer votre compte eSanté"))
    if language != "fr":
        tab_to(duo, lambda e: e.get_attribute("lang") == language, f"the {language} link")
        press(duo, Keys.ENTER)
    wait_for_heading(duo, translated(language, "Créer votre compte eSanté"))
    assert duo.driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == language

    tab_to(duo, by_id("start-button"), "Commencer")
    press(duo, Keys.ENTER)
    wait_for_heading(duo, translated(language, "Conditions Générales d'Utilisation"))
    tab_to(duo, by_id("cgu-accepted"), "the CGU tick box")
    press(duo, Keys.SPACE)
    tab_to(duo, by_id("cgu-submit"), "the CGU button")
    press(duo, Keys.ENTER)

    wait_for_heading(duo, translated(language, "Vérification de votre matricule"))
    tab_to(duo, by_id("matricule-input"), "the matricule field")
    ActionChains(duo.driver).send_keys(MARIE.matricule).send_keys(Keys.ENTER).perform()

    wait_for_heading(duo, translated(language, "Vérification de votre identité avec LuxTrust"))
    tab_to(duo, by_id("luxtrust-start"), "the LuxTrust button")
    press(duo, Keys.ENTER)
    # The simulator: first device, first persona (Marie, identical), then submit.
    WebDriverWait(duo.driver, 15).until(lambda d: d.find_elements(By.ID, "luxtrust-submit"))
    tab_to(duo, lambda e: (e.get_attribute("name") or "") == "device", "the devices")
    press(duo, Keys.SPACE)
    tab_to(duo, by_id("persona-marie"), "Marie's persona")
    press(duo, Keys.SPACE)
    tab_to(duo, by_id("luxtrust-submit"), "the simulator's button")
    press(duo, Keys.ENTER)

    wait_for_heading(duo, translated(language, "Votre compte a été créé"))
    assert duo.driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == language
    assert state_of(site, enrolment_id) == lc.ACCOUNT_CREATED
    with site.backend.uow() as uow:
        from dashboard.enrolment.model import Enrolment

        assert uow.session.get(Enrolment, enrolment_id).language == language
