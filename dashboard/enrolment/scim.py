"""The SCIM 2.0 adapter of the provisioning port (RFC 7643/7644), and the embedded directory.

`ScimDirectory` speaks SCIM through scim2-client (requests and answers checked against
scim2-models): over HTTP (`from_settings`, httpx), or in process to a WSGI application
(`in_process`: the embedded directory, the fast tests). Every step is idempotent:

- the User is looked up by `externalId` (the account's directory id) before it is created;
  a 409 on creation (created meanwhile by another dispatcher) looks it up again by
  userName and converges; a 404 on replace (deleted by hand) creates it again;
- a professional's Group is looked up by externalId before it is created; should two
  dispatchers create it at once, the oldest is the one (the other's members are moved to
  it, the copy deleted);
- memberships are added and removed by PATCH, never by replacing a group's member list.

The embedded directory (development): scim2-server's WSGI application over a storage kept
in a JSON file under data/ (git-ignored), so it survives a restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import ssl
import threading
from pathlib import Path
from typing import Any

import httpx
from scim2_client.client import BaseSyncSCIMClient
from scim2_client.engines.wsgi import WSGISCIMClient
from scim2_client.errors import RequestNetworkException, SCIMClientException
from scim2_models import (
    Email,
    Group,
    GroupMember,
    Name,
    PatchOp,
    PatchOperation,
    SCIMException,
    ScimProvider,
    SearchRequest,
    User,
)
from scim2_models.exceptions import NotFoundException, UniquenessException
from scim2_server.memory import InMemoryStorage
from scim2_server.testserver.application import BEARER_TOKEN_SCHEME, BearerTokenApplication
from scim2_server.utils import (
    load_default_resource_types,
    load_default_schemas,
    load_default_service_provider_config,
)

from dashboard.config import DATA_DIR, DEVELOPMENT_SCIM_TOKEN, Settings
from dashboard.enrolment.provisioning import (
    GROUP_PREFIX,
    DirectoryEntry,
    DirectoryError,
    DirectoryState,
    GroupRef,
)

REQUEST_TIMEOUT = 10.0  # seconds, each SCIM request (well within provisioning.LEASE)
PAGE = 200  # resources per page when reading the whole directory
EMBEDDED_STORAGE = DATA_DIR / "scim-directory.json"
EMBEDDED_PATH = "/dev/scim"  # where the development app mounts the embedded directory


def _provider() -> ScimProvider:
    return ScimProvider(models=[User, Group])


class HttpxSCIMClient(BaseSyncSCIMClient):
    """scim2-client's synchronous client over an `httpx.Client` (its own engine is for the
    httpx2 fork, which this project does not install)."""

    def __init__(self, client: httpx.Client, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = client

    def _stays_under_base_url(self, endpoint: str) -> bool:
        base = self.client.base_url
        try:
            url = self.client.build_request("GET", endpoint).url
        except httpx.InvalidURL:
            return False
        return (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port) and (
            url.raw_path.startswith(base.raw_path)
        )

    def _parse_json(self, response):
        return response.json()

    def request(self, method: str, url: str, **kwargs: Any):
        try:
            return self.client.request(method, url, **kwargs)
        except httpx.RequestError as exc:
            error = RequestNetworkException()
            error.add_note(str(exc))
            raise error from exc


def _explain(exc: Exception) -> DirectoryError:
    """The directory's refusal in French, for the outbox row (never its payload)."""
    status = getattr(exc, "status", None)
    if status is None:  # scim2-client's own exceptions carry the response as `source`
        status = getattr(getattr(exc, "source", None), "status_code", None)
    if status is not None:
        try:
            status = int(status)
        except (TypeError, ValueError):
            status = None
    if isinstance(exc, RequestNetworkException):
        return DirectoryError(f"annuaire SCIM injoignable ({exc.__notes__[0][:200]})")
    if status in (401, 403):
        return DirectoryError(
            f"annuaire SCIM : accès refusé ({status}) — vérifiez SCIM_TOKEN et ses droits"
        )
    if status is not None and status >= 500:
        return DirectoryError(f"annuaire SCIM : erreur du serveur ({status})")
    if status is not None:
        return DirectoryError(f"annuaire SCIM : requête refusée ({status})")
    return DirectoryError(f"annuaire SCIM : réponse inattendue ({type(exc).__name__})")


