"""The identity-vigilance reviewer's journey in a real browser: the secretary goes through
the mismatch path, a reviewer finds her case in the queue, reads the diff and approves it;
a colleague then sees it decided; and a decision on a case a colleague has just decided
is refused with a clear message.

Screenshots go to /tmp/review-screens/ for a human look at the pages.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select

from dashboard.enrolment import decisions, kernel, matricule, secretary
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.model import Decision, Enrolment, OutboxEmail
from tests import factories as f
from tests.e2e.test_secretary_journey import (
    MARIE,
    MISMATCH_HEADING,
    declare_marie,
    luxtrust_login,
    open_link_and_reach_luxtrust,
    page_text,
    state_of,
    wait_for_path,
)

PASSWORD = "correct horse battery staple"  # tests.factories.reviewer
SCREENS = Path("/tmp/review-screens")
APPROVED_SUBJECT = "Votre identité a été vérifiée\u00a0: votre compte eSanté est créé"
PENDING_SUBJECT = "Votre demande de compte eSanté est en cours de vérification"
INVITATION_SUBJECT = "Créez votre compte eSanté"


def shot(duo, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    duo.driver.save_screenshot(str(SCREENS / f"{name}.png"))


def wait(duo, condition, message: str, timeout: float = 10):
    return WebDriverWait(duo.driver, timeout).until(condition, message)


def secretary_goes_to_manual_review(site) -> int:
    """Marie through the real pages: the link, the CGU, her matricule, LuxTrust with a typo
    in her name (persona marie-typo), and "yes, my own device"."""
    duo = site.duo
    enrolment_id = declare_marie(site)
    open_link_and_reach_luxtrust(site)
    luxtrust_login(site, "marie-typo")
    duo.wait_for_text_to_equal("#page-heading", MISMATCH_HEADING)
    duo.find_element("#device-yes").click()
    duo.wait_for_contains_text(
        "#result-message",
        "Notre équipe d'identito-vigilance va vérifier votre identité manuellement",
    )
    assert state_of(site, enrolment_id) == lc.PENDING_REVIEW
    duo.driver.delete_all_cookies()
    return enrolment_id


def log_in(site, email: str) -> None:
    duo = site.duo
    duo.driver.delete_all_cookies()
    duo.driver.get(site.url + "/backoffice/connexion")
    duo.wait_for_text_to_equal("#page-heading", "Connexion de l'équipe eSanté")
    duo.find_element("#staff-email").send_keys(email)
    duo.find_element("#staff-password").send_keys(PASSWORD)
    duo.find_element("#staff-login-submit").click()
    wait_for_path(duo, "/backoffice")


def grid_cells(duo, column: str) -> list[str] | None:
    """The texts of a grid column, top to bottom; None while AG Grid is redrawing it."""
    try:
        cells = duo.driver.find_elements(
            By.CSS_SELECTOR, f"#queue-grid .ag-center-cols-container [col-id='{column}']"
        )
        placed = sorted(
            (int(cell.find_element(By.XPATH, "..").get_attribute("row-index")), cell.text)
            for cell in cells
        )
    except StaleElementReferenceException:
        return None
    return [text for _, text in placed]


def wait_for_column(duo, column: str, expected: list[str]) -> None:
    seen = []

    def shows(_driver):
        seen.append(grid_cells(duo, column))
        return seen[-1] == expected

    try:
        wait(duo, shows, f"column {column} never showed {expected}")
    except TimeoutException:
        raise AssertionError(
            f"column {column}: expected {expected}, last seen {seen[-1]}"
        ) from None


def click(duo, element_id: str) -> None:
    """Scroll the element to the middle of the window (at once: Bootstrap makes scrolling
    smooth, and a click during the animation lands elsewhere), then click it."""
    element = duo.find_element(f"#{element_id}")
    duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element
    )
    element.click()


def confirm_in_page(duo, expected: str) -> None:
    """The in-page confirmation (not the browser's confirm()): it names the person and the
    decision; confirm it."""
    wait(duo, EC.visibility_of_element_located((By.ID, "case-confirm-yes")), "no confirmation")
    text = duo.find_element("#case-confirm-text").text
    assert expected in text, text
    assert not EC.alert_is_present()(duo.driver)
    duo.find_element("#case-confirm-yes").click()
    wait(duo, EC.invisibility_of_element_located((By.ID, "case-confirm-yes")), "still open")


def approve_in_dialog(duo, expected: str = "Vous ") -> None:
    click(duo, "case-approve")
    confirm_in_page(duo, expected)


def tick(duo, label_text: str) -> None:
    """Switch on a quick filter of the queue by clicking its label ("En retard (3)": the
    count, once shown, follows the name)."""
    label = wait(
        duo,
        lambda d: d.find_element(
            By.XPATH,
            f"//*[@id='queue-quick']//label[starts-with(normalize-space(), \"{label_text} (\")]",
        ),
        f"no quick filter {label_text} with its count",
    )
    label.click()
    box = duo.driver.find_element(By.ID, label.get_attribute("for"))
    wait(duo, lambda d: box.is_selected(), f"{label_text} never switched on")


def search_queue(duo, text: str) -> None:
    field = duo.find_element("#queue-search")
    duo.clear_input(field)
    field.send_keys(text, Keys.ENTER)  # the field is debounced: Enter sends it


def open_case_page(site, enrolment_id: int) -> None:
    site.duo.driver.get(f"{site.url}/backoffice/dossier/{enrolment_id}")
    site.duo.wait_for_element("#case-diff")


def enrolment_state(site, enrolment_id: int) -> tuple[str, str | None]:
    with site.backend.uow() as uow:
        e = uow.session.get(Enrolment, enrolment_id)
        return e.state, e.reason_code


def test_reviewer_finds_approves_and_a_colleague_sees_it_decided(site):
    duo = site.duo
    case = secretary_goes_to_manual_review(site)
    # Another case in the queue, so that the search has something to leave out.
    other_prof = f.professional(site.backend, 2, last_name="Arendt")
    f.walk_to(
        site.backend,
        other_prof,
        lc.PENDING_REVIEW,
        last_name="Weber",
        first_names="Laura",
        matricule=matricule.make("19781130", "210"),
        email="laura.weber@example.lu",
    )
    rita = f.reviewer(site.backend, "rita@esante.lu")
    f.reviewer(site.backend, "victor@esante.lu")

    # Reviewer 1 logs in and lands on the queue.
    log_in(site, "rita@esante.lu")
    duo.wait_for_text_to_equal("h1", "File des dossiers à vérifier")
    wait(
        duo, lambda d: len(grid_cells(duo, "secretary") or []) == 2, "the queue never showed 2 rows"
    )
    shot(duo, "01-queue")

    search_queue(duo, "schmit")
    wait_for_column(duo, "secretary", ["Marie Schmit"])
    [badges] = grid_cells(duo, "differences")
    assert badges.startswith("Nom"), badges  # a short badge (the whole text is its title)
    badge = duo.driver.find_element(By.CSS_SELECTOR, "#queue-grid [col-id='differences'] .badge")
    assert badge.get_attribute("title") == "nom\u00a0: faute de frappe"  # an attribute: as is
    assert grid_cells(duo, "professional") == ["Dr Jean Hoffmann1"]
    assert grid_cells(duo, "assignee") == ["— non attribué —"]
    shot(duo, "02-queue-search")

    link = duo.driver.find_element(
        By.CSS_SELECTOR,
        f"#queue-grid [col-id='secretary'] a[href*='/backoffice/dossier/{case}?from=queue']",
    )
    assert link.text == "Marie Schmit"
    link.click()
    wait_for_path(duo, f"/backoffice/dossier/{case}")
    duo.wait_for_element("#case-diff")
    duo.wait_for_contains_text("#page-heading", "Marie Schmit")

    # The diff: the declared "Schmit" against LuxTrust's "SCHMITT", the extra letter marked.
    row = duo.find_element("#diff-last_name")
    assert "faute de frappe" in row.text
    marks = [m.text for m in row.find_elements(By.TAG_NAME, "mark")]
    assert marks, row.get_attribute("innerHTML")
    cells = row.find_elements(By.CSS_SELECTOR, "td.diff-cell")
    assert [c.text for c in cells] == ["Schmit", "SCHMITT"]
    assert "".join(marks).upper().count("T") >= 1
    assert duo.find_element("#diff-first_names").text.startswith("prénom(s)")
    assert "identique" in duo.find_element("#diff-birth_date").text
    assert duo.find_element("#case-state").text == "Vérification manuelle en cours"
    assert "Dossier consulté" in duo.find_element("#case-timeline").text
    shot(duo, "03-case")

    # Opened from the queue: the case is hers now, said in words.
    assert "Vous traitez ce dossier." in duo.find_element("#case-holder").text

    # Approve: an in-page confirmation naming her, then the next case of the same view
    # (the search "schmit" holds no other case: she stays, told so).
    approve_in_dialog(duo, "Vous approuvez l'identité de Marie Schmit")
    duo.wait_for_contains_text("#case-message", "identité approuvée", timeout=10)
    assert "plus d'autre dossier" in duo.find_element("#case-message").text
    duo.wait_for_element("#case-decided")
    assert duo.find_element("#case-state").text == "Compte créé"
    assert not duo.driver.find_elements(By.ID, "case-approve")
    shot(duo, "04-approved")

    with site.backend.uow() as uow:
        e = uow.session.get(Enrolment, case)
        assert (e.state, e.decision, e.assignee_id) == (
            lc.ACCOUNT_CREATED,
            "reviewer_approved",
            rita,
        )
    # invitation, pending_review, approved (hers) + the doctor's account mail = 4
    mails = site.mails_to(MARIE.email, count=4)
    assert [m["Subject"] for m in mails] == [
        INVITATION_SUBJECT,
        PENDING_SUBJECT,
        APPROVED_SUBJECT,
    ]
    assert "Bonjour Marie Schmit" in mails[-1].get_body(("plain",)).get_content()
    [doctor] = site.smtp.inbox.to("dr1@cabinet.lu")
    assert doctor["Subject"] == "Le compte eSanté de votre secrétaire a été créé"

    # Reviewer 2 opens the same case: decided, no decision buttons any more.
    log_in(site, "victor@esante.lu")
    open_case_page(site, case)
    duo.wait_for_contains_text("#case-decided", "Approuvé")
    decided = duo.find_element("#case-decided").text
    assert "rita" in decided
    for gone in ("case-approve", "case-reject", "case-claim", "case-withdraw", "case-reason"):
        assert not duo.driver.find_elements(By.ID, gone), gone
    assert duo.find_element("#case-state").text == "Compte créé"
    shot(duo, "05-decided-for-colleague")

    # The queue no longer holds it.
    duo.driver.get(site.url + "/backoffice")
    wait_for_column(duo, "secretary", ["Laura Weber"])


def test_a_decision_on_a_case_a_colleague_just_decided_is_refused_clearly(site):
    duo = site.duo
    prof = f.professional(site.backend)
    case, _ = f.walk_to(site.backend, prof, lc.PENDING_REVIEW)
    rita = f.reviewer(site.backend, "rita@esante.lu")
    f.reviewer(site.backend, "victor@esante.lu")

    # Victor opens the case page ...
    log_in(site, "victor@esante.lu")
    open_case_page(site, case)
    duo.wait_for_element("#case-reject")
    # ... meanwhile Rita approves it from her own session.
    with site.backend.uow() as uow:
        assert decisions.approve(uow, case, rita) == lc.ACCOUNT_CREATED

    # Victor, still on the old page, rejects with a reason.
    Select(duo.find_element("#case-reason")).select_by_value("not_declared_person")
    # The reason's starting text comes first (issue 22); her words complete it.
    wait(
        duo,
        lambda d: d.find_element(By.ID, "case-reject-note").get_attribute("value"),
        "no starting text",
    )
    duo.find_element("#case-reject-note").send_keys("Photo différente")
    click(duo, "case-reject")
    confirm_in_page(duo, "Vous refusez la demande de Marie Schmit (motif : Pas la personne")
    duo.wait_for_contains_text("#case-message", "déjà été traité", timeout=10)
    message = duo.find_element("#case-message")
    assert message.text == "Ce dossier a déjà été traité (Compte créé)."
    assert "alert-danger" in message.get_attribute("class")
    # The page is redrawn with the real state.
    duo.wait_for_element("#case-decided")
    assert duo.find_element("#case-state").text == "Compte créé"
    shot(duo, "06-already-decided")

    assert enrolment_state(site, case) == (lc.ACCOUNT_CREATED, None)
    with site.backend.uow() as uow:
        finals = uow.session.scalars(
            select(Decision.outcome).where(Decision.enrolment_id == case)
        ).all()
        templates = uow.session.scalars(
            select(OutboxEmail.template).where(OutboxEmail.enrolment_id == case)
        ).all()
    assert finals == ["reviewer_approved"]
    assert "rejected" not in templates and "professional_rejected" not in templates
    assert "Photo différente" not in page_text(duo)


# --- the SLA in the queue ----------------------------------------------------------------------


def _an_overdue_and_a_fresh_case(site) -> tuple[int, int]:
    prof = f.professional(site.backend)
    now = site.clock.now
    site.clock.now = now - dt.timedelta(days=10)
    late, _ = f.walk_to(site.backend, prof, lc.PENDING_REVIEW)
    site.clock.now = now
    fresh, _ = f.walk_to(
        site.backend,
        prof,
        lc.PENDING_REVIEW,
        last_name="Weber",
        first_names="Laura",
        matricule=matricule.make("19781130", "210"),
        email="laura.weber@example.lu",
    )
    f.reviewer(site.backend, "rita@esante.lu")
    return late, fresh


def test_the_overdue_quick_filter_keeps_the_late_case(site):
    duo = site.duo
    _an_overdue_and_a_fresh_case(site)
    log_in(site, "rita@esante.lu")
    wait(
        duo, lambda d: len(grid_cells(duo, "secretary") or []) == 2, "the queue never showed 2 rows"
    )
    wait_for_column(duo, "secretary", ["Marie Schmit", "Laura Weber"])  # longest first
    tick(duo, "En retard")
    wait_for_column(duo, "secretary", ["Marie Schmit"])


def test_an_overdue_case_is_flagged_in_the_queue(site):
    duo = site.duo
    _an_overdue_and_a_fresh_case(site)
    log_in(site, "rita@esante.lu")
    wait_for_column(duo, "secretary", ["Marie Schmit", "Laura Weber"])  # late one first
    shot(duo, "07-queue-overdue")
    late, fresh = grid_cells(duo, "waiting_days")
    assert late.startswith("⚠ ") and late.endswith(" j en retard"), late
    assert "retard" not in fresh and fresh.endswith(" j"), fresh
    flagged = duo.driver.find_element(
        By.CSS_SELECTOR,
        "#queue-grid .ag-center-cols-container [row-index='0'] [col-id='waiting_days'] strong",
    )
    assert flagged.text.startswith("⚠ ") and flagged.text.endswith(" j")


# --- claim, note and four eyes in the browser --------------------------------------------------


def test_claim_note_and_a_four_eyes_approval_by_two_reviewers(site):
    duo = site.duo
    prof = f.professional(site.backend)
    data = {**f.MARIE}
    declared = f.declare(site.backend, prof)
    th = kernel.hash_token(declared.token)
    case = declared.enrolment_id
    with site.backend.uow() as uow:
        secretary.accept_cgu(uow, th, uow.settings.cgu_version)
    with site.backend.uow() as uow:
        secretary.verify_matricule(uow, th, data["matricule"])
    with site.backend.uow() as uow:  # LuxTrust says she was born on another day
        secretary.record_luxtrust_identity(
            uow, th, f.identity_of(data, birth_date=dt.date(1985, 12, 4)), device="eid"
        )
    with site.backend.uow() as uow:
        secretary.confirm_personal_device(uow, th, True)
    f.reviewer(site.backend, "rita@esante.lu")
    f.reviewer(site.backend, "victor@esante.lu")

    log_in(site, "rita@esante.lu")
    wait(
        duo,
        lambda d: (grid_cells(duo, "differences") or [""])[0].startswith("Naissance"),
        "the birth date's badge never showed",
    )
    open_case_page(site, case)
    assert "différente" in duo.find_element("#diff-birth_date").text
    assert "seconde validation" in page_text(duo)
    click(duo, "case-claim")
    duo.wait_for_contains_text("#case-message", "Vous avez pris ce dossier en charge.")
    assert "rita" in duo.find_element(".case-context").text
    duo.find_element("#case-note").send_keys("Date vérifiée sur la carte d'identité")
    click(duo, "case-add-note")
    duo.wait_for_contains_text("#case-notes", "Date vérifiée sur la carte d'identité")
    # A proposal says why, for the colleague who confirms it (issue 22).
    duo.find_element("#case-reject-note").send_keys("Même personne : date inversée")
    approve_in_dialog(duo, "Un(e) second(e) relecteur(rice) confirmera")
    duo.wait_for_contains_text("#case-message", "second(e) relecteur(rice) doit la confirmer")
    duo.wait_for_contains_text("#case-proposal", "Vous l'avez proposé")
    assert state_of(site, case) == lc.PENDING_REVIEW
    shot(duo, "08-four-eyes-proposed")

    log_in(site, "victor@esante.lu")
    tick(duo, "En attente de seconde validation")
    wait_for_column(duo, "secretary", ["Marie Schmit"])
    assert grid_cells(duo, "assignee") == ["rita · 2ᵉ validation"]
    open_case_page(site, case)
    duo.wait_for_contains_text("#case-proposal", "rita a proposé")
    assert duo.find_element("#case-proposal-note").text == "Même personne : date inversée"
    approve_in_dialog(duo, "Vous confirmez la proposition de rita")
    duo.wait_for_contains_text("#case-message", "Identité approuvée")
    duo.wait_for_contains_text("#case-decided", "Seconde validation : victor")
    assert state_of(site, case) == lc.ACCOUNT_CREATED
    with site.backend.uow() as uow:
        [decision] = uow.session.scalars(
            select(Decision).where(Decision.enrolment_id == case)
        ).all()
        assert decision.status == "final" and decision.confirmed_by_id is not None
    shot(duo, "09-four-eyes-confirmed")


def test_a_note_can_be_added_to_a_decided_case(site):
    duo = site.duo
    prof = f.professional(site.backend)
    case, _ = f.walk_to(site.backend, prof, lc.PENDING_REVIEW)
    rita = f.reviewer(site.backend, "rita@esante.lu")
    with site.backend.uow() as uow:
        decisions.approve(uow, case, rita)
    log_in(site, "rita@esante.lu")
    open_case_page(site, case)
    duo.wait_for_element("#case-decided")
    duo.find_element("#case-note").send_keys("Rappelée pour l'informer")
    click(duo, "case-add-note")
    shot(duo, "10-note-on-decided-case")
    duo.wait_for_contains_text("#case-notes", "Rappelée pour l'informer", timeout=5)
