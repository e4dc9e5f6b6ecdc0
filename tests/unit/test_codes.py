"""Each list of codes lives once (dashboard.enrolment.codes), and every code has its label in
each language — and every rejection reason its text in the emails."""

from __future__ import annotations

import pytest

from dashboard import i18n
from dashboard.enrolment import codes, kernel, mail

LISTS = {
    "RejectionReason": (codes.RejectionReason, codes.REASON_LABELS),
    "Outcome": (codes.Outcome, codes.OUTCOME_LABELS),
    "DecisionStatus": (codes.DecisionStatus, codes.DECISION_STATUS_LABELS),
    "EventAction": (codes.EventAction, codes.ACTION_LABELS),
    "LinkEndReason": (codes.LinkEndReason, codes.LINK_END_LABELS),
}


@pytest.mark.parametrize("name", LISTS)
def test_every_code_has_its_label(name):
    enum, labels = LISTS[name]
    assert set(labels) == set(enum), f"{name}: codes without a label or labels without a code"


@pytest.mark.parametrize("lang", [lang for lang in i18n.LANGUAGES if lang != "fr"])
@pytest.mark.parametrize("name", LISTS)
def test_every_label_is_translated(name, lang):
    enum, labels = LISTS[name]
    before = i18n.current_language()
    i18n.set_language(lang)
    try:
        untranslated = [code for code in enum if i18n.gettext(labels[code]) == labels[code]]
    finally:
        i18n.set_language(before)
    # A few labels read the same in French and English (product words): none here.
    assert untranslated == [], f"{name} in {lang}"


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_rejection_reason_has_its_email_text(lang):
    name = "_reasons.txt" if lang == "fr" else f"_reasons.{lang}.txt"
    template = mail._env.get_template(name)
    unknown = template.render(reason_code="no_such_reason").strip()
    texts = {code: template.render(reason_code=code).strip() for code in codes.RejectionReason}
    assert unknown not in texts.values()
    assert len(set(texts.values())) == len(texts)


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_link_end_reason_has_its_email_text(lang):
    name = "_link_reasons.txt" if lang == "fr" else f"_link_reasons.{lang}.txt"
    template = mail._env.get_template(name)
    unknown = template.render(reason_code="no_such_reason").strip()
    texts = {code: template.render(reason_code=code).strip() for code in codes.LinkEndReason}
    assert unknown not in texts.values()
    assert len(set(texts.values())) == len(texts)


def test_an_event_outside_the_list_is_refused(sqlite_backend):
    with sqlite_backend.uow() as uow, pytest.raises(ValueError, match="codes.EventAction"):
        kernel.record_event(uow, None, "made_up_action", kernel.SYSTEM)


def test_an_unknown_stored_code_is_shown_as_it_is():
    assert codes.reason_label("retired_reason") == "retired_reason"
    assert codes.action_label(None) == ""
