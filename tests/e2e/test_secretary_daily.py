"""The secretary's steps on her phone, day to day (issue 22, "The secretary"), in headless
Chromium at 360 × 640: each step opens at the top with its heading focused, Back after the
account shows the result and never a live step, the language switch keeps what she ticked
or typed. Screenshots go to /tmp/sec-*.png."""

from __future__ import annotations

import json

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import matricule
from tests.e2e.test_accessibility import phone
from tests.e2e.test_secretary_journey import (
    LUXTRUST_HEADING,
    MARIE,
    MISMATCH_HEADING,
    absent,
    choose,
    declare_marie,
    simulator_login,
    state_of,
    wait_for_path,
)

START_HEADING = "Créer votre compte eSanté"
CGU_HEADING = "Conditions Générales d'Utilisation"
MATRICULE_HEADING = "Vérification de votre matricule"
ACCOUNT_HEADING = "Votre compte a été créé"
REVIEW_HEADING = "Vérification manuelle de votre identité"
LIVE_STEPS = (
    "#start-button",
    "#cgu-accepted",
    "#matricule-input",
    "#luxtrust-start",
    "#device-yes",
)

OPENED_JS = """
const h = document.getElementById('page-heading');
const a = document.activeElement;
return {
  heading: h ? h.textContent : null,
  y: window.scrollY,
  focused: !!h && document.activeElement === h,
  active: a ? a.id || a.tagName : null,
};
"""


def opened(duo) -> dict:
    return duo.driver.execute_script(OPENED_JS)


def opens_at_the_top(duo, heading: str, shot: str) -> None:
    """The step `heading` is shown, scrolled to the top, its h1 focused."""
    WebDriverWait(duo.driver, 15).until(
        lambda d: (
            opened(duo) == {"heading": heading, "y": 0, "focused": True, "active": "page-heading"}
        ),
        f"{heading!r} did not open at the top with its heading focused: {opened(duo)}",
    )
    assert duo.driver.execute_script("return document.activeElement.tagName") == "H1"
    duo.driver.save_screenshot(f"/tmp/sec-{shot}.png")


def tap_at_the_bottom(duo, css: str) -> None:
    """As on a phone: scroll the page to its end, then tap (the next step must not open
    where this one ended)."""
    duo.driver.execute_script("window.scrollTo(0, document.documentElement.scrollHeight)")
    element = duo.find_element(css)
    duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'end', behavior: 'instant'})", element
    )
    element.click()


def switch_language(duo, code: str) -> None:
    duo.driver.execute_script("window.scrollTo(0, 0)")
    duo.find_element(f".language-link[lang='{code}']").click()
    WebDriverWait(duo.driver, 10).until(
        lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == code
    )


def storage(duo) -> dict:
    return json.loads(
        duo.driver.execute_script(
            "return JSON.stringify({session: Object.assign({}, sessionStorage),"
            " local: Object.assign({}, localStorage)})"
        )
    )


def test_each_step_opens_at_the_top_with_its_heading_focused(site):
    duo = site.duo
    phone(duo)
    enrolment_id = declare_marie(site)
    duo.driver.get(site.invitation_link(MARIE.email))
    opens_at_the_top(duo, START_HEADING, "1-start")

    tap_at_the_bottom(duo, "#start-button")
    opens_at_the_top(duo, CGU_HEADING, "2-cgu")

    # An error after a submit keeps the focus on the field in error (assets/a11y.js).
    tap_at_the_bottom(duo, "#cgu-submit")
    duo.wait_for_contains_text("#cgu-accepted-error", "Cochez la case")
    WebDriverWait(duo.driver, 5).until(lambda d: opened(duo)["active"] == "cgu-accepted")
    duo.driver.save_screenshot("/tmp/sec-2-cgu-error.png")
    choose(duo, "cgu-accepted")
    tap_at_the_bottom(duo, "#cgu-submit")
    opens_at_the_top(duo, MATRICULE_HEADING, "3-matricule")

    field = duo.find_element("#matricule-input")
    field.send_keys("1234")
    tap_at_the_bottom(duo, "#matricule-submit")
    duo.wait_for_contains_text("#matricule-input-error", "13 chiffres")
    WebDriverWait(duo.driver, 5).until(lambda d: opened(duo)["active"] == "matricule-input")
    assert opened(duo)["heading"] == MATRICULE_HEADING
    duo.clear_input(field)
    field.send_keys(MARIE.matricule)
    tap_at_the_bottom(duo, "#matricule-submit")
    opens_at_the_top(duo, LUXTRUST_HEADING, "4-luxtrust")

    tap_at_the_bottom(duo, "#luxtrust-start")
    simulator_login(site, "marie-typo")
    opens_at_the_top(duo, MISMATCH_HEADING, "5-device")

    tap_at_the_bottom(duo, "#device-no")  # a client-side change of page, like the others
    opens_at_the_top(duo, LUXTRUST_HEADING, "5b-luxtrust-again")

    tap_at_the_bottom(duo, "#luxtrust-start")
    simulator_login(site, "marie")
    opens_at_the_top(duo, ACCOUNT_HEADING, "6-result")
    assert state_of(site, enrolment_id) == lc.ACCOUNT_CREATED


