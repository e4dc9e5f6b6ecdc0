"""The reviewer's daily flow in a real browser (issue 22): decide, then the next case of
the same queue view; the view kept in the URL (Back and reload); the in-page confirmation;
and ten decisions in a row, timed (printed as a JSON line, not asserted).

Ten approvals from a queue of ten, measured on the development machine (2 shared cores):
before (queue → case → approve → the browser's confirm() → back to the queue, 4 actions a
case): 24.3 s; after (approve → confirm, then the next case opens by itself: 2 actions
a case), printed by test_ten_decisions_in_a_row.
"""

from __future__ import annotations

import time

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

from dashboard.enrolment import decisions, matricule
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.model import Enrolment
from tests import factories as f
from tests.e2e.test_accessibility import audit as audit  # noqa: F401 (fixture)
from tests.e2e.test_reviewer_journey import (
    approve_in_dialog,
    click,
    grid_cells,
    log_in,
    search_queue,
    shot,
    tick,
    wait,
    wait_for_column,
)
from tests.e2e.test_secretary_journey import wait_for_path

NAMES = ["Anna", "Berta", "Carla", "Dora", "Emma", "Frida", "Greta", "Hanna", "Ida", "Jana"]


CUT_OFF_JS = """return Array.from(document.querySelectorAll(
  '#queue-grid .ag-header-cell-text, #queue-grid .ag-cell'))
  .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent);"""


def pending_cases(site, count: int = 10) -> list[int]:
    """Cases under review, confirmed in this order (the queue's default: longest first)."""
    prof = f.professional(site.backend)
    cases = []
    for i, name in enumerate(NAMES[:count]):
        cases.append(
            f.walk_to(
                site.backend,
                prof,
                lc.PENDING_REVIEW,
                first_names=name,
                last_name=f"Kieffer-{name}",
                matricule=matricule.make("19800101", f"{100 + i}"),
                email=f"{name.lower()}@example.lu",
            )[0]
        )
        site.clock.advance(minutes=1)
    return cases


def open_first_row(duo) -> None:
    duo.driver.find_element(By.CSS_SELECTOR, "#queue-grid [col-id='secretary'] a").click()
    duo.wait_for_element("#case-diff")


def dialog_open(driver) -> bool:
    """The in-page confirmation is shown (dbc.Modal leaves the page when closed)."""
    buttons = driver.find_elements(By.ID, "case-confirm-yes")
    try:
        return bool(buttons) and buttons[0].is_displayed()
    except StaleElementReferenceException:  # the closing dialog left the page meanwhile
        return False


def note_text(duo) -> str:
    return duo.find_element("#case-reject-note").get_attribute("value") or ""


def heading(duo) -> str:
    return duo.find_element("#page-heading").text


def states(site, cases) -> set[str]:
    with site.backend.uow() as uow:
        return {uow.session.get(Enrolment, c).state for c in cases}


def test_ten_decisions_in_a_row(site):
    duo = site.duo
    cases = pending_cases(site)
    rita = f.reviewer(site.backend, "rita@esante.lu")
    log_in(site, "rita@esante.lu")
    wait(duo, lambda d: len(grid_cells(duo, "secretary") or []) == 10, "the queue")
    started = time.perf_counter()
    open_first_row(duo)
    for n, (case, name) in enumerate(zip(cases, NAMES, strict=True)):
        duo.wait_for_contains_text("#page-heading", f"{name} Kieffer-{name}")
        assert f"/backoffice/dossier/{case}?from=queue" in duo.driver.current_url
        approve_in_dialog(duo, f"Vous approuvez l'identité de {name} Kieffer-{name}")
        if n < 9:  # the next case opens, saying what was just done
            duo.wait_for_contains_text("#case-message", f"Dossier n° {case} : identité approuvée")
    duo.wait_for_contains_text("#case-message", "plus d'autre dossier")
    elapsed = time.perf_counter() - started
    print(f'{{"benchmark": "ten_decisions_browser", "flow": "after", "seconds": {elapsed:.2f}}}')
    assert states(site, cases) == {lc.ACCOUNT_CREATED}
    with site.backend.uow() as uow:  # each was claimed by her on opening
        assert {uow.session.get(Enrolment, c).assignee_id for c in cases} == {rita}


