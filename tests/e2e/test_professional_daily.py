"""The professional's daily use in a real browser (issue 22): his declarations as cards on
a phone (360 × 640), a grid with no cell cut off at 1280 px, and a declaration that ends on
a confirmation. Screenshots go to /tmp/pro-*.png (to look at them; nothing compares them).

What the server answers to each callback: tests/integration/test_professional_daily.py.
"""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import matricule
from dashboard.i18n import long_date
from tests import factories as f
from tests.e2e.test_accessibility import AXE, BLOCKING, axe_violations, summary
from tests.e2e.test_professional_journey import fill, log_in_and_reach_the_list, wait_for_path

# Long names and addresses, as real ones can be: nothing of them may be cut off.
PEOPLE = [
    {
        "last_name": "Muller-Weber-Kieffer",
        "first_names": "Marie-Louise Anne",
        "matricule": matricule.make("19850412", "123"),
        "email": "marie-louise.muller-weber@cabinet-medical-du-centre.lu",
    },
    {
        "last_name": "Thill",
        "first_names": "Paul",
        "matricule": matricule.make("19900723", "045"),
        "email": "paul.thill@example.lu",
    },
    {
        "last_name": "Kremer",
        "first_names": "Isabelle",
        "matricule": matricule.make("19880617", "042"),
        "email": "isabelle.kremer@example.lu",
    },
]
LAURA = {
    "last_name": "Weber",
    "first_names": "Laura",
    "matricule": matricule.make("19900203", "456"),
    "email": "laura.weber@example.lu",
}

NO_HORIZONTAL_SCROLL_JS = "return [document.documentElement.scrollWidth, window.innerWidth];"
# Every grid cell and header: what it holds fits in what it shows (nothing cut off, no
# ellipsis), measured on the cell and on the element inside it that holds the text.
CUT_OFF_CELLS_JS = """
const cut = [];
const grid = document.getElementById('declarations-grid');
const cells = grid.querySelectorAll(
  '.ag-cell, .ag-cell-value, .ag-header-cell-text, .ag-header-cell-label');
for (const el of cells) {
  if (el.offsetParent === null) { continue; }
  if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1) {
    cut.push([el.className, el.textContent.trim(), el.scrollWidth, el.clientWidth,
              el.scrollHeight, el.clientHeight]);
  }
}
return [cells.length, cut];
"""
SMALL_TARGETS_JS = """
const small = [];
for (const el of document.querySelectorAll('#decl-cards a.btn, #decl-next-modal .btn')) {
  const r = el.getBoundingClientRect();
  if (r.width && (r.height < 44 || r.width < 44)) { small.push(el.textContent.trim()); }
}
return small;
"""


def no_serious_axe_violation(duo, where: str) -> None:
    """WCAG 2.1 AA as tests/e2e/test_accessibility.py checks it (axe-core from `npm ci`)."""
    if not AXE.exists():
        return  # test_accessibility.py skips, and says why, without it
    serious = [v for v in axe_violations(duo) if v["impact"] in BLOCKING]
    assert serious == [], (where, summary(serious))


def wait_until(duo, condition, message: str, timeout: float = 10):
    return WebDriverWait(duo.driver, timeout).until(condition, message)


def phone(duo) -> None:
    duo.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 360, "height": 640, "deviceScaleFactor": 2, "mobile": True},
    )


def desktop(duo) -> None:
    duo.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    duo.driver.set_window_size(1280, 900)


def his_declarations(site) -> dict[str, int]:
    prof = f.professional(site.backend, 1, luxtrust_subject="demo-professional-1")
    ids = {"declared": f.declare(site.backend, prof, **PEOPLE[0]).enrolment_id}
    ids["cgu"], _ = f.walk_to(site.backend, prof, lc.CGU_ACCEPTED, **PEOPLE[1])
    ids["pending"], _ = f.walk_to(site.backend, prof, lc.PENDING_REVIEW, **PEOPLE[2])
    return ids


def card(duo, enrolment_id: int):
    return duo.driver.find_element(By.ID, f"decl-card-{enrolment_id}")