def test_the_manual_review_result_opens_at_the_top_and_says_when(site):
    duo = site.duo
    phone(duo)
    enrolment_id = declare_marie(site)
    duo.driver.get(site.invitation_link(MARIE.email))
    opens_at_the_top(duo, START_HEADING, "r1-start")
    tap_at_the_bottom(duo, "#start-button")
    choose(duo, "cgu-accepted")
    tap_at_the_bottom(duo, "#cgu-submit")
    opens_at_the_top(duo, MATRICULE_HEADING, "r3-matricule")
    duo.find_element("#matricule-input").send_keys(MARIE.matricule)
    tap_at_the_bottom(duo, "#matricule-submit")
    opens_at_the_top(duo, LUXTRUST_HEADING, "r4-luxtrust")
    tap_at_the_bottom(duo, "#luxtrust-start")
    simulator_login(site, "marie-typo")
    opens_at_the_top(duo, MISMATCH_HEADING, "r5-device")

    tap_at_the_bottom(duo, "#device-yes")
    opens_at_the_top(duo, REVIEW_HEADING, "r6-review")
    following = duo.find_element("#result-next").text
    assert "dans un délai de 2 jours ouvrables" in following and "par email" in following
    assert state_of(site, enrolment_id) == lc.PENDING_REVIEW

    # Back: the device step is asked for again, and the server shows the result instead.
    duo.driver.back()
    wait_for_path(duo, "/enrolment/resultat")
    opens_at_the_top(duo, REVIEW_HEADING, "r7-review-after-back")
    assert all(absent(duo, css) for css in LIVE_STEPS)
    assert state_of(site, enrolment_id) == lc.PENDING_REVIEW


def test_back_after_the_account_shows_the_result_never_a_live_step(site):
    duo = site.duo
    phone(duo)
    enrolment_id = declare_marie(site)
    duo.driver.get(site.invitation_link(MARIE.email))
    tap_at_the_bottom(duo, "#start-button")
    choose(duo, "cgu-accepted")
    tap_at_the_bottom(duo, "#cgu-submit")
    duo.wait_for_text_to_equal("#page-heading", MATRICULE_HEADING)
    duo.find_element("#matricule-input").send_keys(MARIE.matricule)
    tap_at_the_bottom(duo, "#matricule-submit")
    duo.wait_for_text_to_equal("#page-heading", LUXTRUST_HEADING)
    tap_at_the_bottom(duo, "#luxtrust-start")
    simulator_login(site, "marie")
    opens_at_the_top(duo, ACCOUNT_HEADING, "b1-result")

    # Back leaves LuxTrust's own page behind (the provider's, not a step), then reaches
    # the steps: each time the result, loaded again (no-store), never the step it was.
    for _ in range(3):
        duo.driver.back()
        WebDriverWait(duo.driver, 10).until(
            lambda d: d.execute_script("return document.readyState") == "complete"
        )
        if "/enrolment/" in duo.driver.current_url:
            break
    wait_for_path(duo, "/enrolment/resultat")
    opens_at_the_top(duo, ACCOUNT_HEADING, "b2-result-after-back")
    assert all(absent(duo, css) for css in LIVE_STEPS)
    duo.driver.back()  # and once more, into the steps' own history
    WebDriverWait(duo.driver, 10).until(
        lambda d: "/enrolment/" in d.current_url and absent(duo, "#luxtrust-start")
    )
    wait_for_path(duo, "/enrolment/resultat")
    duo.wait_for_text_to_equal("#page-heading", ACCOUNT_HEADING)
    assert all(absent(duo, css) for css in LIVE_STEPS)
    assert state_of(site, enrolment_id) == lc.ACCOUNT_CREATED


def test_switching_language_keeps_the_tick_and_the_typed_matricule(site):
    duo = site.duo
    phone(duo)
    enrolment_id = declare_marie(site)
    duo.driver.get(site.invitation_link(MARIE.email))
    tap_at_the_bottom(duo, "#start-button")
    duo.wait_for_text_to_equal("#page-heading", CGU_HEADING)
    choose(duo, "cgu-accepted")

    switch_language(duo, "en")
    opens_at_the_top(duo, "Terms of Use", "l1-cgu-en")
    wait_for_path(duo, "/enrolment/conditions")
    assert duo.find_element("#cgu-accepted").is_selected()
    switch_language(duo, "de")
    WebDriverWait(duo.driver, 10).until(lambda d: d.find_element(By.ID, "cgu-accepted"))
    assert duo.find_element("#cgu-accepted").is_selected()
    assert state_of(site, enrolment_id) == lc.DECLARED  # ticked is not accepted

    tap_at_the_bottom(duo, "#cgu-submit")
    opens_at_the_top(duo, "Prüfung Ihrer Matrikelnummer", "l2-matricule-de")
    assert "cgu-draft" not in storage(duo)["session"]  # forgotten once submitted
    assert state_of(site, enrolment_id) == lc.CGU_ACCEPTED

    typed = matricule.format_display(MARIE.matricule)
    duo.find_element("#matricule-input").send_keys(typed)
    switch_language(duo, "fr")
    opens_at_the_top(duo, MATRICULE_HEADING, "l3-matricule-fr")
    WebDriverWait(duo.driver, 5).until(
        lambda d: d.find_element(By.ID, "matricule-input").get_attribute("value") == typed
    )
    # Only in this tab's sessionStorage: never in localStorage, the address or a cookie.
    kept = storage(duo)
    assert MARIE.matricule not in json.dumps(kept["local"])
    assert typed in json.dumps(kept["session"], ensure_ascii=False)
    for cookie in duo.driver.get_cookies():
        assert MARIE.matricule not in cookie["value"]
    assert MARIE.matricule not in duo.driver.current_url

    tap_at_the_bottom(duo, "#matricule-submit")
    opens_at_the_top(duo, LUXTRUST_HEADING, "l4-luxtrust")
    after = json.dumps(storage(duo), ensure_ascii=False)
    assert MARIE.matricule not in after and typed not in after  # forgotten on submit
    assert state_of(site, enrolment_id) == lc.MATRICULE_VERIFIED
