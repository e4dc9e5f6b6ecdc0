"""Every email exists in French, German and English, with the same variables in each.

The French templates are the reference: a German or English template must use the same
Jinja variables, render through `mail.render` with the context the services queue, carry its
own `<html lang>`, and read in its own language (no French, German or English left over from
another version). The invitation also points its reader to the two other languages.
"""

from __future__ import annotations

import html as html_lib
import re
from types import SimpleNamespace

import pytest
from jinja2 import meta

from dashboard.config import Settings
from dashboard.enrolment import mail
from dashboard.enrolment.codes import REJECTION_REASONS

LANGUAGES = ("fr", "de", "en")
TRANSLATIONS = ("de", "en")
SETTINGS = Settings(env="test", secret_key="test-secret-key-" + "x" * 32)
LINK = "https://esante.example/enrolment/invitation/tok3nABC"

# One value per context variable the services queue (and `render` adds: link, portal_url).
SAMPLE = {
    "first_names": "Marie",
    "last_name": "Schmit",
    "professional": "Dr Anne Weber",
    "expires_on": "31/03/2026",
    "attempts": 3,
    "reason_code": "declaration_error",
    "portal_url": "https://portal.esante.example",
    "link": LINK,
    "ended_by": "professional",
    "still_active": True,
    "base_url": "https://esante.example",
}

# The invitation's pointer to each language, written in that language.
POINTER_LABEL = {"fr": "Français : ", "de": "Deutsch: ", "en": "English: "}
POINTER_NAMES = {"fr": "en français", "de": "auf Deutsch", "en": "in English"}

# Words that give away a text written (or left) in another language.
GIVEAWAYS = {
    "fr": {
        "bonjour",
        "vous",
        "votre",
        "vos",
        "notre",
        "nous",
        "merci",
        "motif",
        "une",
        "les",
        "avec",
        "pour",
        "compte",
        "demande",
        "été",
        "être",
        "déclaration",
        "identité",
    },
    "de": {
        "guten",
        "tag",
        "sie",
        "ihr",
        "ihre",
        "ihrer",
        "und",
        "der",
        "die",
        "das",
        "nicht",
        "konto",
        "antrag",
        "bitte",
        "wurde",
        "mit",
        "meldung",
    },
    "en": {
        "dear",
        "you",
        "your",
        "the",
        "and",
        "please",
        "with",
        "account",
        "request",
        "has",
        "been",
        "declaration",
        "identity",
    },
}
ACCENTS = {"fr": "éèêàçùôî", "de": "äöüß", "en": ""}

HAS_REASON = ("rejected", "professional_rejected")


# --- helpers ---------------------------------------------------------------------------------


def _path(template: str, lang: str, ext: str):
    return mail.TEMPLATE_DIR / f"{template}.{lang}.{ext}"


def _source(name: str) -> str:
    return mail._env.loader.get_source(mail._env, name)[0]


def _variables(name: str, seen: set[str] | None = None) -> set[str]:
    """The undeclared variables of a template and of every template it extends or includes."""
    seen = set() if seen is None else seen
    if name in seen:
        return set()
    seen.add(name)
    ast = mail._env.parse(_source(name))
    found = set(meta.find_undeclared_variables(ast))
    for ref in meta.find_referenced_templates(ast):
        assert ref is not None, f"{name}: dynamic template reference"
        found |= _variables(ref, seen)
    return found


def _french_variables(template: str) -> set[str]:
    return _variables(f"{template}.fr.txt") | _variables(f"{template}.fr.html")


def _context(template: str, **overrides) -> dict:
    """The context a service would queue: the French template's variables, sample values."""
    ctx = {}
    for name in sorted(_french_variables(template)):
        if name not in SAMPLE:
            pytest.fail(f"{template}: add a sample value for the new variable {name!r}")
        if name == "link":
            ctx["sealed_link"] = mail.seal(SETTINGS.secret_key, LINK)
        else:
            ctx[name] = SAMPLE[name]
    ctx.update(overrides)
    return ctx


def _render(template: str, lang: str, **overrides) -> mail.RenderedEmail:
    row = SimpleNamespace(template=template, language=lang, context=_context(template, **overrides))
    return mail.render(row, SETTINGS)


def _without_pointers_text(text: str) -> str:
    return "\n".join(
        line for line in text.splitlines() if not line.startswith(tuple(POINTER_LABEL.values()))
    )


# An element other than <html> that declares its own language (the pointer lines).
_LANG_ELEMENT = re.compile(r'<(?!html\b)(\w+)\b[^>]*\slang="(\w+)"[^>]*>(.*?)</\1>', re.S)


def _pointer_elements(html: str) -> dict[str, str]:
    """The text of each element (other than <html>) that declares its own language."""
    return {
        lang: html_lib.unescape(re.sub(r"<[^>]+>", "", inner)).strip()
        for _tag, lang, inner in _LANG_ELEMENT.findall(html)
    }


def _visible_text(html: str) -> str:
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", _LANG_ELEMENT.sub("", html)))


def _foreign(text: str, lang: str) -> set[str]:
    """Words or letters of the other languages found in `text`."""
    text = text.replace("Agence eSanté", "").replace("eSanté", "")
    words = set(re.findall(r"\w+", text.lower()))
    found = set()
    for other in LANGUAGES:
        if other == lang:
            continue
        found |= words & GIVEAWAYS[other]
        found |= {c for c in ACCENTS[other] if c in text.lower()} - set(ACCENTS[lang])
    return found