def test_on_a_phone_his_declarations_are_cards_with_one_action_each(site):
    duo = site.duo
    ids = his_declarations(site)
    log_in_and_reach_the_list(site)
    phone(duo)
    duo.driver.get(site.url + "/professionnel")
    duo.wait_for_element("#decl-card-list")
    wait_until(duo, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".decl-card")) == 3, "cards")
    # Cards instead of the grid: no grid, no row actions, no horizontal scroll.
    assert not duo.driver.find_element(By.ID, "declarations-grid").is_displayed()
    assert not duo.driver.find_element(By.ID, "decl-actions").is_displayed()
    width, inner = duo.driver.execute_script(NO_HORIZONTAL_SCROLL_JS)
    assert width <= inner, (width, inner)
    duo.driver.save_screenshot("/tmp/pro-cards-360.png")
    no_serious_axe_violation(duo, "cards")
    # Each card: the person, the state in plain words, the matricule whole, one action.
    first = card(duo, ids["declared"])
    assert "Marie-Louise Anne Muller-Weber-Kieffer" in first.text
    assert "Invitation envoyée" in first.text and "n'a pas encore commencé" in first.text
    assert "1985 0412 123 93" in first.text
    assert PEOPLE[0]["email"] in first.text.replace("\n", "")
    actions = {
        # (what follows the visible text is for screen readers: whose declaration)
        name: [a.text.split("\n")[0] for a in card(duo, i).find_elements(By.CSS_SELECTOR, "a.btn")]
        for name, i in ids.items()
    }
    assert actions == {
        "declared": ["Renvoyer l'invitation"],
        "cgu": ["Annuler la déclaration"],
        "pending": [],
    }
    assert duo.driver.execute_script(SMALL_TARGETS_JS) == []
    # Nothing of a card is wider than the screen.
    for element in first.find_elements(By.CSS_SELECTOR, "*"):
        rect = duo.driver.execute_script(
            "const r = arguments[0].getBoundingClientRect(); return [r.right, r.width];", element
        )
        assert rect[0] <= inner + 1, (element.text, rect)

    # Its action: a confirmation first, then it is done and said once.
    link = first.find_element(By.CSS_SELECTOR, "a.btn")
    duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", link
    )
    link.click()
    duo.wait_for_element("#decl-next-confirm")
    duo.wait_for_contains_text("#decl-next-title", "Renvoyer l'invitation à Marie-Louise")
    assert duo.driver.execute_script(SMALL_TARGETS_JS) == []
    duo.driver.save_screenshot("/tmp/pro-cards-confirm-360.png")
    no_serious_axe_violation(duo, "a card's confirmation")
    duo.find_element("#decl-next-confirm").click()
    duo.wait_for_contains_text("#decl-action-message", "Une nouvelle invitation a été envoyée")
    assert PEOPLE[0]["email"] in duo.find_element("#decl-action-message").text.replace("\n", "")
    wait_until(duo, lambda d: not d.find_elements(By.ID, "decl-next-modal"), "dialog stays")
    # The first invitation and the new one reach her.
    site.deliver_mail()
    wait_until(duo, lambda d: len(site.smtp.inbox.to(PEOPLE[0]["email"])) == 2, "no new mail")
    duo.wait_for_element("#decl-card-list")
    width, inner = duo.driver.execute_script(NO_HORIZONTAL_SCROLL_JS)
    assert width <= inner


def _grid_ready(duo, rows: int) -> None:
    wait_until(
        duo,
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#declarations-grid .ag-row")) >= rows,
        "grid rows",
        timeout=15,
    )


def test_at_1280_px_no_cell_is_cut_off_in_any_language(site):
    duo = site.duo
    ids = his_declarations(site)
    log_in_and_reach_the_list(site)
    desktop(duo)
    for language in ("fr", "de", "en"):
        duo.driver.add_cookie({"name": "esante_lang", "value": language, "path": "/"})
        duo.driver.get(site.url + "/professionnel")
        _grid_ready(duo, len(ids))
        assert not duo.driver.find_element(By.ID, "decl-cards").is_displayed()
        count, cut = duo.driver.execute_script(CUT_OFF_CELLS_JS)
        assert count > 20 and cut == [], (language, cut)
        width, inner = duo.driver.execute_script(NO_HORIZONTAL_SCROLL_JS)
        assert width <= inner, (language, width, inner)
        row = duo.driver.find_element(By.CSS_SELECTOR, f".ag-row[row-id='{ids['declared']}']")
        text = row.text
        assert "1985 0412 123 93" in text
        assert PEOPLE[0]["email"] in text.replace("\n", "")
        # The long date of the page's language (declared now, Luxembourg time).
        assert long_date(site.clock.now, language) in text, (language, text)
        if language == "fr":
            duo.driver.save_screenshot("/tmp/pro-grid-1280.png")


