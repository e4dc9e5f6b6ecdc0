"""The translation catalogues (issue #9): every string of the code exists in German and English.

The strings are extracted from dashboard/ exactly as `make messages` does (babel.cfg, keywords
_, gettext and N_). A developer who adds or changes a user-facing string must run
`make messages` and translate the new entries of dashboard/locale/{de,en}/.../messages.po.
"""

from __future__ import annotations

import functools
import re
import string
from pathlib import Path

import pytest
from babel.messages import frontend
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from dashboard import i18n

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "N_": None}  # the `-k` flags of `make messages`
TRANSLATED = tuple(lang for lang in i18n.LANGUAGES if lang != i18n.DEFAULT_LANGUAGE)
POT = i18n.LOCALE_DIR / "messages.pot"
HINT = "run `make messages`, then translate the entries in dashboard/locale/{de,en}"
# French spacing and quotes that must not be copied into German or English.
FRENCH_TYPOGRAPHY = re.compile(r"[«»\u00a0\u202f]|\s[:;?!](?=\s|$)")


# --- helpers ---------------------------------------------------------------------------------


@functools.cache
def extracted() -> dict[str, tuple[str, ...]]:
    """msgid → where the code uses it, from dashboard/ with the project's babel.cfg."""
    parse = getattr(frontend, "parse_mapping_cfg", None) or frontend.parse_mapping
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse(cfg, str(ROOT / "babel.cfg"))
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        ROOT / "dashboard", method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, []).append(f"dashboard/{filename}:{lineno}")
    return {msgid: tuple(where) for msgid, where in found.items()}


@functools.cache
def catalogue(path: Path) -> Catalog:
    with path.open("rb") as po:
        return read_po(po, abort_invalid=True)


def po_path(language: str) -> Path:
    return i18n.catalogue_path(language)


def placeholders(text: str) -> list[str]:
    """The `{name}` fields of a str.format template, sorted (repeats kept)."""
    return sorted(field for _lit, field, _spec, _conv in string.Formatter().parse(text) if field)


def untranslated(catalog: Catalog, msgids) -> dict[str, str]:
    """msgid → why it is not usable in `catalog` (missing, empty or fuzzy)."""
    problems = {}
    for msgid in msgids:
        message = catalog.get(msgid)
        if message is None:
            problems[msgid] = "missing"
        elif not message.string:
            problems[msgid] = "not translated (empty msgstr)"
        elif message.fuzzy:
            problems[msgid] = "fuzzy"
    return problems


def format_problems(catalog: Catalog) -> dict[str, str]:
    """msgid → what is wrong with its translation's placeholders or typography."""
    problems = {}
    for message in catalog:
        if not message.id or not message.string:
            continue
        try:
            if placeholders(message.string) != placeholders(message.id):
                problems[message.id] = f"placeholders differ: {message.string!r}"
                continue
            message.string.format(**dict.fromkeys(placeholders(message.id), "x"))
        except (ValueError, IndexError, KeyError) as exc:
            problems[message.id] = f"not a valid format string ({exc}): {message.string!r}"
            continue
        if FRENCH_TYPOGRAPHY.search(message.string):
            problems[message.id] = f"French typography copied: {message.string!r}"
    return problems


def report(problems: dict[str, str], language: str) -> str:
    where = extracted()
    lines = [
        f"  {msgid!r} ({', '.join(where.get(msgid, ('?',))[:2])}): {why}"
        for msgid, why in sorted(problems.items())
    ]
    return f"{len(problems)} problem(s) in the {language} catalogue ({HINT}):\n" + "\n".join(lines)


@pytest.fixture
def language():
    """Give each test the default language back (the language is per context)."""
    yield i18n.set_language
    i18n.set_language(i18n.DEFAULT_LANGUAGE)


# --- the checks can fail -----------------------------------------------------------------------