class ScimDirectory:
    """The provisioning port over a SCIM 2.0 service provider."""

    def __init__(self, client: BaseSyncSCIMClient):
        self.scim = client

    # --- construction -------------------------------------------------------------------------

    @classmethod
    def over_http(cls, url: str, token: str | None, ca_file: str | None = None) -> ScimDirectory:
        verify: ssl.SSLContext | bool = True
        if ca_file:
            verify = ssl.create_default_context(cafile=ca_file)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        http = httpx.Client(
            base_url=url.rstrip("/"), headers=headers, timeout=REQUEST_TIMEOUT, verify=verify
        )
        return cls(HttpxSCIMClient(http, provider=_provider()))

    @classmethod
    def in_process(cls, app, token: str | None = DEVELOPMENT_SCIM_TOKEN) -> ScimDirectory:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        return cls(
            WSGISCIMClient(
                app, base_url="http://embedded/v2", headers=headers, provider=_provider()
            )
        )

    # --- the port -----------------------------------------------------------------------------

    def apply(self, state: DirectoryState) -> None:
        try:
            user_id = self._put_user(state)
            self._put_memberships(user_id, state.groups)
        except DirectoryError:
            raise
        except (SCIMException, SCIMClientException) as exc:
            raise _explain(exc) from None

    def read(self) -> list[DirectoryEntry]:
        try:
            users = self._all(User)
            groups = [g for g in self._all(Group) if (g.external_id or "").startswith(GROUP_PREFIX)]
        except (SCIMException, SCIMClientException) as exc:
            raise _explain(exc) from None
        member_of: dict[str, set[str]] = {}
        for group in groups:
            for member in group.members or []:
                member_of.setdefault(member.value, set()).add(group.external_id)
        return [
            DirectoryEntry(u.external_id, bool(u.active), frozenset(member_of.get(u.id, ())))
            for u in users
            if u.external_id
        ]

    def group_names(self) -> dict[str, str]:
        """The managed groups' names by externalId (the development view)."""
        try:
            groups = self._all(Group)
        except (SCIMException, SCIMClientException) as exc:
            raise _explain(exc) from None
        return {
            g.external_id: g.display_name
            for g in groups
            if (g.external_id or "").startswith(GROUP_PREFIX)
        }

    # --- Users --------------------------------------------------------------------------------

    def _find(self, model, filter_: str, sort_by: str | None = None) -> list:
        found = self.scim.query(
            model, query_parameters=SearchRequest(filter=filter_, sort_by=sort_by, count=PAGE)
        )
        return list(found.resources or [])

    def _user_of(self, state: DirectoryState) -> User:
        return User(
            user_name=state.user_name,
            external_id=state.directory_id,
            name=Name(given_name=state.given_name, family_name=state.family_name)
            if state.given_name or state.family_name
            else None,
            emails=[Email(value=state.email, primary=True, type="work")] if state.email else None,
            active=state.active,
        )

    def _put_user(self, state: DirectoryState) -> str:
        wanted = self._user_of(state)
        found = self._find(User, f'externalId eq "{state.directory_id}"')
        if not found:
            try:
                return self.scim.create(wanted).id
            except UniquenessException:
                # Created meanwhile (another dispatcher, or a replay): converge on it.
                found = self._find(User, f'userName eq "{state.user_name}"')
                if not found:
                    raise DirectoryError(
                        "annuaire SCIM : conflit (409) sans utilisateur à ce nom"
                    ) from None
        current = found[0]
        if _same_user(current, wanted):
            return current.id
        wanted.id = current.id
        try:
            return self.scim.replace(wanted).id
        except NotFoundException:
            # Deleted by hand between the look-up and the replace: create it again.
            wanted.id = None
            return self.scim.create(wanted).id

    # --- Groups and memberships ------------------------------------------------------------

    def _group_id(self, ref: GroupRef) -> str:
        found = self._find(Group, f'externalId eq "{ref.external_id}"')
        if not found:
            self.scim.create(Group(display_name=ref.display_name, external_id=ref.external_id))
            found = self._find(Group, f'externalId eq "{ref.external_id}"')
        # Two dispatchers may have created it at once: the oldest is the group.
        found.sort(key=lambda g: (g.meta.created, g.id))
        group, copies = found[0], found[1:]
        for copy in copies:
            members = [GroupMember(value=m.value) for m in copy.members or []]
            if members:
                self._patch(group.id, "add", "members", members)
            with contextlib.suppress(NotFoundException):
                self.scim.delete(Group, copy.id)
        if group.display_name != ref.display_name:
            self._patch(group.id, "replace", "displayName", ref.display_name)
        return group.id

    def _patch(self, group_id: str, op: str, path: str, value=None) -> None:
        operation = PatchOperation[Group](op=op, path=path, value=value)
        self.scim.modify(Group, group_id, PatchOp[Group](operations=[operation]))

    def _put_memberships(self, user_id: str, groups: frozenset[GroupRef]) -> None:
        wanted = {self._group_id(ref) for ref in sorted(groups)}
        current = {
            g.id: g
            for g in self._find(Group, f'members.value eq "{user_id}"')
            if (g.external_id or "").startswith(GROUP_PREFIX)
        }
        for group_id in sorted(wanted - set(current)):
            self._patch(group_id, "add", "members", [GroupMember(value=user_id)])
        for group_id in sorted(set(current) - wanted):
            with contextlib.suppress(NotFoundException):
                self._patch(group_id, "remove", f'members[value eq "{user_id}"]')

    def _all(self, model) -> list:
        out, start = [], 1
        while True:
            page = self.scim.query(
                model, query_parameters=SearchRequest(start_index=start, count=PAGE)
            )
            resources = list(page.resources or [])
            out += resources
            start += len(resources)
            if not resources or start > (page.total_results or 0):
                return out


