"""The app under gunicorn, and a small closed-loop HTTP load generator.

`Server` starts `gunicorn -w 2 -k sync benchmarks.wsgi:server` on a free loopback port and
follows the peak RSS (VmHWM) of its master and workers. `load()` runs C client threads, each
sending one request, waiting for the answer, and sending the next (a closed loop, like
people clicking), and returns the latencies. Requests are built with `http.client` (one
connection per request: gunicorn's sync workers close the connection after each response),
which costs the client much less CPU than `requests` on a machine it shares with the server.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dashboard.config import PROJECT_ROOT

HOST = "127.0.0.1"
DASH = "/_dash-update-component"
COOKIE = "esante_session"
CSRF_COOKIE = "_csrf_token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(x) for x in f.read().split()]
    except FileNotFoundError:
        pass
    return found


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0


def postgres_backends(database: str) -> list[int]:
    """PostgreSQL backend processes serving `database` (their title names it)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                title = f.read().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if title.startswith("postgres:") and f" {database} " in title:
            found.append(int(entry))
    return found


class CpuMeter:
    """CPU seconds used by the server's workers (and the database's backends) over a span."""

    def __init__(self, server: Server, database: str | None):
        self.server, self.database = server, database

    def snapshot(self) -> dict[str, dict[int, float]]:
        workers = _children(self.server.proc.pid) if self.server.proc else []
        out = {"app": {pid: cpu_seconds(pid) for pid in workers}}
        if self.database:
            out["db"] = {pid: cpu_seconds(pid) for pid in postgres_backends(self.database)}
        return out

    @staticmethod
    def delta(before: dict, after: dict) -> dict[str, float]:
        return {
            kind: sum(v - before.get(kind, {}).get(pid, 0.0) for pid, v in pids.items())
            for kind, pids in after.items()
        }


class Server:
    """gunicorn serving benchmarks.wsgi:server; `peaks` holds VmHWM (kB) per pid seen."""

    def __init__(self, env: dict[str, str], workers: int = 2, log: Callable = print):
        self.env = env
        self.workers = workers
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.peaks: dict[int, tuple[str, int]] = {}  # pid -> (role, kB)
        self._stop_sampler = threading.Event()
        self._sampler: threading.Thread | None = None

    def start(self, timeout: float = 120.0) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "OIDC_"))}
        env.update(self.env)
        env["PYTHONPATH"] = str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(self.workers),
            "-k",
            "sync",
            "-b",
            f"{HOST}:{self.port}",
            "--timeout",
            "900",
            "--graceful-timeout",
            "10",
            "--log-level",
            "warning",
            "benchmarks.wsgi:server",
        ]
        self.proc = subprocess.Popen(cmd, cwd=str(PROJECT_ROOT), env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}")
            try:
                status, _, _ = request(self.port, "GET", "/healthz")
                if status == 200 and len(_children(self.proc.pid)) >= self.workers:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError("gunicorn did not answer in time")
        self._stop_sampler.clear()
        self._sampler = threading.Thread(target=self._sample_loop, daemon=True)
        self._sampler.start()

    def sample(self) -> None:
        if self.proc is None:
            return
        pids = [(self.proc.pid, "master")] + [(p, "worker") for p in _children(self.proc.pid)]
        for pid, role in pids:
            kb = _status_kb(pid, "VmHWM")
            if kb and kb > self.peaks.get(pid, (role, 0))[1]:
                self.peaks[pid] = (role, kb)

    def _sample_loop(self) -> None:
        while not self._stop_sampler.wait(0.25):
            self.sample()

    def stop(self) -> None:
        if self.proc is None:
            return
        self.sample()
        self._stop_sampler.set()
        if self._sampler:
            self._sampler.join(2)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def rss_mb(self) -> dict:
        workers = [kb / 1024 for role, kb in self.peaks.values() if role == "worker"]
        masters = [kb / 1024 for role, kb in self.peaks.values() if role == "master"]
        return {
            "worker_peak_mb": round(max(workers), 1) if workers else None,
            "master_peak_mb": round(max(masters), 1) if masters else None,
            "workers_seen": len(workers),
            # Upper bound of the whole server at one moment: master + the `workers` largest.
            "server_total_peak_mb": round(
                (max(masters) if masters else 0)
                + sum(sorted(workers, reverse=True)[: self.workers]),
                1,
            ),
        }


# --- requests ----------------------------------------------------------------------------------


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict | None = None,
    timeout: float = 900,
    source: str | None = None,
) -> tuple[int, bytes, list[tuple[str, str]]]:
    """One request on a new connection, optionally from another loopback address (the
    whole 127.0.0.0/8 is local on Linux): per-address rate limits then see one client per
    secretary or doctor, as in production, instead of everyone behind 127.0.0.1."""
    conn = http.client.HTTPConnection(
        HOST, port, timeout=timeout, source_address=(source, 0) if source else None
    )
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, data, response.getheaders()
    finally:
        conn.close()


def loopback_address(i: int, block: int = 10) -> str:
    """A distinct loopback address per index: 127.<block+…>.<…>.<…> (never 127.0.0.1)."""
    i += 1
    return f"127.{block + (i >> 16) % 200}.{(i >> 8) & 255}.{i & 255 or 1}"


def callback_body(outputs, inputs, state=(), triggered=None) -> bytes:
    """The JSON the Dash renderer POSTs (same shape as tests/dashclient.py)."""
    if len(outputs) == 1:
        key = f"{outputs[0][0]}.{outputs[0][1]}"
        out = {"id": outputs[0][0], "property": outputs[0][1]}
    else:
        key = ".." + "...".join(f"{i}.{p}" for i, p in outputs) + ".."
        out = [{"id": i, "property": p} for i, p in outputs]
    return json.dumps(
        {
            "output": key,
            "outputs": out,
            "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
            "changedPropIds": [triggered or f"{inputs[0][0]}.{inputs[0][1]}"],
            "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
        }
    ).encode()


