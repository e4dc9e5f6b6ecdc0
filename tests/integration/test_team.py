"""The reviewers' team lead (issue 22), on SQLite and PostgreSQL: each reviewer's open and
overdue cases, counted as the queue counts them; cases moved in bulk, each move audited;
only what she saw is moved; nobody but a lead sees or moves anything."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from dashboard.app import create_app
from dashboard.enrolment import decisions, matricule, review, team
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.errors import Forbidden, ValidationFailed
from dashboard.enrolment.model import Enrolment, Event
from dashboard.enrolment.review import QueueQuery
from tests import dashclient as dc
from tests import factories as f

NAMES = ["Anna", "Berta", "Carla", "Dora", "Emma", "Frida"]


@pytest.fixture
def office(backend, clock):
    """Six cases: Rita holds three (two overdue), Victor one, two nobody's (one overdue)."""
    prof = f.professional(backend)
    people = {
        "rita": f.reviewer(backend, "rita@esante.lu"),
        "victor": f.reviewer(backend, "victor@esante.lu"),
        "lena": f.reviewer(backend, "lena@esante.lu", roles=("lead",)),
        "manager": f.reviewer(backend, "m@esante.lu", roles=("manager",)),
    }
    cases = []
    for i, name in enumerate(NAMES):
        case, _th = f.walk_to(
            backend,
            prof,
            lc.PENDING_REVIEW,
            first_names=name,
            last_name="Kieffer",
            matricule=matricule.make("19800101", f"{100 + i}"),
            email=f"{name.lower()}@example.lu",
        )
        cases.append(case)
        if i == 2:
            clock.advance(days=7)  # the first three are past their working days from here
    for case, who in zip(cases, ["rita", "rita", None, "rita", "victor", None], strict=True):
        if who:
            with backend.uow() as uow:
                decisions.claim(uow, case, people[who])
    return people, cases


def _loads(backend, lead) -> list[tuple]:
    with backend.uow() as uow:
        return [(x.staff_id, x.name, x.open_cases, x.overdue) for x in team.team_load(uow, lead)]


def test_each_reviewer_s_load_is_the_queue_s_own_count(backend, office):
    people, _cases = office
    loads = _loads(backend, people["lena"])
    assert [(name, n, late) for _i, name, n, late in loads] == [
        ("rita", 3, 2),
        ("victor", 1, 0),
        ("Non attribués", 2, 1),
    ]
    # The same numbers as each reviewer's own "Mes dossiers" and "En retard" in the queue.
    with backend.uow() as uow:
        for staff_id, _name, n, late in loads[:-1]:
            mine = review.queue_page(uow, QueueQuery(quick=frozenset({"mine"})), staff_id)[1]
            both = frozenset({"mine", "overdue"})
            assert (mine, review.queue_page(uow, QueueQuery(quick=both), staff_id)[1]) == (n, late)
        counts = review.quick_counts(uow, people["rita"])
    assert (counts["unassigned"], loads[-1][2]) == (2, 2)


def test_cases_move_in_bulk_and_each_move_is_audited(backend, office):
    people, cases = office
    lead, rita, victor = people["lena"], people["rita"], people["victor"]
    with backend.uow() as uow:
        hers = [c.enrolment_id for c in team.cases_of(uow, lead, rita)]
        assert [c.overdue for c in team.cases_of(uow, lead, rita)] == [True, True, False]
    assert hers == [cases[0], cases[1], cases[3]]
    with backend.uow() as uow:
        done = team.reassign(uow, lead, hers[:2], victor, rita)
    assert (done.moved, done.skipped) == (2, 0)
    assert _loads(backend, lead)[0][1:] == ("victor", 3, 2)
    with backend.uow() as uow:
        moves = uow.session.scalars(
            select(Event).where(Event.action == "assigned").order_by(Event.id)
        ).all()
        assert [(e.enrolment_id, e.actor_id) for e in moves] == [(c, str(lead)) for c in hers[:2]]
        assert moves[0].data == {"assignee_id": victor, "previous_assignee_id": rita, "bulk": 2}
        assert {uow.session.get(Enrolment, c).assignee_id for c in hers[:2]} == {victor}