def test_the_checks_find_missing_empty_fuzzy_and_bad_translations():
    catalog = Catalog(locale="de")
    catalog.add("Bonjour", "Guten Tag")
    catalog.add("Au revoir", "")
    catalog.add("Merci", "Danke", flags=["fuzzy"])
    catalog.add("Bonjour {name}", "Guten Tag {nom}")
    catalog.add("Vous êtes {n} ; {m}", "Sie sind {n}")
    catalog.add("Ouvrir « {title} »", "« {title} » öffnen")
    catalog.add("Oui ?", "Ja ?")
    catalog.add("Total : {n}", "Summe: {n")
    assert untranslated(catalog, ["Bonjour", "Au revoir", "Merci", "Absent"]) == {
        "Au revoir": "not translated (empty msgstr)",
        "Merci": "fuzzy",
        "Absent": "missing",
    }
    assert set(format_problems(catalog)) == {
        "Bonjour {name}",
        "Vous êtes {n} ; {m}",
        "Ouvrir « {title} »",
        "Oui ?",
        "Total : {n}",
    }


def test_extraction_finds_the_strings_of_the_code():
    found = extracted()
    assert len(found) > 300
    assert "Se déconnecter" in found  # _()
    assert "Marie Schmit — identique à la déclaration" in found  # N_() in a table
    assert "Carte d'identité électronique (eID)" in found  # N_() in the simulator
    assert "Agence eSanté" in found  # a page title


def test_makefile_extracts_with_the_same_keywords():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile[makefile.index("\nmessages:") :]
    assert set(re.findall(r"-k\s+(\S+)", recipe)) == set(KEYWORDS)
    assert "-F babel.cfg" in recipe and "--no-default-keywords" in recipe


# --- (a) every string of the code is translated ------------------------------------------------


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_string_of_the_code_is_translated(lang):
    problems = untranslated(catalogue(po_path(lang)), extracted())
    assert not problems, report(problems, lang)


# --- (b) translations keep the placeholders; the files are valid -------------------------------


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_keep_the_placeholders_and_drop_french_typography(lang):
    problems = format_problems(catalogue(po_path(lang)))
    assert not problems, report(problems, lang)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalogue_passes_babel_checks(lang):
    catalog = catalogue(po_path(lang))
    assert str(catalog.locale) == lang
    errors = {message.id: [str(e) for e in errs] for message, errs in catalog.check() if errs}
    assert not errors, errors


def test_no_compiled_catalogue_is_kept():
    assert not list(i18n.LOCALE_DIR.rglob("*.mo")), "catalogues are read from the .po files"


# --- (c) the runtime switches language ---------------------------------------------------------


def test_german(language):
    language("de")
    assert i18n.current_language() == "de"
    assert i18n.gettext("Se déconnecter") == "Abmelden"
    assert i18n._("Conditions Générales d'Utilisation") == "Nutzungsbedingungen"
    assert i18n._("Compte créé pour {email}.", email="a@b.lu") == "Konto für a@b.lu erstellt."


def test_english(language):
    language("en")
    assert i18n.current_language() == "en"
    assert i18n._("Se déconnecter") == "Log out"
    assert i18n._("Conditions Générales d'Utilisation") == "Terms of Use"
    assert i18n._(
        "Le matricule doit comporter 13 chiffres\u00a0; vous en avez saisi {n}.", n=9
    ) == ("The matricule must have 13 digits; you entered 9.")


@pytest.mark.parametrize("lang", ["fr", "es", "", None, "DE"])
def test_french_and_unknown_languages_give_the_french_source(language, lang):
    language(lang)
    assert i18n.current_language() == "fr"
    assert i18n._("Se déconnecter") == "Se déconnecter"
    assert i18n._("Compte créé pour {email}.", email="a@b.lu") == "Compte créé pour a@b.lu."


def test_a_string_without_translation_falls_back_to_french(language):
    language("de")
    assert i18n._("Chaîne absente du catalogue {n}", n=1) == "Chaîne absente du catalogue 1"


