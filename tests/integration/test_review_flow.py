"""The reviewer's daily flow (issue 22): the queue view kept in the URL, the next case of
that view after a decision, the claim on opening from the queue, and the in-page
confirmation that names the person and the decision."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from dashboard.callbacks import review as view_cb
from dashboard.enrolment import case_file, codes, decisions, review
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.errors import Forbidden, IllegalTransition, ValidationFailed
from dashboard.enrolment.model import Decision
from dashboard.enrolment.review import QueueQuery
from tests import dashclient as dc
from tests import factories as f
from tests.integration.test_review import (
    OTHER_BIRTH,
    act,
    actions,
    client_for,
    enrolment,
    pending,
    pending_with_identity,
    person,
    queue,
)
from tests.integration.test_review import app as app  # noqa: F401 (fixture)


@pytest.fixture
def prof(backend) -> int:
    return f.professional(backend)


@pytest.fixture
def alice(backend) -> int:
    return f.reviewer(backend, "alice@esante.lu")


@pytest.fixture
def bob(backend) -> int:
    return f.reviewer(backend, "bob@esante.lu")


def three_cases(backend, clock, prof) -> list[int]:
    """Marie, Laura, Sophie: confirmed an hour apart (the queue's default order)."""
    cases = []
    for key in ("marie", "laura", "sophie"):
        cases.append(pending(backend, prof, key))
        clock.advance(hours=1)
    return cases


def following(backend, staff_id, current, **query) -> int | None:
    with backend.uow() as uow:
        return review.next_case(uow, QueueQuery(**query), staff_id, current)


# --- the service: the next case of a view ----------------------------------------------------


def test_the_next_case_follows_the_views_order_and_wraps_around(backend, clock, prof, alice):
    marie, laura, sophie = three_cases(backend, clock, prof)
    assert following(backend, alice, marie) == laura
    assert following(backend, alice, laura) == sophie
    assert following(backend, alice, sophie) == marie  # back to the start of the view
    # Another order: by the secretary's name as shown (Laura Weber, Marie Schmit, Sophie
    # Muller).
    by_name = {"sort": (("secretary", "asc"),)}
    assert following(backend, alice, laura, **by_name) == marie
    assert following(backend, alice, marie, **by_name) == sophie
    assert following(backend, alice, sophie, **by_name) == laura
    # A filter: the search keeps only Laura, so nothing follows her.
    assert following(backend, alice, laura, search="weber") is None


def test_the_next_case_skips_a_colleagues_and_her_own_proposals(backend, clock, prof, alice, bob):
    marie, laura, sophie = three_cases(backend, clock, prof)
    with backend.uow() as uow:
        decisions.claim(uow, laura, bob)
    assert following(backend, alice, marie) == sophie  # Laura is Bob's
    second = pending_with_identity(backend, prof, "paula", observed=OTHER_BIRTH)
    with backend.uow() as uow:
        assert decisions.approve(uow, second, alice) == "awaiting_second"
    # Her own proposal waits for a colleague: never "next" for her, but for Bob it is.
    assert following(backend, alice, sophie) == marie
    assert following(backend, bob, sophie) == second


def test_a_case_gone_from_the_view_leads_to_the_views_first(backend, clock, prof, alice):
    marie, laura, _sophie = three_cases(backend, clock, prof)
    with backend.uow() as uow:
        decisions.approve(uow, marie, alice)
    assert following(backend, alice, marie) == laura


def test_claim_if_free_takes_only_an_unassigned_case_under_review(backend, prof, alice, bob):
    case = pending(backend, prof)
    with backend.uow() as uow:
        assert decisions.claim_if_free(uow, case, alice) is True
    with backend.uow() as uow:
        assert decisions.claim_if_free(uow, case, bob) is False  # Alice's: left as it is
    assert enrolment(backend, case).assignee_id == alice
    assert actions(backend, case).count("claimed") == 1
    declared, _ = f.walk_to(backend, prof, lc.CGU_ACCEPTED, **person("nora"))
    with backend.uow() as uow:
        assert decisions.claim_if_free(uow, declared, alice) is False


# --- the view in the URL -----------------------------------------------------------------------


def test_a_view_goes_through_the_url_and_back():
    shown = {
        "quick": ["overdue", "mine"],
        "q": "Marie (Paule) & co",
        "sort": [["secretary", "asc"]],
    }
    search = view_cb.view_search(shown)
    assert search.startswith("?from=queue&quick=mine%2Coverdue&q=Marie%20%28Paule")
    read = view_cb.queue_view(view_cb.parse_query_string(search))
    assert read == {
        "quick": ["mine", "overdue"],
        "q": "Marie (Paule) & co",
        "sort": [["secretary", "asc"]],
    }
    assert view_cb.queue_href(read) == "/backoffice" + search.replace("from=queue&", "")
    # Not from the queue, or nonsense: no view, or the default one.
    assert view_cb.queue_view({"quick": "mine"}) is None
    assert view_cb.view_of({"quick": "all,mine", "sort": "id.up,state.desc", "q": ["x"]}) == {
        "quick": ["mine"],
        "q": "",
        "sort": [["state", "desc"]],
    }
    assert view_cb.queue_href(None) == "/backoffice"


# --- the pages and callbacks -------------------------------------------------------------------


def render(client, path: str, search: str = "") -> str:
    response = dc.call(
        client,
        [("_pages_content", "children"), ("_pages_store", "data")],
        [("_pages_location", "pathname", path), ("_pages_location", "search", search)],
    )
    assert response.status_code == 200
    return json.dumps(response.get_json(), ensure_ascii=False)


def test_opening_from_the_queue_claims_the_case_and_says_so(backend, clock, app, prof, alice, bob):
    marie, laura, _sophie = three_cases(backend, clock, prof)
    client = client_for(app, alice)
    page = render(client, f"/backoffice/dossier/{marie}")  # by its number: not claimed
    assert enrolment(backend, marie).assignee_id is None
    assert "Vous traitez ce dossier" not in page and '"case-next"' not in page
    page = render(client, f"/backoffice/dossier/{marie}", "?from=queue&quick=unassigned")
    assert enrolment(backend, marie).assignee_id == alice
    assert "Vous traitez ce dossier." in page and '"case-release"' in page
    assert '"case-next"' in page and '"href": "/backoffice?quick=unassigned"' in page
    # A colleague opening it from the queue does not take it from her.
    page = render(client_for(app, bob), f"/backoffice/dossier/{marie}", "?from=queue")
    assert enrolment(backend, marie).assignee_id == alice
    assert "Traité par alice" in page
    # What she just decided is said on the next case.
    page = render(client, f"/backoffice/dossier/{laura}", f"?from=queue&decided={marie}.approved")
    assert f"Dossier n° {marie}\u00a0: identité approuvée" in page


def test_deciding_from_a_view_goes_to_its_next_case(backend, clock, app, prof, alice):
    marie, laura, sophie = three_cases(backend, clock, prof)
    client = client_for(app, alice)
    # By the name as shown: Laura Weber, Marie Schmit, Sophie Muller.
    shown = {"quick": [], "q": "", "sort": [["secretary", "desc"]]}  # Sophie, Marie, Laura
    out = dc.values(act(client, "case-approve-confirm", marie, None, view=shown))
    assert enrolment(backend, marie).state == lc.ACCOUNT_CREATED
    assert out[("case-nav", "href")] == (
        f"/backoffice/dossier/{laura}?from=queue&sort=secretary.desc&decided={marie}.approved"
    )
    assert out[("case-confirm", "is_open")] is False
    assert ("case-body", "children") not in out  # the page is left, not redrawn
    out = dc.values(
        act(
            client,
            "case-reject",
            laura,
            None,
            reason="declaration_error",
            note="Prénom mal saisi",
            view=shown,
        )
    )
    assert out[("case-nav", "href")].startswith(f"/backoffice/dossier/{sophie}?from=queue")
    assert out[("case-nav", "href")].endswith(f"decided={laura}.rejected")
    # The last one: she stays, told that her view is empty.
    out = dc.values(act(client, "case-approve-confirm", sophie, None, view=shown))
    assert ("case-nav", "href") not in out
    assert "plus d'autre dossier" in out[("case-message", "children")]
    # "Dossier suivant" on an empty view says so too.
    nxt = dc.call_by_input(
        client,
        "case-next",
        [("case-next", "n_clicks", 1)],
        [("case-id", "data", str(sophie)), ("case-view", "data", shown)],
    )
    assert "plus d'autre dossier" in dc.values(nxt)[("case-message", "children")]


def test_a_refused_decision_stays_on_the_case(backend, clock, app, prof, alice, bob):
    marie, laura, _sophie = three_cases(backend, clock, prof)
    with backend.uow() as uow:
        decisions.approve(uow, marie, bob)
    out = dc.values(
        act(client_for(app, alice), "case-reject", marie, None, reason="declaration_error", view={})
    )
    assert ("case-nav", "href") not in out
    assert out[("case-message", "children")] == "Ce dossier a déjà été traité (Compte créé)."


def confirm(client, trigger, facts, reason=None):
    return dc.values(
        dc.call_by_input(
            client,
            "case-approve",
            [
                ("case-approve", "n_clicks", 1 if trigger == "case-approve" else None),
                ("case-reject", "n_clicks", 1 if trigger == "case-reject" else None),
                ("case-confirm-no", "n_clicks", 1 if trigger == "case-confirm-no" else None),
            ],
            [
                ("case-facts", "data", facts),
                ("case-reason", "value", reason),
                ("case-reject-note", "value", ""),
            ],
            triggered=f"{trigger}.n_clicks",
        )
    )


def test_the_confirmation_names_the_person_and_the_decision(backend, app, prof, alice, bob):
    case = pending(backend, prof)
    second = pending_with_identity(backend, prof, "laura", observed=OTHER_BIRTH)
    client = client_for(app, alice)
    page = render(client, f"/backoffice/dossier/{case}")
    facts = next(
        c["props"]["data"]
        for c in dc.components(json.loads(page))
        if c["props"].get("id") == "case-facts"
    )
    out = confirm(client, "case-approve", facts)
    assert out[("case-confirm", "is_open")] is True
    assert out[("case-confirming", "data")] == {"decision": "approve"}
    assert "Vous approuvez l'identité de Marie Schmit" in out[("case-confirm-text", "children")]
    assert out[("case-confirm-yes", "children")] == "Approuver l'identité"
    # A reason first; then the reason is named.
    out = confirm(client, "case-reject", facts)
    assert out[("case-confirm", "is_open")] is False
    assert out[("case-message", "children")] == "Choisissez un motif de refus."
    out = confirm(client, "case-reject", facts, reason="declaration_error")
    text = out[("case-confirm-text", "children")]
    assert "Vous refusez la demande de Marie Schmit" in text and "erreur" in text.lower()
    # Four eyes: the approval is a proposal a second reviewer confirms; so is a fraud refusal.
    page = render(client, f"/backoffice/dossier/{second}")
    facts = next(
        c["props"]["data"]
        for c in dc.components(json.loads(page))
        if c["props"].get("id") == "case-facts"
    )
    out = confirm(client, "case-approve", facts)
    assert "Un(e) second(e) relecteur(rice) confirmera" in out[("case-confirm-text", "children")]
    assert out[("case-confirm-yes", "children")] == "Proposer l'approbation"
    out = confirm(client, "case-reject", facts, reason="suspected_fraud")
    assert "Un(e) second(e) relecteur(rice) confirmera" in out[("case-confirm-text", "children")]
    # The colleague confirming is told whose proposal she confirms.
    with backend.uow() as uow:
        decisions.approve(uow, second, alice)
    page = render(client_for(app, bob), f"/backoffice/dossier/{second}")
    facts = next(
        c["props"]["data"]
        for c in dc.components(json.loads(page))
        if c["props"].get("id") == "case-facts"
    )
    out = confirm(client_for(app, bob), "case-approve", facts)
    assert "Vous confirmez la proposition de alice" in out[("case-confirm-text", "children")]
    out = confirm(client, "case-confirm-no", facts)
    assert out[("case-confirm", "is_open")] is False


def test_the_confirmation_is_for_reviewers_only(backend, app, prof):
    manager = f.reviewer(backend, "manon@esante.lu", roles=("manager",))
    assert (
        dc.call_by_input(
            client_for(app, manager),
            "case-approve",
            [
                ("case-approve", "n_clicks", 1),
                ("case-reject", "n_clicks", None),
                ("case-confirm-no", "n_clicks", None),
            ],
            [
                ("case-facts", "data", {}),
                ("case-reason", "value", None),
                ("case-reject-note", "value", None),
            ],
        ).status_code
        == 403
    )


def test_a_case_claimed_on_opening_keeps_its_place_in_an_unassigned_view(
    backend, clock, prof, alice
):
    _marie, laura, sophie = three_cases(backend, clock, prof)
    with backend.uow() as uow:
        decisions.claim(uow, laura, alice)  # opened from the "unassigned" view: hers now
    assert following(backend, alice, laura, quick=frozenset({"unassigned"})) == sophie


# --- notes that say why, and "return with comment" (issue 22) --------------------------------


def test_a_refusal_and_a_proposal_need_a_note_in_the_back_office(backend, prof, alice, bob):
    case = pending(backend, prof)
    second = pending_with_identity(backend, prof, "laura", observed=OTHER_BIRTH)
    with backend.uow() as uow:
        with pytest.raises(ValidationFailed) as refused:
            decisions.reject(uow, case, alice, reason_code="declaration_error", require_note=True)
        assert "reject_note" in refused.value.errors
        with pytest.raises(ValidationFailed) as refused:
            decisions.approve(uow, second, alice, require_note=True)
        assert "note" in refused.value.errors
        # A plain approval (no second look) needs no note.
        assert decisions.approve(uow, case, alice, require_note=True) == lc.ACCOUNT_CREATED
        assert (
            decisions.approve(
                uow, second, alice, note="Date de naissance : erreur", require_note=True
            )
            == "awaiting_second"
        )
    # The second reviewer reads the proposer's reasoning first; she needs no note to confirm.
    with backend.uow() as uow:
        view = case_file.case_view(uow, second, bob)
        assert view.proposal["note"] == "Date de naissance : erreur"
        assert decisions.approve(uow, second, bob, require_note=True) == lc.ACCOUNT_CREATED


def test_a_proposal_returned_with_a_comment_goes_back_to_its_author(backend, prof, alice, bob):
    case = pending_with_identity(backend, prof, "laura", observed=OTHER_BIRTH)
    with backend.uow() as uow:
        decisions.approve(uow, case, alice, note="Faute de frappe probable")
        decisions.claim(uow, case, alice)
    with backend.uow() as uow:
        with pytest.raises(ValidationFailed):  # a return says why
            decisions.return_proposal(uow, case, bob, "  ")
        with pytest.raises(Forbidden):  # her own: she withdraws it instead
            decisions.return_proposal(uow, case, alice, "Je me renvoie")
        assert decisions.return_proposal(uow, case, bob, "Vérifiez l'acte de naissance") == alice
    with backend.uow() as uow:
        view = case_file.case_view(uow, case, alice)
        assert view.state == lc.PENDING_REVIEW and view.proposal is None
        assert view.assignee_id == alice  # back in "Mes dossiers"
        assert ("bob", "Vérifiez l'acte de naissance") in [
            (w.split("@")[0], t) for _a, w, t in view.notes
        ]
        returned = uow.session.scalars(select(Decision).where(Decision.enrolment_id == case)).one()
        assert (returned.status, returned.confirmed_by_id) == ("returned", bob)
        with pytest.raises(IllegalTransition):  # nothing left to return
            decisions.return_proposal(uow, case, bob, "Encore")
    assert "proposal_returned" in actions(backend, case)
    # She can propose again, with a better note; a colleague then confirms.
    with backend.uow() as uow:
        assert decisions.approve(uow, case, alice, note="Acte vérifié") == "awaiting_second"
        assert decisions.approve(uow, case, bob) == lc.ACCOUNT_CREATED


def test_the_return_button_and_the_reason_texts_in_the_page(backend, app, prof, alice, bob):
    case = pending_with_identity(backend, prof, "laura", observed=OTHER_BIRTH)
    with backend.uow() as uow:
        decisions.approve(uow, case, alice, note="Faute de frappe probable")
    mine = render(client_for(app, alice), f"/backoffice/dossier/{case}")
    theirs = render(client_for(app, bob), f"/backoffice/dossier/{case}")
    panel = next(
        c for c in dc.components(json.loads(theirs)) if c["props"].get("id") == "case-return-panel"
    )
    assert panel["props"]["hidden"] is False
    assert "Faute de frappe probable" in theirs
    own = next(
        c for c in dc.components(json.loads(mine)) if c["props"].get("id") == "case-return-panel"
    )
    assert own["props"]["hidden"] is True  # the author does not send it back to herself

    def send_back(client, comment):
        return dc.values(
            dc.call_by_input(
                client,
                "case-return",
                [("case-return", "n_clicks", 1)],
                [
                    ("case-id", "data", str(case)),
                    ("case-version", "data", enrolment(backend, case).version),
                    ("case-return-comment", "value", comment),
                ],
            )
        )

    out = send_back(client_for(app, bob), "")
    assert out[("case-message", "color")] == "danger"
    assert ("case-body", "children") not in out  # kept as typed
    out = send_back(client_for(app, bob), "Vérifiez l'acte")
    assert out[("case-message", "color")] == "success"
    assert "renvoyée à son auteur(e)" in out[("case-message", "children")]
    assert enrolment(backend, case).assignee_id == alice

    # A reason chosen fills the note with its starting text, never over her own words.
    def pick(reason, note):
        return dc.values(
            dc.call_by_input(
                client_for(app, bob),
                "case-reason",
                [("case-reason", "value", reason)],
                [("case-reject-note", "value", note)],
            )
        )

    fraud = codes.reason_note_template("suspected_fraud")
    assert fraud.startswith("Suspicion de fraude")
    assert pick("suspected_fraud", "")[("case-reject-note", "value")] == fraud
    assert pick("declaration_error", fraud)[("case-reject-note", "value")].startswith("Erreur")
    assert ("case-reject-note", "value") not in pick("declaration_error", "Mon texte")


def test_the_search_treats_hyphens_and_spaces_alike(backend, clock, prof, alice):
    hyphen = pending(backend, prof, "marie", first_names="Marie-Paule", last_name="Schmit")
    clock.advance(hours=1)
    space = pending(backend, prof, "laura", first_names="Anne Sophie", last_name="Weber")
    clock.advance(hours=1)
    pending(backend, prof, "sophie", first_names="Mariel", last_name="Paulen")

    def found(search):
        rows, _total = queue(backend, alice, search=search)
        return {r.enrolment_id for r in rows}

    assert found("Marie Paule") == {hyphen}
    assert found("marie-paule schmit") == {hyphen}
    assert found("Anne-Sophie") == {space}
    assert found("Anne Sophie") == {space}
    assert found("Marie_Paule") == set()  # a typed underscore is itself, not a wildcard