def test_only_what_she_saw_is_moved(backend, office):
    people, cases = office
    lead, rita, victor = people["lena"], people["rita"], people["victor"]
    with backend.uow() as uow:  # meanwhile: one decided, one released
        decisions.approve(uow, cases[0], rita)
    with backend.uow() as uow:
        decisions.release(uow, cases[1], rita)
    with backend.uow() as uow:
        done = team.reassign(uow, lead, [cases[0], cases[1], cases[3]], victor, rita)
    assert (done.moved, done.skipped) == (1, 2)
    with backend.uow() as uow:
        assert uow.session.get(Enrolment, cases[1]).assignee_id is None
        assert uow.session.get(Enrolment, cases[0]).state == lc.ACCOUNT_CREATED


def test_bad_requests_move_nothing(backend, office):
    people, cases = office
    lead, rita = people["lena"], people["rita"]
    for ids, to, source, field in (
        ([], people["victor"], rita, "cases"),
        ([cases[0]], people["manager"], rita, "to"),  # not a reviewer
        ([cases[0]], 999_999, rita, "to"),
        ([cases[0]], rita, rita, "to"),
        (list(range(1, team.MAX_MOVE + 2)), people["victor"], rita, "cases"),
    ):
        with pytest.raises(ValidationFailed) as err, backend.uow() as uow:
            team.reassign(uow, lead, ids, to, source)
        assert field in err.value.errors
    for who in ("rita", "manager"):
        for call in (
            lambda uow, w=who: team.team_load(uow, people[w]),
            lambda uow, w=who: team.cases_of(uow, people[w], None),
            lambda uow, w=who: team.reassign(uow, people[w], [cases[2]], people["victor"], None),
        ):
            with pytest.raises(Forbidden), backend.uow() as uow:
                call(uow)
    with backend.uow() as uow:
        assert not uow.session.scalars(select(Event).where(Event.action == "assigned")).all()


def test_the_team_page_shows_the_load_and_moves_the_checked_cases(backend, office):
    people, cases = office
    app = create_app(backend.settings, backend=backend)
    client = f.signed_in(app.server.test_client(), "staff", people["lena"])
    page = json.dumps(dc.render_page(client, "/backoffice/equipe").get_json(), ensure_ascii=False)
    assert "Équipe de vérification" in page
    loaded = dc.values(
        dc.call(
            client,
            [
                ("team-load", "children"),
                ("team-chart", "figure"),
                ("team-from", "options"),
                ("team-to", "options"),
            ],
            [("team-load", "id", "team-load"), ("team-done", "data", None)],
        )
    )
    assert [o["label"] for o in loaded[("team-from", "options")]] == [
        "rita (3)",
        "victor (1)",
        "Non attribués (2)",
    ]
    chart = loaded[("team-chart", "figure")]["data"]
    assert [bar["x"] for bar in chart] == [[1, 1, 1], [2, 0, 1]]  # on time, overdue
    listed = dc.values(
        dc.call(
            client,
            [("team-cases", "options"), ("team-cases", "value"), ("team-cases-empty", "children")],
            [("team-from", "value", "nobody"), ("team-done", "data", None)],
        )
    )[("team-cases", "options")]
    assert [o["label"] for o in listed] == ["Carla Kieffer — en retard", "Frida Kieffer"]
    moved = dc.values(
        dc.call(
            client,
            [
                ("team-message", "children"),
                ("team-message", "color"),
                ("team-message", "is_open"),
                ("team-done", "data"),
            ],
            [("team-move", "n_clicks", 1)],
            state=[
                ("team-from", "value", "nobody"),
                ("team-cases", "value", [o["value"] for o in listed]),
                ("team-to", "value", str(people["victor"])),
            ],
        )
    )
    assert moved[("team-message", "children")] == "2 dossier(s) réattribué(s)."
    assert moved[("team-message", "color")] == "success"
    with backend.uow() as uow:
        assert {uow.session.get(Enrolment, c).assignee_id for c in (cases[2], cases[5])} == {
            people["victor"]
        }
    # A reviewer neither sees the page nor moves anything.
    reviewer = f.signed_in(app.server.test_client(), "staff", people["rita"])
    page = json.dumps(dc.render_page(reviewer, "/backoffice/equipe").get_json())
    assert '"access-denied"' in page and "Kieffer" not in page
