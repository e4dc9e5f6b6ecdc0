"""A real SCIM 2.0 server process for the provisioning tests (`scim2-server`, the test
extras), and a tiny HTTP proxy in front of it that can be switched off (the server "down",
connection refused) or made to answer an error status (403, 500) — what the adapter must
survive without losing or doubling anything."""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

TOKEN = "scim-test-token"  # noqa: S105  # nosec B105 - a test server's


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


class ScimServer:
    """`scim2-server --hostname 127.0.0.1 --port P --bearer-token T`, in its own process."""

    def __init__(self):
        self.port = free_port()
        binary = shutil.which("scim2-server") or str(Path(sys.executable).with_name("scim2-server"))
        self.process = subprocess.Popen(  # noqa: S603  # nosec B603 - our own test binary
            [binary, "--hostname", "127.0.0.1", "--port", str(self.port), "--bearer-token", TOKEN],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        _wait_for_port(self.port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v2"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    # --- looking at (and damaging) the directory by hand, as an operator would ------------

    def _http(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        )

    def list(self, kind: str, filter_: str | None = None) -> list[dict]:
        params = {"count": 1000, **({"filter": filter_} if filter_ else {})}
        with self._http() as http:
            answer = http.get(f"/{kind}", params=params)
            answer.raise_for_status()
            return answer.json().get("Resources", [])

    def users(self) -> list[dict]:
        return self.list("Users")

    def groups(self) -> list[dict]:
        return self.list("Groups")

    def members(self, display_name: str) -> set[str]:
        """The externalIds of the members of the group named so (scim2-server keeps a
        deleted User's id in its groups: such a dangling member is no one)."""
        by_id = {u["id"]: u.get("externalId") for u in self.users()}
        return {
            by_id[m["value"]]
            for g in self.groups()
            if g["displayName"] == display_name
            for m in g.get("members", [])
            if m["value"] in by_id
        }

    def user(self, external_id: str) -> dict | None:
        found = self.list("Users", f'externalId eq "{external_id}"')
        assert len(found) <= 1, found
        return found[0] if found else None

    def delete(self, kind: str, resource_id: str) -> None:
        with self._http() as http:
            http.delete(f"/{kind}/{resource_id}").raise_for_status()

    def patch(self, kind: str, resource_id: str, *operations: dict) -> None:
        body = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": list(operations),
        }
        with self._http() as http:
            answer = http.patch(f"/{kind}/{resource_id}", json=body)
            assert answer.status_code in (200, 204), answer.text

    def post(self, kind: str, body: dict) -> dict:
        with self._http() as http:
            answer = http.post(f"/{kind}", json=body)
            assert answer.status_code == 201, answer.text
            return answer.json()


class Proxy:
    """Forwards to `target`; `fail_with` set to a status answers that instead; `down()`
    stops listening (connections refused) until `up()`, on the same port."""

    def __init__(self, target: str):
        self.target = target.rstrip("/")
        self.port = free_port()
        self.fail_with: int | None = None
        self.requests = 0
        self._server: http.server.ThreadingHTTPServer | None = None
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v2"

    def up(self) -> None:
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _forward(self):
                proxy.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if proxy.fail_with is not None:
                    self.send_response(proxy.fail_with)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", "5")
                    self.end_headers()
                    self.wfile.write(b"error")
                    return
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "content-length")
                }
                path = self.path.removeprefix("/v2")
                answer = httpx.request(
                    self.command, proxy.target + path, headers=headers, content=body, timeout=10
                )
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def scim_server():
    server = ScimServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def scim_proxy(scim_server):
    proxy = Proxy(scim_server.url)
    try:
        yield proxy
    finally:
        proxy.down()