def _same_user(current: User, wanted: User) -> bool:
    def emails(user):
        return [e.value for e in user.emails or []]

    def names(user):
        return (user.name.given_name, user.name.family_name) if user.name else (None, None)

    return (
        current.user_name == wanted.user_name
        and bool(current.active) == bool(wanted.active)
        and emails(current) == emails(wanted)
        and names(current) == names(wanted)
    )


# --- the embedded directory (development, fast tests) ----------------------------------------


class FileStorage(InMemoryStorage):
    """scim2-server's in-memory storage, kept in a JSON file: read again when another
    process changed it, written after each change (under a file lock; development only)."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = Path(path)
        self._seen: float | None = None
        self._process_lock = threading.RLock()

    @contextlib.contextmanager
    def _file_locked(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._process_lock, open(f"{self.path}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._load()
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _load(self) -> None:
        try:
            stamp = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return
        if stamp == self._seen:
            return
        raw = json.loads(self.path.read_text(encoding="utf-8") or "[]")
        models = {"User": User, "Group": Group}
        self.resources = [models[r["meta"]["resourceType"]].model_validate(r) for r in raw]
        self._seen = stamp

    def _save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps([r.model_dump(mode="json") for r in self.resources]), encoding="utf-8"
        )
        os.replace(tmp, self.path)
        self._seen = self.path.stat().st_mtime_ns

    def get(self, *args, **kwargs):
        with self._file_locked():
            return super().get(*args, **kwargs)

    def search(self, *args, **kwargs):
        with self._file_locked():
            return super().search(*args, **kwargs)

    def create(self, *args, **kwargs):
        with self._file_locked():
            created = super().create(*args, **kwargs)
            self._save()
            return created

    def update(self, *args, **kwargs):
        with self._file_locked():
            updated = super().update(*args, **kwargs)
            self._save()
            return updated

    def delete(self, *args, **kwargs):
        with self._file_locked():
            super().delete(*args, **kwargs)
            self._save()


def embedded_application(storage: InMemoryStorage | None = None, token: str | None = None):
    """scim2-server's WSGI application (RFC 7643 schemas, User and Group), behind a bearer
    token; `storage` defaults to an in-memory one (tests)."""
    config = load_default_service_provider_config()
    tokens = [token] if token else []
    if tokens:
        config.authentication_schemes = [
            *(config.authentication_schemes or []),
            BEARER_TOKEN_SCHEME,
        ]
    provider = ScimProvider.from_discovery(
        load_default_schemas().values(), load_default_resource_types().values(), config=config
    )
    return BearerTokenApplication(storage or InMemoryStorage(), provider, bearer_tokens=tokens)


_EMBEDDED: dict[str, object] = {}
_EMBEDDED_LOCK = threading.Lock()


def development_application(path: Path = EMBEDDED_STORAGE):
    """The embedded directory of this process (one per storage file)."""
    with _EMBEDDED_LOCK:
        key = str(path)
        if key not in _EMBEDDED:
            _EMBEDDED[key] = embedded_application(FileStorage(path), DEVELOPMENT_SCIM_TOKEN)
        return _EMBEDDED[key]


def directory_from_settings(settings: Settings) -> ScimDirectory:
    """SCIM_URL's directory; without it (development, tests), the embedded one, called in
    process (no HTTP: the dispatcher works whether or not the web server runs)."""
    if settings.scim_url:
        return ScimDirectory.over_http(
            settings.scim_url, settings.scim_token, settings.scim_ca_file
        )
    return ScimDirectory.in_process(development_application(), DEVELOPMENT_SCIM_TOKEN)
