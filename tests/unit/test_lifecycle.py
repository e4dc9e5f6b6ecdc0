"""The transition table against DESIGN §2, pair by pair."""

from __future__ import annotations

import itertools

import pytest

from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.errors import IllegalTransition

# DESIGN §2, copied by hand: state -> allowed next states.
DESIGN = {
    "declared": {"cgu_accepted", "expired", "cancelled"},
    "cgu_accepted": {"matricule_verified", "locked", "expired", "cancelled"},
    "matricule_verified": {"account_created", "identity_mismatch", "expired", "cancelled"},
    "identity_mismatch": {"pending_review", "matricule_verified", "expired", "cancelled"},
    "pending_review": {"account_created", "rejected"},
    "account_created": set(),
    "rejected": set(),
    "locked": set(),
    "expired": set(),
    "cancelled": set(),
}
LEGAL = [(a, b) for a, nxt in DESIGN.items() for b in sorted(nxt)]
ILLEGAL = [(a, b) for a, b in itertools.product(DESIGN, DESIGN) if b not in DESIGN[a]]


def test_table_has_exactly_the_designed_states():
    assert set(lc.STATES) == set(DESIGN)
    assert set(lc.TRANSITIONS) == set(DESIGN)
    assert {"account_created", "rejected", "locked", "expired", "cancelled"} == lc.TERMINAL


@pytest.mark.parametrize(("source", "target"), LEGAL)
def test_every_legal_transition_is_allowed(source, target):
    assert lc.can_move(source, target)
    lc.check(source, target)


@pytest.mark.parametrize(("source", "target"), ILLEGAL)
def test_every_illegal_transition_is_refused_in_french(source, target):
    assert not lc.can_move(source, target)
    with pytest.raises(IllegalTransition) as err:
        lc.check(source, target)
    assert "étape" in err.value.message
    assert err.value.details == {"source": source, "target": target}


def test_unknown_states_are_refused():
    with pytest.raises(IllegalTransition):
        lc.check("declared", "teleported")
    with pytest.raises(IllegalTransition):
        lc.check("nowhere", "declared")


def test_every_state_has_a_french_label():
    labels = {lc.state_label(s) for s in lc.STATES}
    assert len(labels) == len(lc.STATES)
    assert lc.state_label("pending_review") == "Vérification manuelle en cours"
