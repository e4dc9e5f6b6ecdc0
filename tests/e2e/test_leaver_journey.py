"""Joiner → leaver → return, in a real browser, against a real SCIM server process.

A professional declares his secretary in the browser; she follows the emailed link and her
LuxTrust identity matches; the identity platform (scim2-server, reached over HTTP as
SCIM_URL says) gets her User and his Group's membership, and only then are the "account
created" emails sent. He ends her access from "Mes secrétaires": the membership goes, the
User becomes inactive, both are emailed. He declares her again and she completes it: the
SAME account comes back (same directory id, one SCIM User, active, member again) and the
ended link stays as history.

The two dispatchers the workers run (provisioning, then mail) are called by the test at
chosen moments, so what is — and is not yet — at the SCIM server and in the real SMTP
inbox (aiosmtpd) is asserted between them.
"""

from __future__ import annotations

import re

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import matricule
from dashboard.enrolment.model import AccountLink, Enrolment, SecretaryAccount
from tests import factories as f
from tests.e2e.test_professional_journey import log_in
from tests.e2e.test_secretary_journey import (
    ACCOUNT_SUBJECT,
    DOCTOR_ACCOUNT_SUBJECT,
    DOCTOR_EMAIL,
    DOCTOR_NAME,
    INVITATION_SUBJECT,
    MARIE,
    absent,
    choose,
    luxtrust_login,
    open_link_and_reach_matricule,
    wait_for_path,
)

CODE = "M12345"  # the professional's code: his Group's displayName in the directory
# What LuxTrust says of her (persona "marie-louise": full first names, capitals): the
# account, and so his list, carries these names.
HER_NAME = "Marie Louise SCHMIT"
HER_ENDED_SUBJECT = f"Votre accès eSanté auprès de {DOCTOR_NAME} a pris fin"
# The professional's notice names her as he declared her.
HIS_ENDED_SUBJECT = (
    f"L'accès eSanté de {MARIE.first_names} {MARIE.last_name} à votre espace a pris fin"
)
REASON_LABEL = "A quitté le cabinet"  # codes.LINK_END_LABELS[LEFT_PRACTICE]


# --- helpers ------------------------------------------------------------------------------


def send_mail(site, total: int) -> None:
    """The mail dispatcher alone (not the provisioning one); then the inbox holds `total`."""
    site.backend.deliver_mail(site.transport)
    messages = site.smtp.inbox.wait_for(total)
    assert len(messages) == total, [(to, m["Subject"]) for to, m in messages]


def subjects_to(site, address: str) -> list[str]:
    return [m["Subject"] for m in site.smtp.inbox.to(address)]


def templates_to(site, address: str) -> list[str]:
    """The template of each email `address` received, as its Message-ID names it
    (mail.queue: make_msgid(idstring=<template, "-" for "_">))."""
    return [
        m["Message-ID"].split("@")[0].rsplit(".", 1)[1].replace("-", "_")
        for m in site.smtp.inbox.to(address)
    ]


def latest_invitation(site) -> str:
    [*_, message] = site.smtp.inbox.to(MARIE.email)
    assert message["Subject"] == INVITATION_SUBJECT
    body = message.get_body(("plain",)).get_content()
    return re.search(r"https?://\S+/enrolment/invitation/\S+", body).group(0)


def provision(site) -> None:
    report = site.backend.deliver_provisioning()
    assert report.done == 1 and not (report.retried or report.failed or report.lost), report


def accounts(site) -> list[SecretaryAccount]:
    with site.backend.uow() as uow:
        return list(uow.session.scalars(select(SecretaryAccount)))


def links_of(site, account_id: int) -> list[AccountLink]:
    with site.backend.uow() as uow:
        return list(
            uow.session.scalars(
                select(AccountLink)
                .where(AccountLink.account_id == account_id)
                .order_by(AccountLink.id)
            )
        )


def state_of(site, enrolment_id: int) -> str:
    with site.backend.uow() as uow:
        return uow.session.get(Enrolment, enrolment_id).state


def newest_enrolment(site) -> int:
    with site.backend.uow() as uow:
        return uow.session.scalar(select(Enrolment.id).order_by(Enrolment.id.desc()))


def he_logs_in(site) -> None:
    duo = site.duo
    duo.driver.delete_all_cookies()
    log_in(site, persona="pro-1")
    wait_for_path(duo, "/professionnel")
    duo.wait_for_contains_text("h1", "Mes déclarations")


