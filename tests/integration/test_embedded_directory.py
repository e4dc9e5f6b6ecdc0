"""The embedded development directory: scim2-server under /dev/scim/v2 (bearer token), the
dispatcher writing to it in process, its read-only view, and a storage that survives a
restart."""

from __future__ import annotations

import dataclasses
import json

from dashboard.app import create_app
from dashboard.config import DEVELOPMENT_SCIM_TOKEN
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.bootstrap import Backend
from dashboard.enrolment.provisioning import DirectoryState
from dashboard.enrolment.scim import FileStorage, ScimDirectory, embedded_application
from tests import dashclient as dc
from tests import factories as f


def test_the_app_serves_its_directory_and_the_dispatcher_fills_it(backend):
    app = create_app(backend.settings, backend=backend)
    client = app.server.test_client()
    f.walk_to(backend, f.professional(backend, code="M7"), lc.ACCOUNT_CREATED)
    assert f.provision(backend).done == 1
    assert client.get("/dev/scim/v2/Users").status_code == 401
    answer = client.get(
        "/dev/scim/v2/Users", headers={"Authorization": f"Bearer {DEVELOPMENT_SCIM_TOKEN}"}
    )
    assert answer.status_code == 200 and "scim+json" in answer.content_type
    [user] = answer.get_json()["Resources"]
    assert user["active"] is True
    page = json.dumps(dc.render_page(client, "/dev/annuaire").get_json())
    assert '"access-denied"' not in page
    shown = json.dumps(
        dc.call(
            client, [("directory-list", "children")], [("directory-refresh", "n_intervals", 1)]
        ).get_json()
    )
    assert user["externalId"] in shown and "M7" in shown
    assert "Schmit" not in shown  # no personal data in the view


def test_the_file_storage_survives_a_restart_and_sees_another_process(tmp_path):
    path = tmp_path / "scim.json"
    state = DirectoryState("d-1", "Marie", "Schmit", "m@example.lu", False)
    ScimDirectory.in_process(embedded_application(FileStorage(path), DEVELOPMENT_SCIM_TOKEN)).apply(
        state
    )
    again = ScimDirectory.in_process(
        embedded_application(FileStorage(path), DEVELOPMENT_SCIM_TOKEN)
    )
    assert [e.directory_id for e in again.read()] == ["d-1"]


def test_with_scim_url_nothing_is_mounted_and_the_view_says_so(sqlite_backend):
    """SCIM_URL names the identity platform: the app serves no directory of its own."""
    settings = dataclasses.replace(
        sqlite_backend.settings, scim_url="https://idp.example.lu/scim/v2", scim_token="t0ken"
    )
    be = Backend(settings, sqlite_backend.engine, sqlite_backend.clock)
    assert be.directory_app is None
    client = create_app(settings, backend=be).server.test_client()
    answer = client.get(
        "/dev/scim/v2/Users", headers={"Authorization": f"Bearer {DEVELOPMENT_SCIM_TOKEN}"}
    )
    assert "scim+json" not in answer.content_type  # Dash's page shell, no directory
    assert "Resources" not in answer.get_data(as_text=True)
    shown = json.dumps(
        dc.call(
            client, [("directory-list", "children")], [("directory-refresh", "n_intervals", 1)]
        ).get_json(),
        ensure_ascii=False,
    )
    assert "SCIM_URL" in shown and "Resources" not in shown
