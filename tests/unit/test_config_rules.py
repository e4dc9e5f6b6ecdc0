"""FOUR_EYES and IDENTITY_BLOCKING_KINDS are parsed once, at start-up, into typed rules: a
typo refuses to start, naming the variable and the bad item, instead of silently turning a
second reviewer or a blocking kind off."""

from __future__ import annotations

import io
from contextlib import redirect_stderr

import pytest

from dashboard.__main__ import main as cli_main
from dashboard.config import ConfigurationError, Settings, parse_four_eyes

BAD_FOUR_EYES = [
    ("aprove:birth_date=different", "doit commencer par approve: ou reject:"),
    ("approve birth_date=different", "doit commencer par approve: ou reject:"),
    ("reject:suspected-fraud", "le motif de refus doit être"),
    ("reject:", "le motif de refus doit être"),
    ("approve:birthdate=different", "approve:<champ>=<type>, avec un champ parmi"),
    ("approve:birth_date", "approve:<champ>=<type>, avec un champ parmi"),
    ("approve:birth_date=diferent", "le type de différence doit être"),
    (
        "approve:matricule=different,reject:suspected_fraud,junk",
        "doit commencer par approve: ou reject:",
    ),
]


@pytest.mark.parametrize(("value", "why"), BAD_FOUR_EYES)
def test_a_bad_four_eyes_rule_refuses_to_start(value, why):
    settings = Settings.from_env({"FOUR_EYES": value})
    with pytest.raises(ConfigurationError) as refused:
        settings.check()
    message = str(refused.value)
    assert message.startswith("FOUR_EYES")
    assert why in message
    bad_item = value.split(",")[-1].strip()  # the bad one is last in each case above
    assert f"« {bad_item} »" in message


def test_the_four_eyes_rules_are_typed():
    rules = Settings().check().four_eyes_rules
    assert rules.approve == {("birth_date", "different"), ("matricule", "different")}
    assert rules.reject == {"suspected_fraud"}
    spaced = parse_four_eyes(" approve : last_name = typo ,, reject : declaration_error ")
    assert spaced == ({("last_name", "typo")}, {"declaration_error"})


def test_an_empty_four_eyes_means_no_second_reviewer_on_purpose():
    assert Settings.from_env({"FOUR_EYES": ""}).check().four_eyes_rules == (set(), set())


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("typo,diferent", "« diferent »"),
        ("swapped, Typo", "« Typo »"),
        (" , ", "ne doit pas être vide"),
    ],
)
def test_a_bad_blocking_kind_refuses_to_start(value, shown):
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env({"IDENTITY_BLOCKING_KINDS": value}).check()
    assert str(refused.value).startswith("IDENTITY_BLOCKING_KINDS")
    assert shown in str(refused.value)


def test_the_blocking_kinds_become_the_identity_policy():
    policy = Settings.from_env({"IDENTITY_BLOCKING_KINDS": "typo, different"}).identity_policy
    assert policy.blocking_kinds == {"typo", "different"}


def test_the_command_line_refuses_to_start_with_a_bad_rule(tmp_path):
    err = io.StringIO()
    settings = Settings.from_env(
        {"FOUR_EYES": "reject:suspected-fraud", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    )
    with redirect_stderr(err):
        assert cli_main(["expire"], settings=settings) == 1
    assert "FOUR_EYES" in err.getvalue() and "suspected-fraud" in err.getvalue()
    assert not (tmp_path / "x.db").exists()  # nothing written
