"""A reviewer's saved queue views (issue 22), on SQLite and PostgreSQL: kept per reviewer,
opened as the queue's URL, only what a view may hold, bad names refused with nothing lost."""

from __future__ import annotations

import json

import pytest

from dashboard.app import create_app
from dashboard.enrolment import queue_views
from dashboard.enrolment.errors import Forbidden, NotFound, ValidationFailed
from tests import dashclient as dc
from tests import factories as f


@pytest.fixture
def staff(backend):
    return (
        f.reviewer(backend, "rita@esante.lu"),
        f.reviewer(backend, "victor@esante.lu"),
        f.reviewer(backend, "m@esante.lu", roles=("manager",)),
    )


def test_views_are_kept_per_reviewer_and_cleaned(backend, staff):
    rita, victor, manager = staff
    forged = {
        "quick": ["overdue", "mine", "bogus", "mine"],
        "q": " Marie Paule " + "x" * 300,
        "sort": [["secretary", "asc"], ["matricule", "asc"], ["waiting_days", "sideways"]],
        "extra": "ignored",
    }
    with backend.uow() as uow:
        kept = queue_views.save_view(uow, rita, "  Mes   retards ", forged)
    assert kept.name == "Mes retards"
    assert kept.view == {
        "quick": ["mine", "overdue"],
        "q": ("Marie Paule " + "x" * 300)[:200],
        "sort": [["secretary", "asc"]],
    }
    with backend.uow() as uow:  # the same name replaces it
        again = queue_views.save_view(uow, rita, "Mes retards", {"quick": ["second"]})
    assert again.key == kept.key and again.view["quick"] == ["second"]
    with backend.uow() as uow:
        hers = queue_views.views_of(uow, rita)
        his = queue_views.views_of(uow, victor)
    assert [v.name for v in hers if v.saved] == ["Mes retards"]
    assert not any(v.saved for v in his)
    assert [v.name for v in his][0] == "Mes dossiers en retard"  # built in, for everyone
    with pytest.raises(NotFound), backend.uow() as uow:  # not his to delete
        queue_views.delete_view(uow, victor, kept.key)
    with pytest.raises(NotFound), backend.uow() as uow:  # built-in views stay
        queue_views.delete_view(uow, rita, "builtin:mine-overdue")
    with backend.uow() as uow:
        queue_views.delete_view(uow, rita, kept.key)
    with backend.uow() as uow:
        assert not any(v.saved for v in queue_views.views_of(uow, rita))
    with pytest.raises(Forbidden), backend.uow() as uow:
        queue_views.views_of(uow, manager)


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("", "Donnez un nom"),
        ("   ", "Donnez un nom"),
        ("x" * 61, "trop long"),
        ("vue\u202eabc", "non autorisés"),
    ],
)
def test_a_bad_name_is_refused_with_a_message(backend, staff, name, says):
    with pytest.raises(ValidationFailed) as err, backend.uow() as uow:
        queue_views.save_view(uow, staff[0], name, {"quick": ["mine"]})
    assert says in err.value.errors["name"]


def test_the_queue_page_saves_and_opens_views(backend, staff):
    rita = staff[0]
    app = create_app(backend.settings, backend=backend)
    client = f.signed_in(app.server.test_client(), "staff", rita)
    page = json.dumps(dc.render_page(client, "/backoffice").get_json())
    assert '"queue-views"' in page and '"queue-save-view"' in page
    request = {
        "startRow": 0,
        "endRow": 100,
        "filterModel": {},
        "sortModel": [{"colId": "secretary", "sort": "desc"}],
    }
    saved = dc.values(
        dc.call(
            client,
            [
                ("queue-views-message", "children"),
                ("queue-view-name", "value"),
                ("queue-views", "value"),
                ("queue-views-changed", "data"),
            ],
            [("queue-save-view", "n_clicks", 1), ("queue-delete-view", "n_clicks", None)],
            state=[
                ("queue-view-name", "value", "Mes retards"),
                ("queue-views", "value", None),
                ("queue-quick", "value", ["mine", "overdue"]),
                ("queue-search", "value", "weber"),
                ("queue-grid", "getRowsRequest", request),
            ],
            triggered="queue-save-view.n_clicks",
        )
    )
    assert saved[("queue-views-message", "children")] == "Vue « Mes retards » enregistrée."
    key = saved[("queue-views", "value")]
    options = dc.values(
        dc.call(
            client,
            [("queue-views", "options")],
            [("queue-views", "id", "queue-views"), ("queue-views-changed", "data", True)],
        )
    )[("queue-views", "options")]
    assert {"label": "Mes retards", "value": key} in options
    assert options[0] == {
        "label": "Mes dossiers en retard (proposée)",
        "value": "builtin:mine-overdue",
    }
    href = dc.values(
        dc.call(client, [("queue-views-nav", "href")], [("queue-views", "value", key)])
    )[("queue-views-nav", "href")]
    assert href == "/backoffice?quick=mine%2Coverdue&q=weber&sort=secretary.desc"
    # The page opened at that address shows the view.
    page = json.dumps(dc.render_page(client, href).get_json())
    assert '"value": ["mine", "overdue"]' in page and '"value": "weber"' in page
