"""Call Dash callbacks the way the browser does: POST /_dash-update-component."""

from __future__ import annotations

import json


def output_key(outputs: list[tuple[str, str]]) -> str:
    if len(outputs) == 1:
        return f"{outputs[0][0]}.{outputs[0][1]}"
    return ".." + "...".join(f"{i}.{p}" for i, p in outputs) + ".."


def call(client, outputs, inputs, state=(), triggered=None):
    """outputs: [(id, prop)], inputs/state: [(id, prop, value)]. Returns the response."""
    body = {
        "output": output_key(outputs),
        "outputs": [{"id": i, "property": p} for i, p in outputs]
        if len(outputs) > 1
        else {"id": outputs[0][0], "property": outputs[0][1]},
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "changedPropIds": [triggered or f"{inputs[0][0]}.{inputs[0][1]}"],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
    }
    return client.post(
        "/_dash-update-component",
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-CSRFToken": csrf_token(client)},
    )


def csrf_token(client) -> str:
    """The CSRF token as the renderer sends it: read from the cookie a page load sets."""
    cookie = client.get_cookie("_csrf_token")
    if cookie is None:
        client.get("/")
        cookie = client.get_cookie("_csrf_token")
    return cookie.value if cookie is not None else ""


def values(response) -> dict:
    """{(id, prop): value} from a callback response."""
    data = response.get_json()["response"]
    return {(i, p): v for i, props in data.items() for p, v in props.items()}


def render_page(client, path: str):
    """The layout the page router would render for `path` (as JSON), its query string
    (`?a=b`) given as the browser's `search`."""
    path, mark, query = path.partition("?")
    return call(
        client,
        [("_pages_content", "children"), ("_pages_store", "data")],
        [("_pages_location", "pathname", path), ("_pages_location", "search", mark + query)],
    )


def call_by_input(client, input_id: str, inputs, state=(), triggered=None):
    """Call the callback whose first input is `input_id`, with its exact registered
    outputs (callbacks with allow_duplicate outputs carry a hash in their output ids)."""
    deps = client.get("/_dash-dependencies").get_json()
    spec = next(d for d in deps if d["inputs"] and d["inputs"][0]["id"] == input_id)
    key = spec["output"]
    parts = key.strip(".").split("...") if key.startswith("..") else [key]
    outputs = [tuple(p.rsplit(".", 1)) for p in parts]
    return call(client, outputs, inputs, state, triggered)


def components(tree):
    """Every component (type, props) in a rendered layout or callback response."""
    if isinstance(tree, dict):
        if "type" in tree and isinstance(tree.get("props"), dict):
            yield tree
        for value in tree.values():
            yield from components(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from components(value)


def submit_form(client, page_path: str, action: str, **fields):
    """Submit the plain form of the page at `page_path` whose action is `action` (a logout,
    the staff login), with the CSRF token that form carries, as the browser does."""
    page = render_page(client, page_path).get_json()
    form = next(
        c for c in components(page) if c["type"] == "Form" and c["props"].get("action") == action
    )
    token = next(
        c["props"]["value"] for c in components(form) if c["props"].get("name") == "csrf_token"
    )
    return client.post(action, data={"csrf_token": token, **fields})


class HttpClient:
    """The calls above over real HTTP (a served app: gunicorn, the dev server), with the
    Flask test client's few methods they use. Cookies are kept as a browser keeps them."""

    def __init__(self, base_url: str, timeout: float = 30.0):
        import requests

        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.timeout = timeout

    def get(self, path: str, headers=None, allow_redirects: bool = True):
        return _HttpResponse(
            self.session.get(
                self.base_url + path,
                headers=headers,
                allow_redirects=allow_redirects,
                timeout=self.timeout,
            )
        )

    def post(self, path: str, data=None, content_type=None, headers=None):
        headers = dict(headers or {})
        if content_type:
            headers["Content-Type"] = content_type
        return _HttpResponse(
            self.session.post(
                self.base_url + path, data=data, headers=headers, timeout=self.timeout
            )
        )

    def get_cookie(self, name: str):
        value = self.session.cookies.get(name)
        return None if value is None else _Cookie(value)


class _Cookie:
    def __init__(self, value: str):
        self.value = value


class _HttpResponse:
    def __init__(self, response):
        self.raw = response
        self.status_code = response.status_code
        self.headers = response.headers
        self.data = response.content

    def get_json(self, silent: bool = False):
        try:
            return self.raw.json()
        except ValueError:
            if silent:
                return None
            raise
