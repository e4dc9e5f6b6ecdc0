"""Who gets what: every registered page and every server callback, for every role.

Dash serves layouts and callbacks through POST /_dash-update-component, which anyone can
call, so each must refuse the wrong role on the server. This walks them all.
"""

from __future__ import annotations

import json

import dash
import pytest

from dashboard import auth
from dashboard.app import create_app
from dashboard.enrolment import kernel, matricule
from dashboard.enrolment import lifecycle as lc
from tests import dashclient as dc
from tests import factories as f

ROLES = ("anonymous", "secretary", "professional", "reviewer", "lead", "manager", "admin")
# Dash's own page-routing callback: it renders layouts, each of which is guarded itself.
DASH_INTERNAL = {"_pages_content", "_pages_dummy"}


@pytest.fixture
def world(sqlite_backend):
    """A small populated world: a case under review with personal data to protect."""
    be = sqlite_backend
    prof = f.professional(be)
    case_id, token_hash = f.walk_to(be, prof, lc.PENDING_REVIEW)
    staff = {
        role: f.reviewer(be, email=f"{role}@esante.lu", roles=(role,))
        for role in ("reviewer", "lead", "manager", "admin")
    }
    other = f.declare(
        be,
        prof,
        matricule=matricule.make("19900203", "456"),
        email="other@example.lu",
        last_name="Weber",
        first_names="Laura",
    )
    app = create_app(be.settings, backend=be)
    return {
        "app": app,
        "prof": prof,
        "case": case_id,
        "staff": staff,
        "secretary_hash": kernel.hash_token(other.token),
    }


def client_as(world, role):
    client = world["app"].server.test_client()
    if role == "secretary":
        f.signed_in(client, "enrolment", token_hash=world["secretary_hash"])
    elif role == "professional":
        f.signed_in(client, "professional", world["prof"])
    elif role in world["staff"]:
        f.signed_in(client, "staff", world["staff"][role])
    return client


def _allowed(fn) -> frozenset[str]:
    while fn is not None and not hasattr(fn, "allowed_roles"):
        fn = getattr(fn, "__wrapped__", None)
    return fn.allowed_roles if fn is not None else frozenset()


def _role_set(role: str) -> set[str]:
    # Without SMTP outside production, the development mailbox is open to every visitor.
    return {auth.PUBLIC, auth.DEVELOPER} | ({role} if role != "anonymous" else set())


PERSONAL = ("Schmit", "marie.schmit@example.lu", f.MARIE["matricule"])


def test_every_page_has_a_server_side_guard(world):
    for page in dash.page_registry.values():
        assert _allowed(page["layout"]), f"page {page['path']} has no auth.page guard"


@pytest.mark.parametrize("role", ROLES)
def test_pages_by_role(world, role):
    client = client_as(world, role)
    for page in dash.page_registry.values():
        path = page["path"]
        if page.get("path_template"):
            path = page["path_template"].replace("<case_id>", str(world["case"]))
        allowed = _allowed(page["layout"])
        response = dc.render_page(client, path)
        assert response.status_code == 200, (path, role, response.data[:200])
        body = json.dumps(response.get_json(), ensure_ascii=False)
        if allowed & _role_set(role):
            continue
        assert '"access-denied"' in body, f"{role} reached {path}"
        for value in PERSONAL:
            assert value not in body, f"{role} saw {value} on {path}"


def _server_callbacks(app):
    for key, entry in list(app.callback_map.items()):
        if any(part in key for part in DASH_INTERNAL) or "callback" not in entry:
            continue  # Dash's router, and clientside callbacks (run in the browser)
        yield key, entry


def test_every_callback_has_a_server_side_guard(world):
    app = world["app"]
    unguarded = [key for key, entry in _server_callbacks(app) if not _allowed(entry["callback"])]
    assert unguarded == []


def _call_with_nothing(client, key, entry):
    """POST the callback as the renderer would, with empty values and a 'click'."""
    spec = next(d for d in world_dependencies(client) if d["output"] == key)
    outputs = [tuple(o.rsplit(".", 1)) for o in _split_outputs(key)]
    inputs = [
        (i["id"], i["property"], 1 if i["property"].startswith("n_") else None)
        for i in spec["inputs"]
    ]
    state = [(s["id"], s["property"], None) for s in spec["state"]]
    return dc.call(client, outputs, inputs, state)


def _split_outputs(key: str) -> list[str]:
    if key.startswith(".."):
        return key.strip(".").split("...")
    return [key]


_deps_cache: dict = {}


def world_dependencies(client):
    if "deps" not in _deps_cache:
        _deps_cache["deps"] = client.get("/_dash-dependencies").get_json()
    return _deps_cache["deps"]


@pytest.mark.parametrize("role", ROLES)
def test_callbacks_refuse_every_role_they_do_not_serve(world, role):
    _deps_cache.clear()
    client = client_as(world, role)
    checked = 0
    for key, entry in _server_callbacks(world["app"]):
        allowed = _allowed(entry["callback"])
        response = _call_with_nothing(client, key, entry)
        if allowed & _role_set(role):
            assert response.status_code != 403, (key, role)
            assert response.status_code != 500, (key, role, response.data[:300])
        else:
            assert response.status_code == 403, (key, role, response.status_code)
            body = response.get_data(as_text=True)
            for value in PERSONAL:
                assert value not in body
        checked += 1
    assert checked >= 10


def test_the_development_mailbox_is_closed_once_smtp_is_configured(world, sqlite_backend):
    settings = sqlite_backend.settings.replace(smtp_url="smtp://127.0.0.1:2525")
    app = create_app(settings, backend=sqlite_backend)
    for role in ROLES:
        client = app.server.test_client()
        world_client = client_as({**world, "app": app}, role)
        page = json.dumps(dc.render_page(world_client, "/dev/mailbox").get_json())
        assert '"access-denied"' in page, role
        response = dc.call(
            world_client, [("mailbox-list", "children")], [("mailbox-refresh", "n_intervals", 1)]
        )
        assert response.status_code == 403, role
        del client