def type_into(duo, element_id: str, text: str) -> None:
    """Type into an empty field (dash_duo.clear_input spends most of a second a field)."""
    field = duo.find_element(f"#{element_id}")
    assert field.get_attribute("value") == "", element_id
    field.send_keys(text)


def he_declares_her(site) -> None:
    """From his list, through the declaration form."""
    duo = site.duo
    duo.find_element("#pro-declare-link").click()
    duo.wait_for_text_to_equal("#page-heading", "Déclarer une secrétaire médicale")
    type_into(duo, "decl-last-name", MARIE.last_name)
    type_into(duo, "decl-first-names", MARIE.first_names)
    type_into(duo, "decl-matricule", matricule.format_display(MARIE.matricule))
    type_into(duo, "decl-email", MARIE.email)
    type_into(duo, "decl-email-confirm", MARIE.email)
    duo.find_element("#decl-submit").click()
    duo.wait_for_contains_text("#decl-result", "La déclaration a été enregistrée.")


def she_completes(site, link: str) -> None:
    """In her own browser (none of his cookies): CGU, matricule, a LuxTrust identity that
    matches the declaration."""
    duo = site.duo
    duo.driver.delete_all_cookies()
    open_link_and_reach_matricule(site, link)
    duo.find_element("#matricule-input").send_keys(MARIE.matricule)
    duo.find_element("#matricule-submit").click()
    luxtrust_login(site, "marie-louise")
    duo.wait_for_text_to_equal("#page-heading", "Votre compte a été créé")


def directory_holds_her_as(site, directory_id: str, *, active: bool, member: bool) -> None:
    [user] = site.scim.users()  # one User, whatever happened before
    assert user["externalId"] == directory_id
    assert site.scim.user(directory_id)["active"] is active
    assert site.scim.members(CODE) == ({directory_id} if member else set())


def wait_until_url_has(duo, fragment: str, timeout: float = 10) -> None:
    WebDriverWait(duo.driver, timeout).until(
        lambda d: fragment in d.current_url, f"the address never had {fragment}"
    )


def he_opens_his_secretaries(site) -> None:
    duo = site.duo
    duo.find_element("#pro-secretaries-link").click()
    wait_for_path(duo, "/professionnel/secretaires")
    duo.wait_for_text_to_equal("#page-heading", "Mes secrétaires")


# --- the journey ----------------------------------------------------------------------------


