"""Hostile input through every form, callback and route (issue #7, point 5).

A corpus of hostile values (markup, SQL fragments, 10,000 characters, control characters,
NUL bytes, bidi overrides, zero-width characters, homoglyphs, emoji, lone surrogates,
JSON-breaking quotes, template placeholders, oversized numbers) is sent:

* into every text-carrying input and state of every server callback listed by
  /_dash-dependencies, as each role that may call it, and into the structured values
  (grid selections, AG Grid requests) at each of their fields;
* through the plain routes: the emailed link, the LuxTrust login and callback, the staff
  login form, and the command line `declare`;
* as malformed JSON bodies to /_dash-update-component.

Never a 500; a declaration with hostile names is refused with a French message (and writes
nothing at all: every table is counted before and after) or stored as given and rendered as
text; nothing is rendered as HTML, as a link target or as unescaped Markdown.

SQLite always; PostgreSQL as well when TEST_DATABASE_URL is set: PostgreSQL refuses NUL
bytes in text, so some defects show there only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
import shutil
from contextlib import redirect_stderr, redirect_stdout
from urllib.parse import quote, urlencode

import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from dashboard import auth
from dashboard.__main__ import main as cli_main
from dashboard.app import create_app
from dashboard.config import Settings
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import matricule, sessions, staff
from dashboard.enrolment.bootstrap import Backend
from dashboard.enrolment.db import make_engine
from dashboard.enrolment.model import Base, Enrolment, Event
from tests import dashclient as dc
from tests import factories as f
from tests.conftest import PG_URL, Clock, _database_params, _truncate_pg

# --- the corpus ----------------------------------------------------------------------------------

CORPUS = {
    "script": "<script>alert(1)</script>",
    "img-onerror": "<img src=x onerror=alert(1)>",
    "sql-drop": "'; DROP TABLE enrolments; --",
    "sql-or": "1 OR 1=1",
    "sql-union": '" UNION SELECT password_hash FROM staff_users --',
    "long": "A" * 10_000,
    "long-markup": "<b>é</b>" * 1250,
    "control": "Ma\x07rie\x1b[31m",
    "nul": "Ma\x00rie",
    "rtl-override": "\u202eeiraM",
    "zero-width": "Ma\u200brie",
    "homoglyph": "Маrіе Ѕсhmіt",  # Cyrillic letters that look Latin
    "emoji": "Marie 👩\u200d⚕️",
    "astral": "𝔐𝔞𝔯𝔦𝔢",
    "lone-surrogate": "Ma\ud800rie",
    "json-quotes": '"}]},{"x":"\\\'`',
    "markdown-link": "[clic](javascript:alert(1))",
    "template": "{email} {0} {{7*7}} ${7*7} %s%n",
    "header-injection": "x@example.lu\r\nBcc: evil@example.com",
    "huge-number": "9" * 30,
    "negative": "-1",
    "whitespace": " \t\u00a0\u2028 ",
    "arabic-digits": "١٩٨٥٠٤١٢١٢٣٩٣",
    "email-like": "a\x00b@example.lu",
}
COUNTERS = {"n_clicks", "n_submit", "n_intervals", "submit_n_clicks"}
ROLES = ("anonymous", "secretary", "professional", "reviewer", "manager", "admin")
DASH_INTERNAL = {"_pages_content", "_pages_dummy"}
MARKDOWN_FIELDS = {"queue-grid": {"secretary", "due"}, "declarations-grid": {"state_display"}}
LINK_PROPS = {"href", "src", "action", "formAction", "srcDoc"}
FRENCH = re.compile(r"[éèàçêôù]|\b(le|la|les|des|doit|champ|est|n'est|pas|introuvable)\b", re.I)


def _table_counts(backend) -> dict[str, int]:
    """Rows in every table of the schema: 'nothing half-written' is this, unchanged (but
    for the sessions the sweep's own clients open as they are first used)."""
    with backend.uow() as uow:
        return {
            t.name: uow.session.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables
            if t.name != "login_sessions"
        }


# --- what "rendered safely" means ----------------------------------------------------------------


def _strings(tree):
    if isinstance(tree, str):
        yield tree
    elif isinstance(tree, dict):
        for value in tree.values():
            yield from _strings(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _strings(value)


def unsafe_renderings(payload, value: str) -> list[str]:
    """Where a hostile `value` would reach the page as something else than text."""
    problems = []
    needle = value.strip()
    if len(needle) < 3:
        return problems
    for comp in dc.components(payload):
        props = comp["props"]
        if props.get("dangerously_allow_html") or props.get("dangerously_allow_code"):
            problems.append(f"{comp['type']} with dangerously_allow_*")
        if comp["type"] == "Markdown" and any(needle in s for s in _strings(props)):
            problems.append("value inside a Markdown component")
        for name in LINK_PROPS & set(props):
            if isinstance(props[name], str) and needle in props[name]:
                problems.append(f"value inside {comp['type']}.{name}")
    # AG Grid cells rendered as Markdown: the value must come escaped.
    for grid, fields in MARKDOWN_FIELDS.items():
        for rows in _grid_rows(payload, grid):
            for row in rows:
                for field in fields:
                    cell = str(row.get(field, ""))
                    if any(c in needle for c in "[]()<>*_`") and needle in cell:
                        problems.append(f"unescaped value in the Markdown cell {grid}.{field}")
    return problems


def test_the_rendering_check_sees_every_unsafe_rendering():
    """The check above can fail: each unsafe way of showing a value is caught."""
    from dash import dcc, html

    from dashboard.callbacks.review import _escape_markdown

    value = CORPUS["markdown-link"]

    def payload(component):
        return json.loads(json.dumps({"response": {"x": {"children": component}}}, cls=_Enc))

    assert unsafe_renderings(payload(html.P(value)), value) == []
    assert unsafe_renderings(payload(dcc.Markdown(value)), value)
    assert unsafe_renderings(payload(dcc.Markdown("x", dangerously_allow_html=True)), value)
    assert unsafe_renderings(payload(html.A("lien", href=value)), value)
    grid = {"response": {"queue-grid": {"getRowsResponse": {"rowData": [{"secretary": value}]}}}}
    assert unsafe_renderings(grid, value)
    escaped = [{"secretary": f"[{_escape_markdown(value)}](/backoffice/dossier/1)"}]
    grid = {"response": {"queue-grid": {"getRowsResponse": {"rowData": escaped}}}}
    assert unsafe_renderings(grid, value) == []


class _Enc(json.JSONEncoder):
    def default(self, o):
        return o.to_plotly_json()


def _grid_rows(payload, grid_id):
    response = (payload or {}).get("response", {}) if isinstance(payload, dict) else {}
    for prop, value in (response.get(grid_id) or {}).items():
        if prop.startswith("rowData") and isinstance(value, list):
            yield value
        if prop == "getRowsResponse" and isinstance(value, dict):
            yield value.get("rowData") or []


# --- the world: every role, with something to act on ---------------------------------------------


class World:
    """A populated database, the app, a client per role; `baseline()` gives sensible values
    for every callback input, refreshing what an earlier call used up (a decided case, an
    accepted CGU...) so that each hostile value reaches the deepest code it can."""

    def __init__(self, backend):
        self.be = backend
        self.app = create_app(backend.settings, backend=backend)
        self.prof = f.professional(backend)
        self.staff = {
            role: f.reviewer(backend, email=f"{role}@esante.lu", roles=(role,))
            for role in ("reviewer", "manager", "admin")
        }
        # The account the admin's actions (roles, disable) are aimed at: never a client.
        self.target_staff = f.reviewer(backend, email="target@esante.lu", roles=("reviewer",))
        self.serial = 100
        self.clients: dict[str, object] = {}
        self.secretary_hash: dict[str, str] = {}
        self.case_id = None
        self.open_id = None

    # fresh rows -----------------------------------------------------------------------------
    def _matricule(self) -> str:
        self.serial += 1
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=self.serial // 900)
        return matricule.make(birth.strftime("%Y%m%d"), f"{100 + self.serial % 900:03d}")

    def _secretary_at(self, state: str) -> str:
        _, token_hash = f.walk_to(
            self.be, self.prof, state, matricule=self._matricule(), email="s@example.lu"
        )
        return token_hash

    def _enrolment(self, enrolment_id) -> Enrolment:
        with self.be.uow() as uow:
            return uow.session.get(Enrolment, enrolment_id)

    def _state_of_hash(self, token_hash) -> str | None:
        with self.be.uow() as uow:
            e = uow.session.scalar(select(Enrolment).where(Enrolment.token_hash == token_hash))
            return e.state if e else None

    def pending_case(self) -> int:
        if self.case_id is None or self._enrolment(self.case_id).state != lc.PENDING_REVIEW:
            self.case_id, _ = f.walk_to(
                self.be, self.prof, lc.PENDING_REVIEW, matricule=self._matricule()
            )
        return self.case_id

    def open_declaration(self) -> int:
        if self.open_id is None or self._enrolment(self.open_id).state not in lc.OPEN:
            self.open_id = f.declare(self.be, self.prof, matricule=self._matricule()).enrolment_id
        return self.open_id

    # clients ------------------------------------------------------------------------------
    def client(self, role: str, key: str = ""):
        """The client of `role`; for the secretary, one whose enrolment is at the step the
        callback `key` works on."""
        if role == "secretary":
            wanted = lc.CGU_ACCEPTED if "matricule" in key else lc.DECLARED
            if key.startswith("..device"):
                wanted = lc.IDENTITY_MISMATCH
            name = f"secretary:{wanted}"
            token_hash = self.secretary_hash.get(name)
            if token_hash is None or self._state_of_hash(token_hash) != wanted:
                token_hash = self._secretary_at(wanted)
                self.secretary_hash[name] = token_hash
                self.clients.pop(name, None)
            role_key = name
        else:
            role_key = role
        kind = {"secretary": "enrolment", "professional": "professional"}.get(role, "staff")
        # The sweep also presses the admin's « Terminer toutes les sessions »: a client whose
        # session it ended logs in again.
        if (
            role_key in self.clients
            and role != "anonymous"
            and not self._session_lives(self.clients[role_key], kind)
        ):
            del self.clients[role_key]
        if role_key not in self.clients:
            client = self.app.server.test_client()
            if role == "secretary":
                f.signed_in(client, "enrolment", token_hash=self.secretary_hash[role_key])
            elif role == "professional":
                f.signed_in(client, "professional", self.prof)
            elif role in self.staff:
                f.signed_in(client, "staff", self.staff[role])
            self.clients[role_key] = client
        return self.clients[role_key]

    def _session_lives(self, client, kind: str) -> bool:
        with client.session_transaction() as s:
            held = auth.parse_user_id(s.get("_user_id"))
            token = s.get(auth.ENROLMENT_SESSION) if kind == "enrolment" else held and held[2]
        with self.be.uow() as uow:
            return sessions.live_subject(uow, kind, token) is not None

    def baseline(self, keys) -> dict[tuple[str, str], object]:
        """Sensible values for the inputs `keys` (only those are computed)."""
        return {k: BASELINE[k](self) for k in keys if k in BASELINE}


def _case_version(w: World):
    return w._enrolment(w.pending_case()).version


# What a well-behaved browser would send for each input, beside the one hostile value.
BASELINE = {
    ("cgu-accepted", "value"): lambda w: True,
    ("cgu-version", "data"): lambda w: w.be.settings.cgu_version,
    ("matricule-input", "value"): lambda w: "1234",
    ("decl-last-name", "value"): lambda w: "Weber",
    ("decl-first-names", "value"): lambda w: "Laura",
    ("decl-matricule", "value"): lambda w: w._matricule(),
    ("decl-email", "value"): lambda w: "laura.weber@example.lu",
    ("decl-email-confirm", "value"): lambda w: "laura.weber@example.lu",
    ("decl-phone", "value"): lambda w: "+352 621 123 456",
    ("decl-correcting", "data"): lambda w: None,
    ("declarations-loaded", "data"): lambda w: True,
    ("declarations-grid", "selectedRows"): lambda w: [{"id": w.open_declaration()}],
    ("queue-grid", "getRowsRequest"): lambda w: {"startRow": 0, "endRow": 100},
    ("queue-quick", "value"): lambda w: [],
    ("queue-search", "value"): lambda w: "",
    ("case-id", "data"): lambda w: str(w.pending_case()),
    ("case-version", "data"): _case_version,
    ("case-assignee", "value"): lambda w: str(w.staff["reviewer"]),
    ("case-note", "value"): lambda w: "Pièce vérifiée.",
    ("case-reason", "value"): lambda w: "declaration_error",
    ("case-reject-note", "value"): lambda w: "",
    ("case-confirming", "data"): lambda w: {"decision": "reject"},
    ("case-view", "data"): lambda w: {"quick": [], "q": "", "sort": []},
    ("case-facts", "data"): lambda w: {"who": "Marie Schmit", "second_reasons": []},
    ("metrics-dates", "start_date"): lambda w: None,
    ("metrics-dates", "end_date"): lambda w: None,
    ("metrics-specialty", "value"): lambda w: "",
    ("staff-grid", "selectedRows"): lambda w: [{"id": w.target_staff, "active": True}],
    ("staff-roles", "value"): lambda w: ["manager"],
    ("staff-new-email", "value"): lambda w: f"new{w._matricule()}@esante.lu",
    ("staff-new-name", "value"): lambda w: "Nouvelle Personne",
    ("staff-new-roles", "value"): lambda w: ["reviewer"],
}

# Which buttons of a several-button callback read a given input; posting a value with a
# button that never reads it proves nothing. Inputs not listed are tried with every button.
READ_BY = {
    "case-version": {"case-confirm-yes", "case-withdraw"},
    "case-assignee": {"case-assign"},
    "case-note": {"case-add-note"},
    "case-reason": {"case-confirm-yes", "case-reject"},
    "case-reject-note": {"case-confirm-yes"},
    "case-confirming": {"case-confirm-yes"},
    "case-view": {"case-confirm-yes"},
    "case-facts": {"case-approve", "case-reject"},
    "staff-grid": {"staff-save-roles", "staff-toggle-active"},
    "staff-roles": {"staff-save-roles"},
    "staff-new-email": {"staff-add"},
    "staff-new-name": {"staff-add"},
    "staff-new-roles": {"staff-add"},
}
# Inside structured values (a grid row's fields, an AG Grid request's fields) the values
# that differ in kind are enough: text, markup, SQL, numbers, the characters databases and
# encoders refuse.
FIELD_CORPUS = (
    "script",
    "sql-drop",
    "long",
    "nul",
    "lone-surrogate",
    "huge-number",
    "negative",
    "json-quotes",
)


def variants(world, component_id: str, prop: str, name: str, value: str):
    """The hostile value as the whole prop, and inside each field of a structured prop."""
    out = [("whole", value)]
    if name not in FIELD_CORPUS:
        return out
    if prop == "selectedRows":
        row_id = world.target_staff if component_id == "staff-grid" else world.open_declaration()
        out += [
            ("row.id", [{"id": value, "active": True}]),
            ("row.active", [{"id": row_id, "active": value}]),
            ("row-is-text", [value]),
        ]
    elif prop == "getRowsRequest":
        out += [
            ("startRow", {"startRow": value, "endRow": 100}),
            ("endRow", {"startRow": 0, "endRow": value}),
            ("sortModel", {"startRow": 0, "endRow": 100, "sortModel": value}),
            ("sort.colId", {"startRow": 0, "sortModel": [{"colId": value, "sort": "asc"}]}),
            ("sort.sort", {"startRow": 0, "sortModel": [{"colId": "state", "sort": value}]}),
            ("filterModel", {"startRow": 0, "filterModel": value}),
            ("filter.text", {"startRow": 0, "filterModel": {"professional": {"filter": value}}}),
            (
                "filter.conditions",
                {"startRow": 0, "filterModel": {"assignee": {"conditions": [{"filter": value}]}}},
            ),
        ]
    elif prop == "value" and component_id in ("queue-quick", "staff-roles", "staff-new-roles"):
        out.append(("list-item", [value]))
    return out


def _allowed(fn) -> frozenset[str]:
    while fn is not None and not hasattr(fn, "allowed_roles"):
        fn = getattr(fn, "__wrapped__", None)
    return fn.allowed_roles if fn is not None else frozenset()


def _roles_allowed(allowed: frozenset[str]) -> list[str]:
    def role_set(role):
        return {auth.PUBLIC, auth.DEVELOPER} | ({role} if role != "anonymous" else set())

    return [r for r in ROLES if allowed & role_set(r)]


def _split_outputs(key: str) -> list[tuple[str, str]]:
    parts = key.strip(".").split("...") if key.startswith("..") else [key]
    return [tuple(p.rsplit(".", 1)) for p in parts]


def server_callbacks(world: World):
    deps = world.app.server.test_client().get("/_dash-dependencies").get_json()
    by_output = {d["output"]: d for d in deps}
    for key, entry in world.app.callback_map.items():
        if any(p in key for p in DASH_INTERNAL) or "callback" not in entry:
            continue
        yield key, by_output[key], _allowed(entry["callback"])


def _plan(spec):
    """(target, triggers, corpus filter) for each input/state of a callback: text-carrying
    ones get the whole corpus with every button that reads them; click counters get the
    values of other types (text, huge numbers) while being the button pressed."""
    triggers = [i for i in spec["inputs"] if i["property"] in COUNTERS] or spec["inputs"][:1]
    for d in spec["inputs"] + spec["state"]:
        target = (d["id"], d["property"])
        if d["property"] in COUNTERS:
            yield target, [d] if d in triggers else triggers[:1], FIELD_CORPUS
        else:
            readers = [t for t in triggers if t["id"] in READ_BY.get(d["id"], ())]
            yield target, readers or triggers, None


def sweep(world: World, corpus: dict):
    """Post every hostile value into every input/state of every server callback, as every
    role allowed to call it. Returns (results, {(callback, role)})."""
    limiter = world.app.server.extensions["esante_limiter"]
    results = []
    pairs = set()
    for key, spec, allowed in server_callbacks(world):
        outputs = _split_outputs(key)
        keys = [(d["id"], d["property"]) for d in spec["inputs"] + spec["state"]]
        for role in _roles_allowed(allowed):
            pairs.add((key, role))
            for target, triggers, only in _plan(spec):
                for trigger in triggers:
                    for name, hostile in corpus.items():
                        if only is not None and name not in only:
                            continue
                        for label, value in variants(world, *target, name, hostile):
                            base = world.baseline(keys)
                            for d in spec["inputs"]:
                                if d["property"] in COUNTERS:
                                    base[(d["id"], d["property"])] = 1 if d is trigger else None
                            base[target] = value
                            limiter.reset()  # the sweep is not about rate limits
                            response = dc.call(
                                world.client(role, key),
                                outputs,
                                [
                                    (d["id"], d["property"], base.get((d["id"], d["property"])))
                                    for d in spec["inputs"]
                                ],
                                [
                                    (d["id"], d["property"], base.get((d["id"], d["property"])))
                                    for d in spec["state"]
                                ],
                                triggered=f"{trigger['id']}.{trigger['property']}",
                            )
                            payload = response.get_json(silent=True)
                            results.append(
                                {
                                    "callback": key,
                                    "role": role,
                                    "target": f"{target[0]}.{target[1]}",
                                    "variant": label,
                                    "trigger": trigger["id"],
                                    "value": name,
                                    "status": response.status_code,
                                    "unsafe": unsafe_renderings(payload, hostile)
                                    if response.status_code == 200 and isinstance(hostile, str)
                                    else [],
                                }
                            )
    return results, pairs


_REAL_HASHER = staff._hasher
_FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@contextlib.contextmanager
def _fast_hashing():
    """Staff accounts created here need no costly password hashing (not the subject); the
    real hasher is always put back (module fixtures of several params overlap)."""
    staff._hasher = _FAST_HASHER
    try:
        yield
    finally:
        staff._hasher = _REAL_HASHER


def _module_backend(request, kind: str, tmp_path_factory):
    """One database for the whole module (the World refreshes what a test uses up)."""
    if kind == "sqlite":
        path = tmp_path_factory.mktemp("hostile") / "hostile.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_migrated")
        _truncate_pg(url)
    settings = Settings(
        env="test", database_url=url, base_url="http://testserver", secret_key="h" * 48
    )
    return Backend(settings, make_engine(url), Clock())


@pytest.fixture(scope="module", params=_database_params())
def world(request, tmp_path_factory):
    """SQLite, and PostgreSQL when TEST_DATABASE_URL is set."""
    with _fast_hashing():
        be = _module_backend(request, request.param, tmp_path_factory)
        yield World(be)
        be.dispose()


@pytest.fixture(scope="module")
def sqlite_world(request, tmp_path_factory):
    """SQLite only, for what does not depend on the database (plain Python checks)."""
    with _fast_hashing():
        be = _module_backend(request, "sqlite", tmp_path_factory)
        yield World(be)
        be.dispose()


@pytest.fixture(scope="module")
def pg_world(request, tmp_path_factory):
    """PostgreSQL only: it refuses NUL bytes in text, SQLite stores them."""
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL not set (PostgreSQL tests run in CI, where skips fail)")
    with _fast_hashing():
        be = _module_backend(request, "postgresql", tmp_path_factory)
        yield World(be)
        be.dispose()


# --- 1. every callback, every role, every hostile value ------------------------------------------

# Values whose handling can depend on the database (encodings, NUL, integer ranges, collation):
# on PostgreSQL the sweep sends these; the rest is plain Python, swept once on SQLite.
DB_CORPUS = (
    "nul",
    "email-like",
    "lone-surrogate",
    "huge-number",
    "arabic-digits",
    "long",
    "sql-drop",
    "sql-union",
    "homoglyph",
    "emoji",
    "astral",
    "control",
    "json-quotes",
)


def test_every_callback_survives_every_hostile_value(world, capsys):
    dialect = world.be.engine.dialect.name
    corpus = CORPUS if dialect == "sqlite" else {k: CORPUS[k] for k in DB_CORPUS}
    results, pairs = sweep(world, corpus)
    # What was covered (the report quotes these numbers).
    callbacks = {key for key, _role in pairs}
    with capsys.disabled():
        print(
            f"\n[{dialect}] {len(callbacks)} callbacks, {len(pairs)} callback×role pairs, "
            f"{len(corpus)} hostile values, {len(results)} requests"
        )
    assert len(callbacks) >= 14 and len(results) > 500
    unsafe = [r for r in results if r["unsafe"]]
    assert unsafe == []
    errors = [r for r in results if r["status"] == 500]
    assert errors == []
    assert {r["status"] for r in results} <= {200, 204}  # never 403 to allowed roles


# JSON values of another type than the field's: a browser's text field always sends a
# string (or null), a forged request may send anything.
WRONG_TYPES = {
    "list": ["Marie", "Anne"],
    "object": {"value": "Marie"},
    "number": 1985041212393,
    "float": 1.5,
    "true": True,
    "nested": [[["x"]]],
}


def test_every_callback_survives_values_of_the_wrong_type(sqlite_world):
    results, pairs = sweep(sqlite_world, WRONG_TYPES)
    assert len({key for key, _role in pairs}) >= 14 and len(results) > 250
    errors = sorted(
        {(r["callback"], r["target"], r["value"]) for r in results if r["status"] == 500}
    )
    assert errors == []
    assert {r["status"] for r in results} <= {200, 204}


def test_every_page_survives_repeated_query_parameters(sqlite_world):
    """Dash hands a repeated `?erreur=` to the layout as a list: every page, every role."""
    import dash

    world = sqlite_world
    search = "?erreur=annule&erreur=jeton&corriger=1&corriger=x&case_id=1&case_id=2"
    paths = sorted({page["path_template"] or page["path"] for page in dash.page_registry.values()})
    assert "/professionnel/connexion" in paths and "/mon-compte" in paths
    statuses = {}
    for template in paths:
        path = template.replace("<case_id>", str(world.pending_case()))
        for role in ROLES:
            response = dc.call(
                world.client(role),
                [("_pages_content", "children"), ("_pages_store", "data")],
                [("_pages_location", "pathname", path), ("_pages_location", "search", search)],
            )
            statuses[(path, role)] = response.status_code
    assert {k: v for k, v in statuses.items() if v != 200} == {}


# --- 1b. the defects the sweep found, each on its own --------------------------------------------


def _call(world, role, outputs, inputs, state=(), triggered=None):
    world.app.server.extensions["esante_limiter"].reset()
    return dc.call(world.client(role), outputs, inputs, state, triggered)


DECL_FIELDS = ("last_name", "first_names", "matricule", "email", "email_confirm", "phone")
DECL_IDS = {n: "decl-" + n.replace("_", "-") for n in DECL_FIELDS}
DECL_OUTPUTS = (
    [("decl-summary", "children"), ("decl-result", "children")]
    + [(f"{DECL_IDS[n]}-error", "children") for n in DECL_FIELDS]
    + [(DECL_IDS[n], "invalid") for n in DECL_FIELDS]
)


def _declare(world, correcting=None, **fields):
    data = {
        "last_name": "Weber",
        "first_names": "Laura",
        "matricule": world._matricule(),
        "email": "laura.weber@example.lu",
        "email_confirm": None,
        "phone": "",
        **fields,
    }
    if data["email_confirm"] is None:
        data["email_confirm"] = data["email"]
    return _call(
        world,
        "professional",
        DECL_OUTPUTS,
        [("decl-submit", "n_clicks", 1)],
        [(DECL_IDS[n], "value", data[n]) for n in DECL_FIELDS]
        + [("decl-correcting", "data", correcting)],
    )


CASE_OUTPUTS = [
    ("case-body", "children"),
    ("case-message", "children"),
    ("case-message", "color"),
    ("case-nav", "href"),
    ("case-confirm", "is_open"),
]
CASE_BUTTONS = (
    ("case-claim", "n_clicks"),
    ("case-release", "n_clicks"),
    ("case-assign", "n_clicks"),
    ("case-confirm-yes", "n_clicks"),
    ("case-withdraw", "n_clicks"),
)


def _case_action(world, button, **state):
    """Press a case button, with exactly the inputs and state the browser sends for it (the
    note has its own callback)."""
    case = world.pending_case()
    values = {
        "case-id": str(case),
        "case-version": world._enrolment(case).version,
        "case-assignee": str(world.staff["reviewer"]),
        "case-note": "Pièce vérifiée.",
        "case-reason": "declaration_error",
        "case-reject-note": "",
        "case-confirming": {"decision": "reject"},
        "case-view": None,
        **state,
    }
    props = {
        "case-id": "data",
        "case-version": "data",
        "case-confirming": "data",
        "case-view": "data",
    }
    if button == "case-add-note":
        world.app.server.extensions["esante_limiter"].reset()
        return dc.call_by_input(
            world.client("reviewer"),
            "case-add-note",
            [("case-add-note", "n_clicks", 1)],
            [("case-id", "data", values["case-id"]), ("case-note", "value", values["case-note"])],
        )
    state_ids = (
        "case-id",
        "case-version",
        "case-assignee",
        "case-reason",
        "case-reject-note",
        "case-confirming",
        "case-view",
    )
    return _call(
        world,
        "reviewer",
        CASE_OUTPUTS,
        [(i, p, 1 if i == button else None) for i, p in CASE_BUTTONS],
        [(i, props.get(i, "value"), values[i]) for i in state_ids],
        triggered=f"{button}.{dict(CASE_BUTTONS)[button]}",
    )


def _queue(world, request, search=""):
    return _call(
        world,
        "reviewer",
        [("queue-grid", "getRowsResponse")],
        [("queue-grid", "getRowsRequest", request)],
        [("queue-quick", "value", []), ("queue-search", "value", search)],
    )


def _selection(world, selected):
    return _call(
        world,
        "professional",
        [
            ("decl-resend", "disabled"),
            ("decl-cancel", "disabled"),
            ("decl-correct", "disabled"),
            ("decl-correct", "href"),
        ],
        [("declarations-grid", "selectedRows", selected)],
    )


def _staff_action(world, selected):
    outputs = [
        ("staff-message", "children"),
        ("staff-message", "className"),
        ("staff-grid", "rowData"),
        ("staff-grid", "selectedRows"),
        ("staff-new-password", "children"),
        ("staff-new-email", "value"),
        ("staff-new-name", "value"),
        ("staff-new-roles", "value"),
        ("staff-new-email-error", "children"),
        ("staff-new-roles-error", "children"),
    ]
    return _call(
        world,
        "admin",
        outputs,
        [
            ("staff-save-roles", "n_clicks", 1),
            ("staff-toggle-active", "n_clicks", None),
            ("staff-add", "n_clicks", None),
        ],
        [
            ("staff-grid", "selectedRows", selected),
            ("staff-roles", "value", ["manager"]),
            ("staff-new-email", "value", ""),
            ("staff-new-name", "value", ""),
            ("staff-new-roles", "value", []),
        ],
        triggered="staff-save-roles.n_clicks",
    )


def _message(response, *where) -> str:
    assert response.status_code == 200, response.status_code
    out = dc.values(response)
    return " ".join(str(out.get(w) or "") for w in where)


def test_a_lone_surrogate_in_a_declared_name_is_refused_in_french(world):
    before = _table_counts(world.be)
    response = _declare(world, last_name="Ma\ud800rie")
    message = _message(response, ("decl-last-name-error", "children"))
    assert FRENCH.search(message)
    assert _table_counts(world.be) == before


@pytest.mark.parametrize("assignee", ["<script>alert(1)</script>", "1 OR 1=1", "abc"])
def test_a_non_numeric_assignee_is_refused_in_french(sqlite_world, assignee):
    sqlite_world.pending_case()
    before = _table_counts(sqlite_world.be)
    response = _case_action(sqlite_world, "case-assign", **{"case-assignee": assignee})
    assert FRENCH.search(_message(response, ("case-message", "children")))
    assert _table_counts(sqlite_world.be) == before


@pytest.mark.parametrize("where", ["case-id", "decl-correcting", "declaration-row", "staff-row"])
def test_an_oversized_id_is_an_unknown_id(world, where):
    huge = "9" * 30
    world.pending_case()
    before = _table_counts(world.be)
    if where == "case-id":
        response = _case_action(world, "case-add-note", **{"case-id": huge})
        message = _message(response, ("case-message", "children"))
    elif where == "decl-correcting":
        message = _message(_declare(world, correcting=huge), ("decl-summary", "children"))
    elif where == "declaration-row":
        world.app.server.extensions["esante_limiter"].reset()
        response = dc.call_by_input(
            world.client("professional"),
            "decl-resend",
            [("decl-resend", "n_clicks", 1), ("decl-cancel-confirm", "submit_n_clicks", None)],
            [("declarations-grid", "selectedRows", [{"id": huge}])],
            triggered="decl-resend.n_clicks",
        )
        message = _message(response, ("decl-action-message", "children"))
    else:
        message = _message(
            _staff_action(world, [{"id": huge, "active": True}]), ("staff-message", "children")
        )
    assert FRENCH.search(message)
    assert _table_counts(world.be) == before


@pytest.mark.parametrize("selected", ["<script>alert(1)</script>", ["1 OR 1=1"], {"id": 1}])
def test_a_malformed_grid_selection_is_no_selection(sqlite_world, selected):
    response = _selection(sqlite_world, selected)
    assert response.status_code == 200
    assert dc.values(response)[("decl-resend", "disabled")] is True


@pytest.mark.parametrize(
    "request_",
    [
        "<script>alert(1)</script>",
        {"startRow": "'; DROP TABLE enrolments; --", "endRow": 100},
        {"startRow": 0, "endRow": "1 OR 1=1"},
        {"startRow": 0, "endRow": 100, "sortModel": "waiting_days"},
        {"startRow": 0, "endRow": 100, "filterModel": "professional"},
        {"startRow": "9" * 30, "endRow": 100},
    ],
    ids=["text", "startRow-text", "endRow-text", "sortModel-text", "filterModel-text", "huge"],
)
def test_a_malformed_queue_request_is_answered_without_error(sqlite_world, request_):
    response = _queue(sqlite_world, request_)
    assert response.status_code == 200
    assert "rowData" in dc.values(response)[("queue-grid", "getRowsResponse")]


@pytest.mark.parametrize(
    "entry",
    ["queue-search", "queue-filter", "metrics", "note", "staff-name", "declaration-email", "login"],
)
def test_nul_bytes_never_reach_postgresql(pg_world, entry):
    w = pg_world
    nul = "Ma\x00rie"
    w.pending_case()
    before = _table_counts(w.be)
    if entry == "queue-search":
        response = _queue(w, {"startRow": 0, "endRow": 100}, search=nul)
    elif entry == "queue-filter":
        response = _queue(w, {"startRow": 0, "filterModel": {"professional": {"filter": nul}}})
    elif entry == "metrics":
        response = _call(
            w,
            "manager",
            [("metrics-download", "data")],
            [("metrics-export", "n_clicks", 1)],
            [
                ("metrics-dates", "start_date", None),
                ("metrics-dates", "end_date", None),
                ("metrics-specialty", "value", nul),
            ],
        )
    elif entry == "note":
        response = _case_action(w, "case-add-note", **{"case-note": nul})
    elif entry == "staff-name":
        w.app.server.extensions["esante_limiter"].reset()
        response = dc.call_by_input(
            w.client("admin"),
            "staff-save-roles",
            [
                ("staff-save-roles", "n_clicks", None),
                ("staff-toggle-active", "n_clicks", None),
                ("staff-add", "n_clicks", 1),
            ],
            [
                ("staff-grid", "selectedRows", []),
                ("staff-roles", "value", []),
                ("staff-new-email", "value", "nul@esante.lu"),
                ("staff-new-name", "value", nul),
                ("staff-new-roles", "value", ["reviewer"]),
            ],
            triggered="staff-add.n_clicks",
        )
    elif entry == "declaration-email":
        response = _declare(w, email="ma\x00rie@example.lu")
    else:
        client = w.app.server.test_client()
        response = client.post(
            "/backoffice/login",
            data={
                "email": nul + "@esante.lu",
                "password": "x",
                "csrf_token": dc.csrf_token(client),
            },
        )
    assert response.status_code in (200, 303)
    if entry in ("note", "staff-name", "declaration-email"):
        assert _table_counts(w.be) == before


@pytest.mark.parametrize(
    "email",
    [
        "ma\x07rie@example.lu",
        "ma\x1brie@example.lu",
        "\u202emarie@example.lu",
        "ma\u200brie@example.lu",
    ],
    ids=["bel", "esc", "rtl-override", "zero-width"],
)
def test_an_email_with_invisible_or_control_characters_is_refused(sqlite_world, email):
    before = _table_counts(sqlite_world.be)
    message = _message(_declare(sqlite_world, email=email), ("decl-email-error", "children"))
    assert "n'est pas valide" in message
    assert _table_counts(sqlite_world.be) == before


# --- 2. a declaration with hostile names: refused in French, or stored as given ------------------


def _unescape_markdown(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _rows_for(world) -> list[dict]:
    response = _call(
        world,
        "professional",
        [("declarations-grid", "rowData")],
        [("declarations-loaded", "data", True)],
    )
    return dc.values(response)[("declarations-grid", "rowData")]


NAME_VALUES = [k for k in CORPUS if k != "email-like"]


@pytest.mark.parametrize("name", NAME_VALUES)
def test_hostile_names_are_refused_in_french_or_stored_as_given_and_shown_as_text(
    world, request, name
):
    value = CORPUS[name]
    be = world.be
    before = _table_counts(be)
    response = _declare(world, last_name=value, first_names=value)
    assert response.status_code == 200
    out = dc.values(response)
    refused = out.get(("decl-last-name-error", "children")) or out.get(
        ("decl-first-names-error", "children")
    )
    if refused:
        assert FRENCH.search(refused), refused
        assert (
            out[("decl-summary", "children")]
            == "Corrigez les champs indiqués ; rien n'a été enregistré."
        )
        assert _table_counts(be) == before, "nothing half-written"
        return
    # Stored: exactly as typed, but for the documented folding of runs of white space
    # (text.clean_name) — no truncation, no escaping, no other normalisation.
    expected = " ".join(value.split())
    with be.uow() as uow:
        stored = uow.session.scalars(select(Enrolment).order_by(Enrolment.id.desc())).first()
        assert (stored.declared_last_name, stored.declared_first_names) == (expected, expected)
    rows = _rows_for(world)
    row = next(r for r in rows if r["id"] == stored.id)
    assert row["secretary"] == f"{expected} {expected}"  # a plain-text column
    assert unsafe_renderings({"response": {"declarations-grid": {"rowData": rows}}}, value) == []
    # The identity-vigilance team sees it too: a Markdown link in the queue (escaped), and
    # the case file (plain text).
    case_id, _ = f.walk_to(
        be,
        world.prof,
        lc.PENDING_REVIEW,
        matricule=world._matricule(),
        last_name=value,
        first_names="Laura",
    )
    queue = _queue(world, {"startRow": 0, "endRow": 100})
    payload = queue.get_json()
    [cell] = [
        r["secretary"]
        for r in dc.values(queue)[("queue-grid", "getRowsResponse")]["rowData"]
        if r["id"] == case_id
    ]
    # The link carries the queue view (URL-encoded: nothing that ends a Markdown link).
    match = re.fullmatch(r"\[(.*)\]\(/backoffice/dossier/(\d+)(\?[^()\s\[\]]*)?\)", cell, re.S)
    assert match and int(match.group(2)) == case_id, cell
    assert _unescape_markdown(match.group(1)) == f"Laura {expected}"
    assert unsafe_renderings(payload, value) == []
    page = dc.render_page(world.client("reviewer"), f"/backoffice/dossier/{case_id}")
    assert page.status_code == 200
    assert any(expected in s for s in _strings(page.get_json()))
    assert unsafe_renderings(page.get_json(), value) == []


# --- 3. the plain routes -------------------------------------------------------------------------


def _url_part(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


@pytest.mark.parametrize("name", list(CORPUS) + ["slashes", "bad-utf8", "dots"])
def test_hostile_invitation_tokens(sqlite_world, name):
    path = {
        "slashes": "/enrolment/invitation/..%2F..%2Fetc%2Fpasswd",
        "bad-utf8": "/enrolment/invitation/%ff%fe%00",
        "dots": "/enrolment/invitation/..",
    }.get(name) or "/enrolment/invitation/" + _url_part(CORPUS[name])
    before = _table_counts(sqlite_world.be)
    client = sqlite_world.app.server.test_client()
    response = client.get(path)
    # 303 to the start page, 404 (too long), or Dash's catch-all page when an encoded "/"
    # makes the path another route's: never 500, never anything written.
    assert response.status_code in (200, 303, 404), response.status_code
    if response.status_code == 303:
        assert response.headers["Location"].endswith("/enrolment/debut")
        with client.session_transaction() as s:
            assert re.fullmatch(r"[0-9a-f]{64}", s["invitation"])  # only a hash is kept
        text = json.dumps(
            dc.render_page(client, "/enrolment/resultat").get_json(), ensure_ascii=False
        )
        assert "n'est pas valide" in text
    assert _table_counts(sqlite_world.be) == before


@pytest.mark.parametrize("name", list(CORPUS))
def test_hostile_luxtrust_purpose_and_callback(sqlite_world, name):
    value = _url_part(CORPUS[name])
    sqlite_world.app.server.extensions["esante_limiter"].reset()  # not about rate limits
    client = sqlite_world.app.server.test_client()
    assert client.get(f"/auth/luxtrust/login?for={value}").status_code == 400
    # No login started in this browser: refused as a forged callback.
    back = client.get(f"/auth/luxtrust/callback?state={value}&code={value}")
    assert back.status_code == 303 and back.headers["Location"].endswith("?erreur=session")
    # A login started, then a callback whose state is not the one issued.
    with client.session_transaction() as s:
        s["oidc_for"] = "account"
    back = client.get(f"/auth/luxtrust/callback?state={value}&code={value}")
    assert back.status_code == 303
    assert back.headers["Location"] == "/mon-compte?erreur=session"
    with client.session_transaction() as s:
        s["oidc_for"] = "professional"
    back = client.get(f"/auth/luxtrust/callback?error={value}&state={value}")
    assert back.headers["Location"] == "/professionnel/connexion?erreur=fournisseur"


@pytest.mark.parametrize("name", list(CORPUS))
def test_hostile_staff_login_fields(world, request, name):
    value = CORPUS[name]
    before = _table_counts(world.be)
    for email, password in ((value, "x"), ("nobody@esante.lu", value), (value, value)):
        client = world.app.server.test_client()
        world.app.server.extensions["esante_limiter"].reset()
        # Form-encoded as a browser does: UTF-8 bytes, percent-escaped (a lone surrogate
        # becomes bytes that are not UTF-8; the server decodes them as U+FFFD).
        form = {"email": email, "password": password, "csrf_token": dc.csrf_token(client)}
        response = client.post(
            "/backoffice/login",
            data=urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in form.items()}),
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 303
        assert response.headers["Location"] == "/backoffice/connexion"
        page = dc.render_page(client, "/backoffice/connexion").get_json()
        texts = list(_strings(page))
        assert "Adresse email ou mot de passe incorrect." in texts
        [field] = [c["props"] for c in dc.components(page) if c["props"].get("id") == "staff-email"]
        if name != "lone-surrogate":  # (its bytes come back percent-escaped: harmless text)
            assert field["value"] == email[:320]  # given back as the input's value, as text
        assert unsafe_renderings(page, value) == []
    # A refused login writes nothing but its audit (a failure event) and the throttle's
    # counts of failures (per client address, and per typed account: new rows).
    after = _table_counts(world.be)
    counted = ("events", "staff_login_throttle")
    assert {k: v for k, v in after.items() if k not in counted} == {
        k: v for k, v in before.items() if k not in counted
    }
    with world.be.uow() as uow:
        actions = uow.session.scalars(select(Event.action).order_by(Event.id)).all()
    assert set(actions[before["events"] :]) <= {"staff_login_failed"}


CLI_VALUES = [k for k in CORPUS if "\x00" not in CORPUS[k]]  # argv cannot carry NUL


@pytest.mark.parametrize("field", ["last-name", "email", "phone", "matricule"])
@pytest.mark.parametrize("name", CLI_VALUES)
def test_hostile_command_line_declarations(world, request, monkeypatch, name, field):
    value = CORPUS[name]
    # The command's own database wiring is the world's (one engine, not one per call).
    monkeypatch.setattr("dashboard.__main__._backend", lambda settings: world.be)
    args = {
        "last-name": "Weber",
        "first-names": "Laura",
        "matricule": world._matricule(),
        "email": "laura.weber@example.lu",
        "phone": "+352 621 123 456",
        field: value,
    }
    argv = ["declare", "--professional", str(world.prof)]
    for k, v in args.items():
        argv += [f"--{k}", v]
    before = _table_counts(world.be)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = cli_main(argv, settings=world.be.settings)
    if status == 1:
        assert err.getvalue().startswith("Erreur : ")
        assert FRENCH.search(err.getvalue())
        assert _table_counts(world.be) == before
        return
    assert status == 0, err.getvalue()
    assert "enregistrée" in out.getvalue()
    with world.be.uow() as uow:
        stored = uow.session.scalars(select(Enrolment).order_by(Enrolment.id.desc())).first()
    kept = {
        "last-name": stored.declared_last_name,
        "email": stored.email,
        "phone": stored.phone,
        "matricule": stored.declared_matricule,
    }[field]
    expected = {
        "last-name": " ".join(value.split()),
        "email": value.strip().lower(),
        "phone": value.strip() or None,
        "matricule": None,  # a hostile matricule is never valid
    }[field]
    assert kept == expected


# --- 4. malformed bodies to /_dash-update-component ----------------------------------------------

GOOD = {
    "output": "..start-nav.href...start-error.children..",
    "outputs": [
        {"id": "start-nav", "property": "href"},
        {"id": "start-error", "property": "children"},
    ],
    "inputs": [{"id": "start-button", "property": "n_clicks", "value": 1}],
    "changedPropIds": ["start-button.n_clicks"],
    "state": [],
}


def _router_body(pathname, search) -> str:
    return json.dumps(
        {
            "output": dc.output_key([("_pages_content", "children"), ("_pages_store", "data")]),
            "outputs": [
                {"id": "_pages_content", "property": "children"},
                {"id": "_pages_store", "property": "data"},
            ],
            "inputs": [
                {"id": "_pages_location", "property": "pathname", "value": pathname},
                {"id": "_pages_location", "property": "search", "value": search},
            ],
            "changedPropIds": ["_pages_location.pathname"],
        }
    )


def _malformed(name: str):
    return {
        "not-json": "not json",
        "truncated": json.dumps(GOOD)[:40],
        "empty": "",
        "invalid-utf8": b'{"output": "\xff\xfe"}',
        "5MB-value": json.dumps(
            {
                **GOOD,
                "output": dc.output_key(
                    [
                        ("matricule-nav", "href"),
                        ("matricule-input-error", "children"),
                        ("matricule-input", "invalid"),
                    ]
                ),
                "outputs": [
                    {"id": "matricule-nav", "property": "href"},
                    {"id": "matricule-input-error", "property": "children"},
                    {"id": "matricule-input", "property": "invalid"},
                ],
                "inputs": [
                    {"id": "matricule-submit", "property": "n_clicks", "value": 1},
                    {"id": "matricule-input", "property": "n_submit", "value": None},
                ],
                "changedPropIds": ["matricule-submit.n_clicks"],
                "state": [{"id": "matricule-input", "property": "value", "value": "1" * 5_000_000}],
            }
        ),
        "5MB-garbage": "{" + '"a":' * 1_250_000,
        "array": "[]",
        "number": "1",
        "string": '"x"',
        "null": "null",
        "empty-object": "{}",
        "inputs-a-string": json.dumps({**GOOD, "inputs": "abc"}),
        "inputs-strings": json.dumps({**GOOD, "inputs": ["abc"]}),
        "outputs-a-string": json.dumps({**GOOD, "outputs": "abc"}),
        "state-a-string": json.dumps({**GOOD, "state": "x"}),
        "changed-null": json.dumps({**GOOD, "changedPropIds": None}),
        "no-output": json.dumps({k: v for k, v in GOOD.items() if k != "output"}),
        "no-inputs": json.dumps({k: v for k, v in GOOD.items() if k != "inputs"}),
        "unknown-output": json.dumps({**GOOD, "output": "nope.children"}),
        "output-a-number": json.dumps({**GOOD, "output": 5}),
        "output-lone-surrogate": '{"output": "\\ud800"}',
        "too-many-inputs": json.dumps({**GOOD, "inputs": GOOD["inputs"] * 3}),
        # Outputs that are not the callback's: Dash answered these with a 500.
        "outputs-empty": json.dumps({**GOOD, "outputs": []}),
        "outputs-one-dropped": json.dumps({**GOOD, "outputs": GOOD["outputs"][:1]}),
        "outputs-one-added": json.dumps(
            {**GOOD, "outputs": [*GOOD["outputs"], {"id": "start-nav", "property": "title"}]}
        ),
        "outputs-reordered": json.dumps({**GOOD, "outputs": GOOD["outputs"][::-1]}),
        "outputs-wrong-id": json.dumps(
            {**GOOD, "outputs": [{"id": "cgu-nav", "property": "href"}, GOOD["outputs"][1]]}
        ),
        "outputs-wrong-property": json.dumps(
            {**GOOD, "outputs": [{"id": "start-nav", "property": "title"}, GOOD["outputs"][1]]}
        ),
        "outputs-one-dict": json.dumps({**GOOD, "outputs": GOOD["outputs"][0]}),
        "outputs-strings": json.dumps({**GOOD, "outputs": ["start-nav.href", "x"]}),
        "outputs-nested": json.dumps(
            {**GOOD, "outputs": [GOOD["outputs"][:1], GOOD["outputs"][1]]}
        ),
        "single-output-as-list": json.dumps(
            {
                "output": "decl-cancel-confirm.displayed",
                "outputs": [{"id": "decl-cancel-confirm", "property": "displayed"}],
                "inputs": [{"id": "decl-cancel", "property": "n_clicks", "value": 1}],
                "changedPropIds": ["decl-cancel.n_clicks"],
            }
        ),
        "inputs-wrong-id": json.dumps(
            {**GOOD, "inputs": [{"id": "cgu-submit", "property": "n_clicks", "value": 1}]}
        ),
        "inputs-wrong-property": json.dumps(
            {**GOOD, "inputs": [{"id": "start-button", "property": "n_submit", "value": 1}]}
        ),
        # Locations no browser sends: Dash's page router failed on them (a 500).
        "router-pathname-null": _router_body(None, ""),
        "router-pathname-relative": _router_body("enrolment", ""),
        "router-pathname-empty": _router_body("", ""),
        "router-search-a-number": _router_body("/", 5),
        # A clientside callback's key: Dash found no function for it (a 500).
        "clientside-callback": json.dumps(
            {
                "output": "_pages_dummy.children",
                "outputs": {"id": "_pages_dummy", "property": "children"},
                "inputs": [{"id": "_pages_store", "property": "data", "value": None}],
                "changedPropIds": ["_pages_store.data"],
            }
        ),
        "deep-nesting": "[" * 100_000 + "]" * 100_000,
    }[name]


MALFORMED_OK = ["not-json", "truncated", "empty", "invalid-utf8", "5MB-value", "5MB-garbage"]
MALFORMED_400 = [
    "array",
    "number",
    "string",
    "null",
    "empty-object",
    "inputs-a-string",
    "inputs-strings",
    "outputs-a-string",
    "state-a-string",
    "changed-null",
    "no-output",
    "no-inputs",
    "unknown-output",
    "output-a-number",
    "output-lone-surrogate",
    "too-many-inputs",
    "outputs-empty",
    "outputs-one-dropped",
    "outputs-one-added",
    "outputs-reordered",
    "outputs-wrong-id",
    "outputs-wrong-property",
    "outputs-one-dict",
    "outputs-strings",
    "outputs-nested",
    "single-output-as-list",
    "inputs-wrong-id",
    "inputs-wrong-property",
    "router-pathname-null",
    "router-pathname-relative",
    "router-pathname-empty",
    "router-search-a-number",
    "clientside-callback",
]


@pytest.mark.parametrize("name", MALFORMED_OK + MALFORMED_400 + ["deep-nesting"])
def test_malformed_callback_bodies_are_refused_without_500(sqlite_world, name):
    """As the secretary (a role for which the matricule callback exists), with a valid
    CSRF header: only the body is wrong."""
    client = sqlite_world.client("secretary", "..matricule")
    before = _table_counts(sqlite_world.be)
    response = client.post(
        "/_dash-update-component",
        data=_malformed(name),
        content_type="application/json",
        headers={"X-CSRFToken": dc.csrf_token(client)},
    )
    assert response.status_code != 500
    assert response.status_code in (200, 400, 403, 413, 415)
    if name in MALFORMED_400 + ["deep-nesting"]:
        # Refused before Dash reads it, with a French reason.
        assert response.status_code == 400
        assert response.get_json()["message"].startswith("Requête invalide")
    if name == "5MB-value":
        assert "13 chiffres" in json.dumps(response.get_json(), ensure_ascii=False)
    assert _table_counts(sqlite_world.be) == before


def test_a_form_encoded_callback_body_is_refused(sqlite_world):
    client = sqlite_world.client("secretary", "..matricule")
    response = client.post(
        "/_dash-update-component",
        data={"output": "x"},
        headers={"X-CSRFToken": dc.csrf_token(client)},
    )
    assert response.status_code in (400, 415)


# --- 5. bodies built from /_dash-dependencies, then mutated (property test) ----------------------

# Values of every JSON kind, for the callbacks' inputs and for what replaces a dependency.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
MUTATIONS = (
    "none",
    "drop",
    "add",
    "reorder",
    "wrong-type",
    "wrong-id",
    "dict-id",
    "wrong-property",
    "item-not-a-dict",
)
PARTS = ("outputs", "inputs", "state")


def _served_callbacks(world: World) -> list[dict]:
    return world.app.server.test_client().get("/_dash-dependencies").get_json()


# What a browser's address bar can hold, for Dash's page router (it takes nothing else).
LOCATION_VALUES = {
    "pathname": st.text(max_size=30).map(lambda t: "/" + t),
    "search": st.text(max_size=30),
}


def _value(values, dependency: dict):
    if dependency["id"] == "_pages_location":
        return values.draw(LOCATION_VALUES[dependency["property"]])
    return values.draw(JSON_VALUES)


def _body(spec: dict, values) -> dict:
    """The body the renderer sends for `spec`, as served by /_dash-dependencies."""
    outputs = [{"id": i, "property": p} for i, p in _split_outputs(spec["output"])]
    body = {
        "output": spec["output"],
        "outputs": outputs if spec["output"].startswith("..") else outputs[0],
        "inputs": [{**d, "value": _value(values, d)} for d in spec["inputs"]],
        "changedPropIds": [f"{d['id']}.{d['property']}" for d in spec["inputs"][:1]],
    }
    if spec["state"]:
        body["state"] = [{**d, "value": _value(values, d)} for d in spec["state"]]
    return body


def _mutate(body: dict, part: str, mutation: str, data) -> bool:
    """Change `part` of the body so that it is no longer the callback's; False when this
    mutation cannot apply to this callback (nothing to reorder, no state to drop...)."""
    single = part == "outputs" and isinstance(body["outputs"], dict)
    items = [body[part]] if single else list(body.get(part, []))
    if mutation == "wrong-type":
        replacement = data.draw(JSON_VALUES.filter(lambda v: not isinstance(v, (list, dict))))
        body[part] = replacement
        return True
    if mutation == "drop":
        if not items:
            return False
        del items[data.draw(st.integers(0, len(items) - 1))]
    elif mutation == "add":
        items.insert(
            data.draw(st.integers(0, len(items))),
            {"id": data.draw(st.text(min_size=1, max_size=12)), "property": "children"},
        )
    elif mutation == "reorder":
        if len(items) < 2:
            return False
        order = data.draw(st.permutations(range(len(items))))
        if order == sorted(order):
            return False
        items = [items[i] for i in order]
    else:
        if not items:
            return False
        i = data.draw(st.integers(0, len(items) - 1))
        item = dict(items[i])
        if mutation == "wrong-id":
            new_id = data.draw(st.text(max_size=20))
            if new_id == item["id"]:
                return False
            item["id"] = new_id
        elif mutation == "dict-id":
            item["id"] = {"type": item["id"], "index": data.draw(st.integers())}
        elif mutation == "wrong-property":
            new_property = data.draw(st.text(max_size=12))
            if new_property.split("@")[0] == item["property"].split("@")[0]:
                return False
            item["property"] = new_property
        else:  # item-not-a-dict
            item = data.draw(JSON_VALUES.filter(lambda v: not isinstance(v, dict)))
        items[i] = item
    body[part] = items[0] if single and len(items) == 1 and mutation != "add" else items
    return True


@hypothesis_settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
@given(data=st.data())
def test_a_body_that_is_not_the_callbacks_own_is_refused_never_a_500(sqlite_world, data):
    """Any body built from the served dependencies and then mutated (outputs, inputs or
    state dropped, added, reordered, of the wrong type, with wrong ids or properties) is
    answered 400 before Dash; the unmutated body is never refused by the check. Never 500."""
    specs = _served_callbacks(sqlite_world)
    spec = data.draw(st.sampled_from(specs), label="callback")
    body = _body(spec, data)
    part = data.draw(st.sampled_from(PARTS), label="part")
    mutation = data.draw(st.sampled_from(MUTATIONS), label="mutation")
    mutated = mutation != "none" and _mutate(body, part, mutation, data)
    role = data.draw(st.sampled_from(ROLES), label="role")
    sqlite_world.app.server.extensions["esante_limiter"].reset()
    client = sqlite_world.client(role, spec["output"])
    response = client.post(
        "/_dash-update-component",
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-CSRFToken": dc.csrf_token(client)},
    )
    assert response.status_code != 500, body
    refused = response.status_code == 400 and response.get_json()["message"].startswith(
        "Requête invalide"
    )
    if mutated or spec["clientside_function"]:
        assert refused, (response.status_code, body)
    else:
        assert not refused, (response.get_json(), body)
        assert response.status_code in (200, 204, 403), body


def test_the_property_test_reaches_every_callback_and_mutation(sqlite_world):
    """The strategy above can draw every served callback, each part and each mutation."""
    specs = _served_callbacks(sqlite_world)
    assert len(specs) == len(sqlite_world.app.callback_map) >= 20
    assert any(spec["clientside_function"] for spec in specs)
    assert any(spec["state"] for spec in specs)
    assert any(not spec["output"].startswith("..") for spec in specs)
    assert any("@" in spec["output"] for spec in specs)  # allow_duplicate outputs
