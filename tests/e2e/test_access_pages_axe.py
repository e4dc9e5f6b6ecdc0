"""axe-core over the pages of issue 20 in the three languages: the professional's "Mes
secrétaires" and its end-of-access dialog, the admins' "Accès des secrétaires" (0 serious
or critical). The managers' metrics page is audited too, and its one known violation kept
in view: Dash 4's DatePickerRange puts an ARIA attribute its wrapper may not carry."""

from __future__ import annotations

from sqlalchemy import select

from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.model import AccountLink
from tests import factories as f
from tests.e2e.test_accessibility import audit as audit  # noqa: F401 (fixture)
from tests.e2e.test_professional_journey import log_in as professional_log_in
from tests.e2e.test_reviewer_journey import PASSWORD
from tests.e2e.test_secretary_journey import wait_for_path

LANGUAGES = ("fr", "de", "en")


def _staff_log_in(site, email: str) -> None:
    duo = site.duo
    duo.driver.delete_all_cookies()
    duo.driver.get(site.url + "/backoffice/connexion")
    duo.find_element("#staff-email").send_keys(email)
    duo.find_element("#staff-password").send_keys(PASSWORD)
    duo.find_element("#staff-login-submit").click()
    wait_for_path(duo, "/backoffice/accueil")


def _language(duo, site, language: str) -> None:
    duo.driver.add_cookie({"name": "esante_lang", "value": language, "path": "/"})


def test_the_access_pages_pass_axe_in_every_language(site, audit, capsys):
    duo = site.duo
    prof = f.professional(site.backend, 1, luxtrust_subject="demo-professional-1", code="M12345")
    f.walk_to(site.backend, prof, lc.ACCOUNT_CREATED)
    site.backend.deliver_provisioning()
    with site.backend.uow() as uow:
        link = uow.session.scalars(select(AccountLink.id)).one()
    f.reviewer(site.backend, "manager@esante.lu", roles=("manager",))
    f.reviewer(site.backend, "admin@esante.lu", roles=("admin",))

    professional_log_in(site)
    wait_for_path(duo, "/professionnel")
    for language in LANGUAGES:
        _language(duo, site, language)
        duo.driver.get(site.url + "/professionnel/secretaires")
        duo.wait_for_element("#pro-link-open")
        audit.check("professional: my secretaries")
        duo.driver.get(f"{site.url}/professionnel/secretaires?fin={link}")
        duo.wait_for_element("#pro-link-confirm")
        audit.check("professional: end of access, the confirmation")

    _staff_log_in(site, "admin@esante.lu")
    for language in LANGUAGES:
        _language(duo, site, language)
        duo.driver.get(f"{site.url}/backoffice/acces?pro={prof}")
        duo.wait_for_element("#admin-link-open")
        audit.check("admin: secretaries' access")

    _staff_log_in(site, "manager@esante.lu")
    for language in LANGUAGES:
        _language(duo, site, language)
        duo.driver.get(site.url + "/backoffice/indicateurs")
        duo.wait_for_element("#metrics-links-ended .main-svg")
        duo.wait_for_contains_text("#metrics-kpis", "1")
        audit.check("manager: metrics with the access figures")
    audit.report(capsys)
    known = {k: v for k, v in audit.blocking.items() if k.startswith("manager: metrics")}
    for found in known.values():  # only the date picker's wrapper, nothing else
        assert found == [f for f in found if "#metrics-dates-wrapper" in f], found
    assert {k: v for k, v in audit.blocking.items() if k not in known} == {}, audit.blocking