def test_the_view_is_kept_in_the_url_through_the_next_case_back_and_reload(site):
    duo = site.duo
    anna, berta, carla, dora = pending_cases(site, 4)
    f.reviewer(site.backend, "rita@esante.lu")
    log_in(site, "rita@esante.lu")
    wait_for_column(duo, "secretary", [f"{n} Kieffer-{n}" for n in NAMES[:4]])
    # Her view: unassigned cases, searched with a space where the name has a hyphen... and
    # sorted by name, descending (Dora, Carla, Berta, Anna).
    tick(duo, "Non attribués")
    search_queue(duo, "kieffer")
    duo.find_element(
        "#queue-grid .ag-header-cell[col-id='secretary'] .ag-header-cell-label"
    ).click()
    duo.find_element(
        "#queue-grid .ag-header-cell[col-id='secretary'] .ag-header-cell-label"
    ).click()
    wait_for_column(duo, "secretary", [f"{n} Kieffer-{n}" for n in reversed(NAMES[:4])])
    wait(duo, lambda d: "sort=secretary.desc" in d.current_url, "the URL never held the sort")
    queue_url = duo.driver.current_url
    assert "quick=unassigned" in queue_url and "q=kieffer" in queue_url
    shot(duo, "20-queue-view-in-url")

    # Reload: the same view.
    duo.driver.refresh()
    wait_for_column(duo, "secretary", [f"{n} Kieffer-{n}" for n in reversed(NAMES[:4])])
    assert duo.find_element("#queue-search").get_attribute("value") == "kieffer"

    open_first_row(duo)
    assert "Dora" in heading(duo)
    assert "Vous traitez ce dossier." in duo.find_element("#case-holder").text
    shot(duo, "21-case-claimed")
    # "Dossier suivant" without deciding: Carla (Dora stays hers, one click to release).
    click(duo, "case-release")
    duo.wait_for_contains_text("#case-message", "de nouveau disponible")
    click(duo, "case-next")
    duo.wait_for_contains_text("#page-heading", "Carla")
    # Decide: the confirmation names her; then Berta opens, with what was just done.
    click(duo, "case-approve")
    wait(duo, dialog_open, "no dialog")
    assert "Carla Kieffer-Carla" in duo.find_element("#case-confirm-text").text
    shot(duo, "22-confirmation")
    duo.find_element("#case-confirm-yes").click()
    duo.wait_for_contains_text("#page-heading", "Berta")
    assert f"Dossier n° {carla} : identité approuvée" in duo.find_element("#case-message").text
    shot(duo, "23-next-case")
    assert f"/backoffice/dossier/{berta}?from=queue" in duo.driver.current_url
    # Reload shows the same case; Back shows the decided one.
    duo.driver.refresh()
    duo.wait_for_contains_text("#page-heading", "Berta")
    duo.driver.back()
    duo.wait_for_contains_text("#page-heading", "Carla")
    duo.wait_for_element("#case-decided")
    # The queue link returns to her view, without the decided case.
    duo.driver.find_element(By.ID, "case-back").click()
    wait_for_path(duo, "/backoffice")
    wait_for_column(duo, "secretary", [f"{n} Kieffer-{n}" for n in ("Dora", "Anna")])
    assert "quick=unassigned" in duo.driver.current_url
    assert states(site, [anna, dora]) == {lc.PENDING_REVIEW}