def _cases() -> list:
    cases = []
    for template in mail.TEMPLATES:
        codes = (*REJECTION_REASONS, "unknown_code") if template in HAS_REASON else (None,)
        for lang in LANGUAGES:
            for code in codes:
                case_id = f"{template}-{lang}" + (f"-{code}" if code else "")
                cases.append(pytest.param(template, lang, code, id=case_id))
    return cases


# --- the files -------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("template", mail.TEMPLATES)
def test_each_template_exists_in_each_language_with_a_subject_line(template, lang):
    for ext in ("txt", "html"):
        assert _path(template, lang, ext).is_file(), f"missing {template}.{lang}.{ext}"
    first_line = _path(template, lang, "txt").read_text(encoding="utf-8").splitlines()[0]
    assert first_line.startswith("Subject: ")
    assert first_line[len("Subject: ") :].strip()


@pytest.mark.parametrize("lang", TRANSLATIONS)
@pytest.mark.parametrize("template", mail.TEMPLATES)
def test_a_translation_uses_the_same_variables_as_the_french(template, lang):
    for ext in ("txt", "html"):
        french = _variables(f"{template}.fr.{ext}")
        assert _variables(f"{template}.{lang}.{ext}") == french, f"{template}.{lang}.{ext}"


# --- rendering -------------------------------------------------------------------------------


@pytest.mark.parametrize(("template", "lang", "reason_code"), _cases())
def test_each_email_renders_in_its_own_language(template, lang, reason_code):
    overrides = {"reason_code": reason_code} if reason_code else {}
    rendered = _render(template, lang, **overrides)

    assert rendered.subject and not rendered.text.startswith("Subject:")
    assert f'<html lang="{lang}">' in rendered.html
    for part in (rendered.text, rendered.html):
        assert "{{" not in part and "{%" not in part and "None" not in part
    # Every variable the French email shows is shown in this one too.
    # (reason_code, ended_by and still_active choose a text: they are not shown as such.)
    for name in _french_variables(template) - {"reason_code", "ended_by", "still_active"}:
        value = str(SAMPLE[name])
        assert value in rendered.text, f"{name} missing from the text"
        assert value in rendered.html, f"{name} missing from the html"

    readable = {
        "subject": rendered.subject,
        "text": _without_pointers_text(rendered.text),
        "html": _visible_text(rendered.html),
    }
    for part, text in readable.items():
        assert not _foreign(text, lang), f"{part}: {sorted(_foreign(text, lang))}"


@pytest.mark.parametrize("lang", TRANSLATIONS)
@pytest.mark.parametrize("template", mail.TEMPLATES)
def test_a_translation_is_not_the_french_email(template, lang):
    french, other = _render(template, "fr"), _render(template, lang)
    assert other.subject != french.subject
    assert other.text != french.text


@pytest.mark.parametrize("lang", TRANSLATIONS)
def test_each_rejection_reason_is_translated(lang):
    def reason(language: str, code: str) -> str:
        name = "_reasons.txt" if language == "fr" else f"_reasons.{language}.txt"
        return mail._env.get_template(name).render(reason_code=code).strip()

    fallback = reason(lang, "unknown_code")
    texts = {code: reason(lang, code) for code in REJECTION_REASONS}
    assert fallback not in texts.values()
    assert len(set(texts.values())) == len(REJECTION_REASONS)
    for code, text in texts.items():
        assert text != reason("fr", code)
        assert not _foreign(text, lang), (code, text)


def test_a_language_without_templates_falls_back_to_french():
    rendered = _render("pending_review", "lb")
    assert rendered.text.startswith("Bonjour Marie Schmit,")
    assert '<html lang="fr">' in rendered.html


# --- the invitation's pointer to the other languages -----------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_invitation_points_to_the_two_other_languages(lang):
    rendered = _render("invitation", lang)
    lines = rendered.text.splitlines()
    link_line = lines.index(LINK)
    pointers = _pointer_elements(rendered.html)

    assert POINTER_LABEL[lang] not in rendered.text
    assert lang not in pointers
    for other in LANGUAGES:
        if other == lang:
            continue
        found = [i for i, line in enumerate(lines) if line.startswith(POINTER_LABEL[other])]
        assert len(found) == 1, f"no single {other} pointer line in the {lang} invitation"
        line = lines[found[0]]
        assert found[0] < link_line, "the pointer must come near the top, before the link"
        assert POINTER_NAMES[other] in line
        # The html holds the same sentence in an element marked with its language.
        assert pointers.get(other) == line, f"html pointer to {other}"


def test_the_pointer_to_a_language_reads_the_same_in_every_invitation():
    by_language: dict[str, set[str]] = {lang: set() for lang in LANGUAGES}
    for lang in LANGUAGES:
        for line in _render("invitation", lang).text.splitlines():
            for other, label in POINTER_LABEL.items():
                if line.startswith(label):
                    by_language[other].add(line)
    for other, lines in by_language.items():
        assert len(lines) == 1, f"the {other} pointer differs between invitations: {lines}"
