"""Which language a request is served in, and the switch that changes it.

The choice is remembered in a cookie; without one, the browser's Accept-Language decides;
French otherwise. The `<html lang>` attribute follows, so screen readers pronounce the page
in its language.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import flask
from dash import Dash, html

from dashboard import i18n

COOKIE = "esante_lang"
COOKIE_DAYS = 365
NAMES = {"fr": "Français", "de": "Deutsch", "en": "English"}  # each in its own language
_LANG_MARK = "__esante_lang__"


def requested_language(request: flask.Request) -> str:
    chosen = request.cookies.get(COOKIE)
    if chosen in i18n.LANGUAGES:
        return chosen
    return request.accept_languages.best_match(i18n.LANGUAGES) or i18n.DEFAULT_LANGUAGE


def _local_path(url: str | None) -> str:
    """The path of a same-site URL to go back to; "/" for anything else."""
    parts = urlsplit(url or "")
    own = urlsplit(flask.request.host_url)
    if parts.netloc and parts.netloc != own.netloc:
        return "/"
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//"):
        return "/"
    return path + (f"?{parts.query}" if parts.query else "")


def switch(language: str):
    """GET /langue/<code>: remember the choice and go back to the page she was on."""
    if language not in i18n.LANGUAGES:
        flask.abort(404)
    response = flask.redirect(_local_path(flask.request.referrer), 303)
    settings = flask.current_app.extensions["esante"].settings
    response.set_cookie(
        COOKIE,
        language,
        max_age=COOKIE_DAYS * 24 * 3600,
        samesite="Lax",
        secure=settings.is_production,
        httponly=True,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def language_switch() -> html.Nav:
    """The visible switch: one link per language, named in that language."""
    current = i18n.current_language()
    return html.Nav(
        html.Ul(
            [
                html.Li(
                    html.A(
                        NAMES[code],
                        href=f"/langue/{code}",
                        lang=code,
                        hrefLang=code,
                        className="language-link",
                        **({"aria-current": "true"} if code == current else {}),
                    )
                )
                for code in i18n.LANGUAGES
            ],
            className="language-list",
        ),
        className="language-switch",
        **{"aria-label": i18n.gettext("Langue")},
    )


def init_app(app: Dash) -> None:
    server = app.server

    def choose_language():
        i18n.set_language(requested_language(flask.request))

    # First of all hooks: a refusal by a later one is already in her language.
    server.before_request_funcs.setdefault(None, []).insert(0, choose_language)
    server.add_url_rule("/langue/<language>", "language_switch", switch)
    # <html lang> per request: Dash's documented hook for the index page is interpolate_index.
    app.index_string = app.index_string.replace("<html>", f'<html lang="{_LANG_MARK}">', 1)
    interpolate = app.interpolate_index

    def interpolate_index(**kwargs):
        return interpolate(**kwargs).replace(_LANG_MARK, i18n.current_language(), 1)

    app.interpolate_index = interpolate_index