def test_a_rejection_is_confirmed_in_the_page_then_the_next_case_opens(site):
    duo = site.duo
    anna, berta = pending_cases(site, 2)
    f.reviewer(site.backend, "rita@esante.lu")
    log_in(site, "rita@esante.lu")
    wait_for_column(duo, "secretary", ["Anna Kieffer-Anna", "Berta Kieffer-Berta"])
    open_first_row(duo)
    from selenium.webdriver.support.ui import Select

    click(duo, "case-reject")  # no reason yet: said, and no dialog
    duo.wait_for_contains_text("#case-message", "Choisissez un motif de refus.")
    assert not dialog_open(duo.driver)
    Select(duo.find_element("#case-reason")).select_by_value("declaration_error")
    # The note starts from the reason's text, for her to complete.
    wait(duo, lambda d: note_text(duo).startswith("Erreur de déclaration"), "no starting text")
    click(duo, "case-reject")
    wait(duo, dialog_open, "no dialog")
    assert (
        "Vous refusez la demande de Anna Kieffer-Anna"
        in duo.find_element("#case-confirm-text").text
    )
    duo.find_element("#case-confirm-no").click()  # changed her mind: nothing happens
    wait(duo, lambda d: not dialog_open(d), "still open")
    assert states(site, [anna]) == {lc.PENDING_REVIEW}
    click(duo, "case-reject")
    wait(duo, dialog_open, "no dialog")
    duo.find_element("#case-confirm-yes").click()  # the starting text alone says nothing
    duo.wait_for_contains_text("#case-message", "Expliquez ce refus dans la note")
    assert states(site, [anna]) == {lc.PENDING_REVIEW}
    duo.find_element("#case-reject-note").send_keys(" nom de naissance au lieu du nom d'usage")
    click(duo, "case-reject")
    wait(duo, dialog_open, "no dialog")
    duo.find_element("#case-confirm-yes").click()
    duo.wait_for_contains_text("#page-heading", "Berta")
    assert f"Dossier n° {anna} : demande refusée" in duo.find_element("#case-message").text
    assert states(site, [anna]) == {lc.REJECTED}
    assert states(site, [berta]) == {lc.PENDING_REVIEW}


def test_the_queue_the_claimed_case_and_the_confirmation_pass_axe(site, audit, capsys):
    duo = site.duo
    anna, _berta = pending_cases(site, 2)
    f.reviewer(site.backend, "rita@esante.lu")
    log_in(site, "rita@esante.lu")
    for language in ("fr", "de", "en"):
        duo.driver.add_cookie({"name": "esante_lang", "value": language, "path": "/"})
        duo.driver.get(site.url + "/backoffice?quick=unassigned&sort=secretary.asc")
        wait(duo, lambda d: len(grid_cells(duo, "secretary") or []) >= 1, "the queue")
        audit.check("reviewer: queue view from the URL")
        # At 1280 px nothing is cut: no header or cell wider than its box (issue 22).
        assert duo.driver.execute_script(CUT_OFF_JS) == [], language
        duo.driver.get(f"{site.url}/backoffice/dossier/{anna}?from=queue&decided={anna}.approved")
        duo.wait_for_element("#case-holder")
        audit.check("reviewer: case claimed from the queue, with the done message")
        click(duo, "case-approve")
        wait(duo, dialog_open, "no dialog")
        audit.check("reviewer: in-page confirmation")
    audit.report(capsys)
    assert audit.blocking == {}, audit.blocking