def test_fuzzy_empty_and_broken_entries_are_ignored(language, tmp_path, monkeypatch):
    po = tmp_path / "de" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Oui"\nmsgstr "Ja"\n\n'
        '#, fuzzy\nmsgid "Non"\nmsgstr "Nein"\n\n'
        'msgid "Peut-être"\nmsgstr ""\n\n'
        'msgid "Bonjour {name}"\nmsgstr "Hallo {nom}"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.reload_catalogues()
    try:
        language("de")
        assert i18n._("Oui") == "Ja"
        assert i18n._("Non") == "Non"
        assert i18n._("Peut-être") == "Peut-être"
        # A translation with broken placeholders falls back to French, not to an error.
        assert i18n._("Bonjour {name}", name="Anne") == "Bonjour Anne"
    finally:
        monkeypatch.undo()
        i18n.reload_catalogues()
    assert i18n._("Se déconnecter") == "Abmelden"  # the real catalogue again


# --- (d) the template and the catalogues are up to date with the code ---------------------------


def test_template_is_up_to_date_with_the_code():
    in_template = {m.id for m in catalogue(POT) if m.id}
    in_code = set(extracted())
    added, removed = sorted(in_code - in_template), sorted(in_template - in_code)
    assert not added and not removed, (
        f"dashboard/locale/messages.pot is out of date ({HINT}).\n"
        f"  in the code, not in the template: {added}\n"
        f"  in the template, no longer in the code: {removed}"
    )


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalogue_follows_the_template(lang):
    in_template = {m.id for m in catalogue(POT) if m.id}
    in_catalogue = {m.id for m in catalogue(po_path(lang)) if m.id}
    assert in_catalogue == in_template, (
        f"{lang} catalogue not updated from the template ({HINT}): "
        f"missing {sorted(in_template - in_catalogue)}, stale {sorted(in_catalogue - in_template)}"
    )


# --- French typography (issue 22): a no-break space before : ; ? ! and inside « » ---------------

# An ordinary space (U+0020) where French wants a no-break one (U+00A0, or the narrow U+202F),
# and guillemets without one.
FRENCH_SPACING = re.compile(r" [:;?!]|«(?![\u00a0\u202f])|(?<![\u00a0\u202f])»")
JINJA = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.S)


def french_spacing_problems(text: str) -> list[str]:
    """The places of `text` that break the rule, each with a little context."""
    return [text[max(0, m.start() - 12) : m.end() + 4] for m in FRENCH_SPACING.finditer(text)]


def french_templates() -> list[Path]:
    """Every French text a secretary or a professional receives: the email templates (the
    ones without a language in their name are the French defaults) and the CGU."""
    emails = [
        p
        for p in sorted((ROOT / "data" / "emails").iterdir())
        if ".fr." in p.name or p.name.count(".") == 1
    ]
    return emails + sorted((ROOT / "data" / "cgu").glob("*.fr.md"))


def test_the_french_spacing_check_finds_what_it_must():
    ordinary = "Nom : a ; b ? c ! « d »"
    assert len(french_spacing_problems(ordinary)) == 6
    no_break = ordinary.replace(" :", "\u00a0:").replace(" ;", "\u202f;").replace(" ?", "\u202f?")
    no_break = no_break.replace(" !", "\u00a0!").replace("« ", "«\u00a0").replace(" »", "\u00a0»")
    assert french_spacing_problems(no_break) == []
    assert french_spacing_problems("10:00, https://esante.lu/?via=3") == []


def test_every_french_string_of_the_code_has_its_no_break_spaces():
    problems = {msgid: found for msgid in extracted() if (found := french_spacing_problems(msgid))}
    assert not problems, "\n".join(f"{m!r}: {p}" for m, p in sorted(problems.items()))


def test_every_french_template_has_its_no_break_spaces():
    paths = french_templates()
    assert len(paths) > 20
    problems = {}
    for path in paths:
        text = JINJA.sub("x", path.read_text(encoding="utf-8"))  # only what is written
        if found := french_spacing_problems(text):
            problems[path.name] = found
    assert not problems, problems