def test_a_declaration_ends_on_a_confirmation_with_an_empty_form(site):
    duo = site.duo
    f.professional(site.backend, 1, luxtrust_subject="demo-professional-1")
    log_in_and_reach_the_list(site)
    desktop(duo)
    duo.find_element("#pro-declare-link").click()
    duo.wait_for_text_to_equal("#page-heading", "Déclarer une secrétaire médicale")

    # Errors: each under its field, summarised once as links in the same box.
    duo.find_element("#decl-submit").click()
    duo.wait_for_contains_text("#decl-summary", "rien n'a été enregistré")
    wait_until(
        duo,
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#error-summary a")) >= 4,
        "no summary",
    )
    body = duo.driver.find_element(By.TAG_NAME, "body").text
    error = duo.find_element("#decl-last-name-error").text
    assert body.count(error) == 2  # under the field, and its link in the summary
    assert body.count("Corrigez") == 1
    assert not duo.driver.find_elements(By.CSS_SELECTOR, ".error-summary-title:not(:empty)")
    duo.driver.save_screenshot("/tmp/pro-declare-errors-1280.png")
    no_serious_axe_violation(duo, "declaration form, every field missing")

    for name, value in (
        ("decl-last-name", LAURA["last_name"]),
        ("decl-first-names", LAURA["first_names"]),
        ("decl-matricule", matricule.format_display(LAURA["matricule"])),
        ("decl-email", LAURA["email"]),
        ("decl-email-confirm", LAURA["email"]),
    ):
        fill(duo, name, value)
    duo.find_element("#decl-submit").click()
    duo.wait_for_text_to_equal("#page-heading", "Invitation envoyée")
    result = duo.find_element("#decl-result").text
    assert f"Invitation envoyée à {LAURA['email']}" in result
    assert "la personne déclarée a 30 jours, jusqu'au" in result
    # The form is gone (a second click cannot happen) and emptied; focus on the heading.
    assert not duo.find_element("#decl-submit").is_displayed()
    assert not duo.find_element("#decl-summary").text
    values = duo.driver.execute_script(
        "return [...document.querySelectorAll('#decl-form input')].map(i => i.value);"
    )
    assert values and set(values) == {""}
    assert duo.driver.execute_script("return document.activeElement.id") == "page-heading"
    duo.driver.save_screenshot("/tmp/pro-confirmation-1280.png")
    no_serious_axe_violation(duo, "confirmation")
    phone(duo)
    width, inner = duo.driver.execute_script(NO_HORIZONTAL_SCROLL_JS)
    assert width <= inner
    duo.driver.save_screenshot("/tmp/pro-confirmation-360.png")
    desktop(duo)
    assert len(site.mails_to(LAURA["email"])) == 1  # one declaration, one invitation

    # "Déclarer une autre secrétaire": a new, empty form.
    duo.find_element("#decl-another").click()
    duo.wait_for_text_to_equal("#page-heading", "Déclarer une secrétaire médicale")
    assert duo.find_element("#decl-submit").is_displayed()
    for name in ("decl-last-name", "decl-matricule", "decl-email"):
        assert duo.find_element(f"#{name}").get_attribute("value") == ""
    # And back to the confirmation's other way out: his list, with her in it.
    fill(duo, "decl-last-name", "Hoffmann")
    fill(duo, "decl-first-names", "Anne")
    fill(duo, "decl-matricule", matricule.make("19791130", "321"))
    fill(duo, "decl-email", "anne.hoffmann@example.lu")
    fill(duo, "decl-email-confirm", "anne.hoffmann@example.lu")
    duo.find_element("#decl-submit").click()
    duo.wait_for_text_to_equal("#page-heading", "Invitation envoyée")
    duo.find_element("#decl-done-list").click()
    wait_for_path(duo, "/professionnel")
    _grid_ready(duo, 2)
    grid = duo.find_element("#declarations-grid").text
    assert "Laura Weber" in grid and "Anne Hoffmann" in grid