def cookies_from(headers: list[tuple[str, str]]) -> dict[str, str]:
    found = {}
    for name, value in headers:
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            key, _, val = pair.partition("=")
            found[key.strip()] = val.strip()
    return found


def header(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name.lower()), None)


def signed_session(secret_key: str, data: dict) -> tuple[str, str]:
    """(session cookie, X-CSRFToken value) as the app would issue them for `data`.

    For the secretary's enrolment session and the professional's login, whose real routes
    go through an emailed link or LuxTrust: the benchmark owns the SECRET_KEY of the server
    it starts and its database, so it hands each client the session those flows would have
    produced (its handle opened in the database: runner.opened_sessions), with a CSRF token
    in it (Flask's and Flask-WTF's own code, in a throwaway app with that key).
    """
    import flask
    from flask_wtf.csrf import generate_csrf

    app = flask.Flask("bench-cookies")
    app.secret_key = secret_key
    with app.test_request_context():
        signed_csrf = generate_csrf()
        session = dict(data, csrf_token=flask.session["csrf_token"])
    cookie = app.session_interface.get_signing_serializer(app).dumps(session)
    return cookie, signed_csrf


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)  # seconds, measured window only
    elapsed: float = 0.0
    errors: int = 0
    first_error: str = ""
    clients: int = 1
    warm: int = 0  # warm-up requests answered (not in latencies)


def load(
    port: int,
    make: Callable[[int], tuple],
    *,
    clients: int = 20,
    duration: float = 5.0,
    min_requests: int = 40,
    max_requests: int | None = None,
    max_seconds: float = 180.0,
    warmup: int = 0,
    check: Callable[[int, bytes], bool] | None = None,
    path: str = DASH,
) -> LoadResult:
    """Closed loop: `clients` threads; request i is `make(i)` → (body, headers[, source]).

    The first `warmup` requests are not recorded. Then requests are sent until `duration`
    has passed and at least `min_requests` were answered, or `max_requests` were sent, or
    `max_seconds` have passed. Throughput is answered requests over the measured wall time.
    """
    lock = threading.Lock()
    state = {"next": 0, "answered": 0, "t0": None}
    result = LoadResult(clients=clients)
    stop_at = [None]

    def ticket() -> int | None:
        with lock:
            i = state["next"]
            if max_requests is not None and i >= max_requests + warmup:
                return None
            now = time.perf_counter()
            if i >= warmup:
                if state["t0"] is None:
                    state["t0"] = now
                    stop_at[0] = now + max_seconds
                measured = state["answered"]
                if now - state["t0"] >= duration and measured >= min_requests:
                    return None
                if now >= stop_at[0]:
                    return None
            state["next"] = i + 1
            return i

    def worker():
        while True:
            i = ticket()
            if i is None:
                return
            body, headers, *source = make(i)
            t0 = time.perf_counter()
            try:
                status, data, _ = request(
                    port, "POST", path, body, headers, source=source[0] if source else None
                )
            except OSError as exc:
                status, data = 0, repr(exc).encode()
            t1 = time.perf_counter()
            ok = status == 200 and (check is None or check(status, data))
            with lock:
                if i >= warmup:
                    result.latencies.append(t1 - t0)
                    state["answered"] += 1
                    state["t_end"] = t1
                else:
                    result.warm += 1
                if not ok:
                    result.errors += 1
                    if not result.first_error:
                        result.first_error = f"HTTP {status}: {data[:300]!r}"

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if state["t0"] is not None and "t_end" in state:
        result.elapsed = state["t_end"] - state["t0"]
    return result


def json_headers(cookie: str | None = None, csrf: str | None = None) -> dict:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if cookie:
        headers["Cookie"] = f"{COOKIE}={cookie}"
    if csrf:
        headers["X-CSRFToken"] = csrf
    return headers


def login_staff(port: int, email: str, password: str, source: str | None = None):
    """The real back-office login as a browser does it: GET the login page (session and
    CSRF cookies), POST /backoffice/login with the form's CSRF token, then GET the
    back-office page (a new CSRF token for the new session). Returns (cookie, csrf)."""
    from urllib.parse import urlencode

    status, _, headers = request(port, "GET", "/backoffice/connexion", source=source)
    jar = cookies_from(headers)
    if status != 200 or CSRF_COOKIE not in jar:
        raise RuntimeError(f"login page: HTTP {status}, cookies {sorted(jar)}")
    status, body, headers = request(
        port,
        "POST",
        "/backoffice/login",
        urlencode({"email": email, "password": password, "csrf_token": jar[CSRF_COOKIE]}).encode(),
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"{COOKIE}={jar.get(COOKIE, '')}",
        },
        source=source,
    )
    jar.update(cookies_from(headers))
    location = header(headers, "Location") or ""
    if status != 303 or "connexion" in location:
        raise RuntimeError(f"staff login failed: HTTP {status} → {location} {body[:200]!r}")
    status, _, headers = request(
        port, "GET", "/backoffice", headers={"Cookie": f"{COOKIE}={jar[COOKIE]}"}, source=source
    )
    jar.update(cookies_from(headers))
    if status != 200:
        raise RuntimeError(f"back-office page after login: HTTP {status}")
    return jar[COOKIE], jar.get(CSRF_COOKIE)


def project_path(*parts: str) -> Path:
    return PROJECT_ROOT.joinpath(*parts)