def test_joiner_leaver_and_return_reach_the_scim_server(scim_site):
    site, duo = scim_site, scim_site.duo
    prof = f.professional(site.backend, 1, luxtrust_subject="demo-professional-1", code=CODE)

    # 1. He logs in with LuxTrust (the simulator) and declares her.
    he_logs_in(site)
    he_declares_her(site)
    first_enrolment = newest_enrolment(site)
    send_mail(site, total=1)
    assert subjects_to(site, MARIE.email) == [INVITATION_SUBJECT]

    # 2. She follows the emailed link; her identity matches.
    she_completes(site, latest_invitation(site))
    assert state_of(site, first_enrolment) == lc.ACCOUNT_CREATED
    [account] = accounts(site)
    directory_id = account.directory_id
    assert account.status == "active" and directory_id

    # 3. Nothing is said before the directory confirmed the account: mail is delivered,
    #    and still no "account created" email; the SCIM server has no User yet.
    send_mail(site, total=1)
    assert subjects_to(site, MARIE.email) == [INVITATION_SUBJECT]
    assert subjects_to(site, DOCTOR_EMAIL) == []
    assert site.scim.users() == []

    provision(site)
    directory_holds_her_as(site, directory_id, active=True, member=True)
    [group] = site.scim.groups()
    assert group["displayName"] == CODE

    send_mail(site, total=3)
    assert subjects_to(site, MARIE.email) == [INVITATION_SUBJECT, ACCOUNT_SUBJECT]
    assert subjects_to(site, DOCTOR_EMAIL) == [DOCTOR_ACCOUNT_SUBJECT]

    # 4. He ends her access from "Mes secrétaires", after the in-page confirmation.
    he_logs_in(site)
    he_opens_his_secretaries(site)
    [link] = links_of(site, account.id)
    card = duo.wait_for_element(f"#pro-link-end-{link.id}")
    assert HER_NAME in duo.find_element("#pro-link-open").text
    assert absent(duo, "#pro-link-history")
    card.click()
    wait_until_url_has(duo, f"fin={link.id}")
    duo.wait_for_contains_text("#pro-link-confirm-title", f"Mettre fin à l'accès de {HER_NAME}")

    # Without a reason nothing ends, and the confirmation says why.
    duo.find_element("#pro-link-confirm").click()
    duo.wait_for_contains_text("#pro-link-reason-error", "Choisissez le motif")
    assert links_of(site, account.id)[0].ended_at is None

    reason = duo.driver.find_element(
        By.XPATH,
        f"//*[@id='pro-link-reason']//label[normalize-space(.)='{REASON_LABEL}']",
    )
    choose(duo, reason.get_attribute("for"))
    type_into(duo, "pro-link-note", "Départ fin du mois")
    duo.find_element("#pro-link-confirm").click()

    wait_until_url_has(duo, f"termine={link.id}")
    duo.wait_for_contains_text("#pro-link-done", f"L'accès de {HER_NAME} a pris fin le")
    duo.wait_for_contains_text("#pro-link-history", f"{HER_NAME} : du ")
    history = duo.find_element("#pro-link-history").text
    assert f"{REASON_LABEL} (par le professionnel)" in history
    duo.wait_for_contains_text("#pro-link-none", "Aucune secrétaire n'a d'accès")
    assert absent(duo, "#pro-link-modal")

    [ended] = links_of(site, account.id)
    assert (ended.end_reason, ended.end_note, ended.ended_by_type, ended.ended_by_id) == (
        "left_practice",
        "Départ fin du mois",
        "professional",
        str(prof),
    )
    [account] = accounts(site)
    assert account.status == "inactive"  # that was her only link

    # 5. The directory follows only when the dispatcher runs: until then, unchanged.
    directory_holds_her_as(site, directory_id, active=True, member=True)
    provision(site)
    directory_holds_her_as(site, directory_id, active=False, member=False)

    send_mail(site, total=5)
    assert subjects_to(site, MARIE.email) == [
        INVITATION_SUBJECT,
        ACCOUNT_SUBJECT,
        HER_ENDED_SUBJECT,
    ]
    assert subjects_to(site, DOCTOR_EMAIL) == [DOCTOR_ACCOUNT_SUBJECT, HIS_ENDED_SUBJECT]
    assert templates_to(site, MARIE.email) == ["invitation", "account_created", "link_ended"]
    assert templates_to(site, DOCTOR_EMAIL) == [
        "professional_account_created",
        "professional_link_ended",
    ]
    [*_, to_her] = site.smtp.inbox.to(MARIE.email)
    body = to_her.get_body(("plain",)).get_content()
    assert "à sa demande" in body and "départ du cabinet" in body
    assert "Votre compte eSanté est désactivé" in body

    # 6. He declares her again; she completes it: the same account comes back.
    he_logs_in(site)
    he_declares_her(site)
    second_enrolment = newest_enrolment(site)
    assert second_enrolment != first_enrolment
    send_mail(site, total=6)
    she_completes(site, latest_invitation(site))
    assert state_of(site, second_enrolment) == lc.ACCOUNT_CREATED

    [again] = accounts(site)  # still one row for her
    assert (again.id, again.directory_id, again.status) == (account.id, directory_id, "active")
    old, new = links_of(site, account.id)
    assert (old.id, old.ended_at is not None, old.end_reason) == (link.id, True, "left_practice")
    assert (new.ended_at, new.enrolment_id, new.professional_id) == (
        None,
        second_enrolment,
        prof,
    )

    # The directory is still told she left, until the dispatcher runs; then she is back,
    # as the same User (no second one).
    directory_holds_her_as(site, directory_id, active=False, member=False)
    send_mail(site, total=6)  # and nobody is told yet that she is back
    provision(site)
    directory_holds_her_as(site, directory_id, active=True, member=True)
    send_mail(site, total=8)
    assert templates_to(site, MARIE.email)[-2:] == ["invitation", "account_created"]
    assert templates_to(site, DOCTOR_EMAIL)[-1] == "professional_account_created"

    # His list shows her again, and the ended access as history.
    he_logs_in(site)
    he_opens_his_secretaries(site)
    duo.wait_for_element(f"#pro-link-end-{new.id}")
    assert HER_NAME in duo.find_element("#pro-link-open").text
    duo.wait_for_contains_text("#pro-link-history", f"{REASON_LABEL} (par le professionnel)")
    assert absent(duo, f"#pro-link-end-{link.id}")
