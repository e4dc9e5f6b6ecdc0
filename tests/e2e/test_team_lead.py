"""The team lead's page in a real browser (issue 22): the reviewers' load, cases moved in
bulk, and axe-core at 0 serious or critical in the three languages."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from dashboard.enrolment import decisions
from dashboard.enrolment.model import Enrolment
from tests import factories as f
from tests.e2e.test_accessibility import audit as audit  # noqa: F401 (fixture)
from tests.e2e.test_reviewer_flow import pending_cases
from tests.e2e.test_reviewer_journey import PASSWORD, wait
from tests.e2e.test_secretary_journey import wait_for_path


def _log_in_as_lead(site, email: str) -> None:
    """A lead who is not a reviewer lands on the back-office's home, with her "Équipe" part."""
    duo = site.duo
    duo.driver.delete_all_cookies()
    duo.driver.get(site.url + "/backoffice/connexion")
    duo.find_element("#staff-email").send_keys(email)
    duo.find_element("#staff-password").send_keys(PASSWORD)
    duo.find_element("#staff-login-submit").click()
    wait_for_path(duo, "/backoffice/accueil")
    duo.wait_for_contains_text("#part-team", "Équipe")


def _choose(duo, select_id: str, text: str) -> None:
    """Pick the option of a native select that starts with `text`, once it is there."""
    element = duo.find_element(f"#{select_id}")
    wait(
        duo,
        lambda d: any(o.text.startswith(text) for o in Select(element).options),
        f"no option {text} in {select_id}",
    )
    Select(element).select_by_visible_text(
        next(o.text for o in Select(element).options if o.text.startswith(text))
    )


def test_the_lead_moves_cases_and_the_page_passes_axe(site, audit, capsys):
    duo = site.duo
    cases = pending_cases(site, 3)
    rita = f.reviewer(site.backend, "rita@esante.lu")
    victor = f.reviewer(site.backend, "victor@esante.lu")
    f.reviewer(site.backend, "lena@esante.lu", roles=("lead",))
    for case in cases[:2]:
        with site.backend.uow() as uow:
            decisions.claim(uow, case, rita)
    _log_in_as_lead(site, "lena@esante.lu")
    for language in ("de", "en", "fr"):
        duo.driver.add_cookie({"name": "esante_lang", "value": language, "path": "/"})
        duo.driver.get(site.url + "/backoffice/equipe")
        duo.wait_for_element("#team-load-table")
        audit.check("lead: team page")
    # French last: Rita has two, nobody has one.
    duo.wait_for_contains_text("#team-load-table", "rita")
    rows = duo.find_element("#team-load-table").text
    assert "rita 2 0" in rows and "Non attribués 1 0" in rows, rows
    _choose(duo, "team-from", "rita")
    wait(duo, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#team-cases input")) == 2, "cases")
    for box in duo.driver.find_elements(By.CSS_SELECTOR, "#team-cases input"):
        box.click()
    _choose(duo, "team-to", "victor")
    audit.check("lead: cases ticked")
    duo.find_element("#team-move").click()
    duo.wait_for_contains_text("#team-message", "2 dossier(s) réattribué(s).")
    duo.wait_for_contains_text("#team-load-table", "victor 2 0")
    audit.check("lead: after the move")
    with site.backend.uow() as uow:
        assert {uow.session.get(Enrolment, c).assignee_id for c in cases[:2]} == {victor}
    audit.report(capsys)
    assert audit.blocking == {}, audit.blocking