def test_the_second_reviewer_reads_the_note_first_and_sends_the_proposal_back(site, audit, capsys):
    duo = site.duo
    (anna,) = pending_cases(site, 1)
    alice = f.reviewer(site.backend, "alice@esante.lu")
    f.reviewer(site.backend, "rita@esante.lu")
    with site.backend.uow() as uow:  # a fraud refusal waits for a second reviewer
        proposed = decisions.reject(
            uow, anna, alice, reason_code="suspected_fraud", note="Photo d'une autre personne"
        )
    assert proposed == "awaiting_second"
    log_in(site, "rita@esante.lu")
    for language in ("fr", "de", "en"):
        duo.driver.add_cookie({"name": "esante_lang", "value": language, "path": "/"})
        duo.driver.get(f"{site.url}/backoffice/dossier/{anna}")
        duo.wait_for_element("#case-proposal-note")
        audit.check("reviewer: a colleague's proposal, its note and the return panel")
    duo.driver.add_cookie({"name": "esante_lang", "value": "fr", "path": "/"})
    duo.driver.get(f"{site.url}/backoffice/dossier/{anna}")
    note = duo.find_element("#case-proposal-note")
    assert note.text == "Photo d'une autre personne"
    shot(duo, "flow-proposal-for-the-second-reviewer")
    click(duo, "case-return")  # no comment yet: said, nothing changes
    duo.wait_for_contains_text("#case-message", "La note est vide")
    duo.find_element("#case-return-comment").send_keys("Comparez avec la pièce d'identité")
    click(duo, "case-return")
    duo.wait_for_contains_text("#case-message", "renvoyée à son auteur(e)")
    assert not duo.driver.find_elements(By.ID, "case-proposal-note")
    assert "Comparez avec la pièce d'identité" in duo.find_element("#case-notes").text
    with site.backend.uow() as uow:
        assert uow.session.get(Enrolment, anna).assignee_id == alice
    audit.report(capsys)
    assert audit.blocking == {}, audit.blocking


def test_keyboard_shortcuts_on_the_case_page(site, audit, capsys):
    duo = site.duo
    anna, berta = pending_cases(site, 2)
    f.reviewer(site.backend, "rita@esante.lu")
    log_in(site, "rita@esante.lu")
    wait_for_column(duo, "secretary", ["Anna Kieffer-Anna", "Berta Kieffer-Berta"])
    open_first_row(duo)
    body = duo.find_element("body")
    help_panel = duo.find_element("#case-shortcuts")
    assert help_panel.get_attribute("open") is None
    body.send_keys("?")  # shows them
    wait(duo, lambda d: help_panel.get_attribute("open") is not None, "help not shown")
    assert "dossier suivant" in help_panel.text
    shot(duo, "flow-shortcuts-help")
    # Announced on the visible buttons themselves.
    for button, key in (("case-approve", "a"), ("case-reject", "r"), ("case-next", "n")):
        assert duo.find_element(f"#{button}").get_attribute("aria-keyshortcuts") == key
    audit.check("reviewer: case page with the shortcuts' help")
    # Typing in a field never fires one: "a", "r" and "n" are letters of her note.
    note = duo.find_element("#case-reject-note")
    note.send_keys("a r n ?")
    assert not dialog_open(duo.driver)
    assert note.get_attribute("value") == "a r n ?"
    assert heading(duo).endswith("Anna Kieffer-Anna")
    # r without a reason goes to the reason's list; no dialog.
    body.send_keys("r")
    wait(duo, lambda d: d.switch_to.active_element.get_attribute("id") == "case-reason", "focus")
    assert not dialog_open(duo.driver)
    # a asks for the in-page confirmation, as the button does.
    body.send_keys("a")
    wait(duo, dialog_open, "no dialog")
    assert (
        "Vous approuvez l'identité de Anna Kieffer-Anna"
        in duo.find_element("#case-confirm-text").text
    )
    duo.find_element("#case-confirm-no").click()
    wait(duo, lambda d: not dialog_open(d), "still open")
    # n: the next case of her view, without deciding.
    duo.find_element("body").send_keys("n")
    duo.wait_for_contains_text("#page-heading", "Berta")
    assert f"/backoffice/dossier/{berta}?from=queue" in duo.driver.current_url
    assert states(site, [anna, berta]) == {lc.PENDING_REVIEW}
    audit.report(capsys)
    assert audit.blocking == {}, audit.blocking
