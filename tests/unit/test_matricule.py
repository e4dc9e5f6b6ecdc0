"""Tests for dashboard.enrolment.matricule (Luxembourg 13-digit national matricule)."""

from __future__ import annotations

import ast
import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from stdnum import luhn, verhoeff

from dashboard.enrolment import matricule
from dashboard.enrolment.matricule import (
    InvalidMatricule,
    birth_date,
    birth_parts,
    calc_check_digits,
    format_display,
    make,
    mask,
    validate,
)

TODAY = datetime.date(2025, 6, 15)
CHECKSUM_MESSAGE = (
    "Le matricule saisi n'est pas valide\u00a0: vérifiez les chiffres "
    "(chiffre de contrôle incorrect)."
)


def build(first11: str) -> str:
    """Valid matricule built straight from stdnum, independently of the module under test."""
    return first11 + luhn.calc_check_digit(first11) + verhoeff.calc_check_digit(first11)


# Worked by hand for first11 = 1985 0412 123 (born 12 April 1985, serial 123):
#   Luhn: from the right, double every other digit starting with the last payload digit:
#     3→6, 2, 1→2, 2, 1→2, 4, 0→0, 5, 8→16→7, 9, 1→2; sum 41; check (10 − 1) % 10 = 9.
#   Verhoeff over the same 11 digits (not 12): with an appended 0, c = d(c, p(i, digit)) runs
#     0→0→6→6→2→7→5→2→9→4→8→6→2; inv(2) = 3.
#   Matricule: 1985 0412 123 93. (Verhoeff over the 12 digits 198504121239 would be 6.)
HAND = "1985041212393"


def reason_of(text: str, **kwargs) -> str:
    with pytest.raises(InvalidMatricule) as info:
        validate(text, **kwargs)
    return info.value.reason


# --- valid examples -------------------------------------------------------------------


def test_hand_worked_example() -> None:
    assert build("19850412123") == HAND
    assert validate(HAND, today=TODAY) == HAND


@pytest.mark.parametrize(
    "first11",
    ["19850412123", "19000101000", "20000229999", "19721231456", "19640700001", "19550000321"],
)
def test_valid_built_with_stdnum(first11: str) -> None:
    number = build(first11)
    assert validate(number, today=TODAY) == number
    assert calc_check_digits(first11) == number[11:]
    assert make(first11[:8], first11[8:]) == number


@pytest.mark.parametrize(
    "text",
    [
        "1985 0412 123 93",
        "1985.0412.123-93",
        "1985-04-12-123-93",
        "  1985041212393\n",
        "\t1985 0412 123 93 ",
        "1985 - 0412 - 123 - 93",
        "1985\u00a00412\u00a0123\u00a093",  # pasted from a French-typeset document
        "1985\u202f0412\u202f123\u202f93",
    ],
)
def test_separators_and_outer_whitespace_are_removed(text: str) -> None:
    assert validate(text, today=TODAY) == HAND


def test_unknown_month_and_day_accepted() -> None:
    assert validate(build("19640700001"), today=TODAY)  # day unknown
    assert validate(build("19550000321"), today=TODAY)  # month and day unknown


def test_leap_day() -> None:
    assert validate(build("20000229999"), today=TODAY)
    assert reason_of(build("19000229999"), today=TODAY) == "date"  # 1900 is not a leap year
    assert reason_of(build("20230229999"), today=TODAY) == "date"


def test_today_is_not_future() -> None:
    assert validate(build("20250615001"), today=TODAY)
    assert validate(build("20250600001"), today=TODAY)
    assert validate(build("20250000001"), today=TODAY)


def test_today_defaults_to_current_date() -> None:
    today = datetime.date.today()
    assert validate(build(today.strftime("%Y%m%d") + "001"))
    tomorrow = today + datetime.timedelta(days=1)
    assert reason_of(build(tomorrow.strftime("%Y%m%d") + "001")) == "date"


# --- each reason ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "1985O412123 93",  # letter O
        "198504121239a",
        "1985/0412/123/93",
        "1985_0412_123_93",
        "1985,0412,123,93",
        "1985\t0412 123 93",  # tab inside
        "１９８５０４１２１２３９３",  # fullwidth digits
        "١٩٨٥٠٤١٢١٢٣٩٣",  # Arabic-Indic digits
        "1985041212３93",  # one fullwidth digit among ASCII ones
        "-1985041212393",  # separator not between digits
        "1985041212393.",
        "...",
        "+352 1985041212393",
    ],
)
def test_reason_digits(text: str) -> None:
    assert reason_of(text, today=TODAY) == "digits"


@pytest.mark.parametrize(
    ("text", "count"),
    [("198504121239", 12), ("19850412123930", 14), ("1", 1), ("1985 0412", 8)],
)
def test_reason_length_says_how_many(text: str, count: int) -> None:
    with pytest.raises(InvalidMatricule) as info:
        validate(text, today=TODAY)
    assert info.value.reason == "length"
    assert str(info.value) == (
        f"Le matricule doit comporter 13 chiffres\u00a0; vous en avez saisi {count}."
    )


@pytest.mark.parametrize("text", ["", "   ", "\n\t", None])
def test_empty_input_is_length_asking_for_13_digits(text) -> None:
    with pytest.raises(InvalidMatricule) as info:
        validate(text, today=TODAY)
    assert info.value.reason == "length"
    assert "13 chiffres" in info.value.message
    assert "saisir" in info.value.message


@pytest.mark.parametrize("text", ["19850412123", "1985 0412 12 3", "19550000017"])
def test_reason_legacy_eleven_digits(text: str) -> None:
    with pytest.raises(InvalidMatricule) as info:
        validate(text, today=TODAY)
    assert info.value.reason == "legacy"
    assert "ancien format" in info.value.message
    assert "13 chiffres" in info.value.message
    assert "carte CNS" in info.value.message


@pytest.mark.parametrize(
    "first11",
    [
        "19850230123",  # 30 February
        "19850431123",  # 31 April
        "19851301123",  # month 13
        "19850032123",  # day 32
        "19850012123",  # unknown month with a known day
        "00000000123",  # year 0000 does not exist
        "00001231123",
        "20250616001",  # tomorrow (TODAY = 2025-06-15)
        "20250700001",  # next month, day unknown
        "20260000001",  # next year, month and day unknown
        "29991231123",
    ],
)
def test_reason_date(first11: str) -> None:
    # Check digits are right, so only the date can be at fault.
    assert reason_of(build(first11), today=TODAY) == "date"


@pytest.mark.parametrize(
    "first11", ["18991231123", "18500101001", "17890714001", "18960229001", "00010101001"]
)
def test_a_date_before_1900_is_a_valid_date(first11: str) -> None:
    """The validator checks the format, not plausibility: a date that exists and is not in
    the future is valid, however long ago (the declaration form judges the age)."""
    number = build(first11)
    assert validate(number, today=TODAY) == number


def test_future_date_message_is_specific() -> None:
    with pytest.raises(InvalidMatricule) as info:
        validate(build("20250616001"), today=TODAY)
    assert "postérieure à la date du jour" in info.value.message


@pytest.mark.parametrize("text", ["1985041212383", "1985041212303", "1955000032101"])
def test_reason_luhn(text: str) -> None:
    assert text[11] != luhn.calc_check_digit(text[:11])
    assert reason_of(text, today=TODAY) == "luhn"


@pytest.mark.parametrize("text", ["1985041212390", "1985041212399", "1955000032130"])
def test_reason_verhoeff(text: str) -> None:
    assert text[11] == luhn.calc_check_digit(text[:11])
    assert reason_of(text, today=TODAY) == "verhoeff"


def test_verhoeff_over_twelve_digits_is_rejected() -> None:
    first12 = "19850412123" + luhn.calc_check_digit("19850412123")
    wrong = first12 + verhoeff.calc_check_digit(first12)  # the common mistake
    assert wrong != HAND  # this example does not coincide (6 vs 3)
    assert reason_of(wrong, today=TODAY) == "verhoeff"


def test_luhn_blind_spot_caught_by_verhoeff() -> None:
    # Luhn cannot see 09 ↔ 90; the Verhoeff digit over the same 11 digits does.
    number = build("19850412109")
    swapped = number[:9] + "90" + number[11:]
    assert luhn.is_valid(swapped[:12])
    assert reason_of(swapped, today=TODAY) == "verhoeff"


def test_check_order() -> None:
    # Bad characters win over length, length over date, date over checksums.
    assert reason_of("12a", today=TODAY) == "digits"
    assert reason_of("1985023012300", today=TODAY) == "date"  # 30 Feb, wrong check digits
    assert reason_of("1985041212300", today=TODAY) == "luhn"  # both check digits wrong


# --- messages and exception -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("198504121239a", "digits"),
        ("", "length"),
        ("198504121239", "length"),
        ("19850412123", "legacy"),
        (build("19850230123"), "date"),
        ("1985041212383", "luhn"),
        ("1985041212390", "verhoeff"),
    ],
)
def test_messages_are_french_and_do_not_echo_input(text: str, reason: str) -> None:
    with pytest.raises(InvalidMatricule) as info:
        validate(text, today=TODAY)
    exc = info.value
    assert exc.reason == reason
    assert exc.reason in matricule.REASONS
    assert str(exc) == exc.message
    assert exc.message.strip()
    assert "matricule" in exc.message.lower() or "chiffres" in exc.message
    assert " ;" not in exc.message and " :" not in exc.message  # no-break spaces instead
    if len(text) > 3:
        assert text not in exc.message


def test_example_messages() -> None:
    with pytest.raises(InvalidMatricule, match="ne doit contenir que des chiffres"):
        validate("1985O412123 93")
    with pytest.raises(InvalidMatricule) as info:
        validate(build("19850230123"))
    assert info.value.message == (
        "La date de naissance contenue dans le matricule (8 premiers chiffres, AAAAMMJJ) "
        "n'est pas valide."
    )
    for text in ("1985041212383", "1985041212390"):
        with pytest.raises(InvalidMatricule) as info:
            validate(text, today=TODAY)
        assert info.value.message == CHECKSUM_MESSAGE


def test_invalid_matricule_is_value_error() -> None:
    assert issubclass(InvalidMatricule, ValueError)
    with pytest.raises(ValueError):
        validate("nope")


def test_module_does_not_import_dash() -> None:
    tree = ast.parse(Path(matricule.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    assert not any(name == "dash" or name.startswith("dash.") for name in imported)
    assert not any(name.startswith("dash_") for name in imported)


# --- helpers --------------------------------------------------------------------------


def test_calc_check_digits_rejects_bad_input() -> None:
    for bad in ("1985041212", "198504121234", "1985041212a", "１９８５０４１２１２３"):
        with pytest.raises(ValueError):
            calc_check_digits(bad)


def test_make_rejects_bad_input() -> None:
    for birth, serial in [("1985041", "123"), ("19850412", "12"), ("1985041a", "123")]:
        with pytest.raises(ValueError):
            make(birth, serial)
    with pytest.raises(InvalidMatricule) as info:
        make("19850230", "123")
    assert info.value.reason == "date"


def test_birth_date_and_parts() -> None:
    assert birth_date(HAND) == datetime.date(1985, 4, 12)
    assert birth_parts(HAND) == (1985, 4, 12)
    assert birth_date("1985 0412 123 93") == datetime.date(1985, 4, 12)
    day_unknown = build("19640700001")
    assert birth_date(day_unknown) is None
    assert birth_parts(day_unknown) == (1964, 7, None)
    both_unknown = build("19550000321")
    assert birth_date(both_unknown) is None
    assert birth_parts(both_unknown) == (1955, None, None)
    with pytest.raises(InvalidMatricule):
        birth_date("1985041212383")
    with pytest.raises(InvalidMatricule):
        birth_parts("19850412123")


def test_format_display() -> None:
    assert format_display(HAND) == "1985 0412 123 93"
    assert format_display("1985.0412.123-93") == "1985 0412 123 93"
    assert format_display("1985041212345") == "1985 0412 123 45"  # shape only
    with pytest.raises(InvalidMatricule):
        format_display("198504121239")


def test_mask() -> None:
    assert mask(HAND) == "1985 •••• ••• •3"
    assert mask("1985 0412 123 45") == "1985 •••• ••• •5"
    masked = mask(HAND)
    assert "0412" not in masked and "123" not in masked
    with pytest.raises(InvalidMatricule):
        mask("19850412123")


# --- properties -----------------------------------------------------------------------

REAL_TODAY = datetime.date.today()
SEPARATOR_RUNS = st.sampled_from(["", "", "", " ", ".", "-", " - ", "  ", "\u00a0", ". "])
POSITIVE = dict(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)


@st.composite
def births(draw) -> str:
    """``AAAAMMJJ`` for any date up to today, sometimes with unknown day or month+day."""
    day = draw(st.dates(min_value=datetime.date(1, 1, 1), max_value=REAL_TODAY))
    unknown = draw(st.sampled_from(["none", "day", "month_and_day"]))
    year, month = f"{day.year:04d}", f"{day.month:02d}"  # strftime does not pad year 1
    if unknown == "day":
        return f"{year}{month}00"
    if unknown == "month_and_day":
        return f"{year}0000"
    return f"{year}{month}{day.day:02d}"


serials = st.integers(min_value=0, max_value=999).map(lambda n: f"{n:03d}")
valid_matricules = st.builds(make, births(), serials)


@settings(**POSITIVE)
@given(birth=births(), serial=serials)
def test_make_round_trips(birth: str, serial: str) -> None:
    number = make(birth, serial)
    assert len(number) == 13 and number.isascii() and number.isdigit()
    assert number[:11] == birth + serial
    assert number == build(birth + serial)
    assert validate(number) == number


@settings(**POSITIVE)
@given(number=valid_matricules, data=st.data())
def test_separators_between_digits_round_trip(number: str, data) -> None:
    runs = data.draw(st.lists(SEPARATOR_RUNS, min_size=12, max_size=12))
    text = number[0] + "".join(run + digit for run, digit in zip(runs, number[1:], strict=True))
    text = (
        data.draw(st.sampled_from(["", " ", "\t"])) + text + data.draw(st.sampled_from(["", " \n"]))
    )
    assert validate(text) == number


@settings(**POSITIVE)
@given(
    number=valid_matricules,
    position=st.integers(min_value=0, max_value=12),
    shift=st.integers(min_value=1, max_value=9),
)
def test_any_single_digit_change_is_rejected(number: str, position: int, shift: int) -> None:
    new_digit = str((int(number[position]) + shift) % 10)
    changed = number[:position] + new_digit + number[position + 1 :]
    assert changed != number
    assert reason_of(changed) in {"date", "luhn", "verhoeff"}


def test_every_single_digit_change_of_one_matricule_is_rejected() -> None:
    # Exhaustive companion to the property above: 13 positions × 9 other digits.
    for position in range(13):
        for digit in "0123456789":
            if digit == HAND[position]:
                continue
            changed = HAND[:position] + digit + HAND[position + 1 :]
            assert reason_of(changed, today=TODAY) in {"date", "luhn", "verhoeff"}


@settings(**POSITIVE)
@given(number=valid_matricules, position=st.integers(min_value=8, max_value=11))
def test_adjacent_swap_in_last_five_digits_is_rejected(number: str, position: int) -> None:
    a, b = number[position], number[position + 1]
    assume(a != b)
    swapped = number[:position] + b + a + number[position + 2 :]
    # The birth date is untouched, so only a check digit can object.
    assert reason_of(swapped) in {"luhn", "verhoeff"}


def test_every_adjacent_swap_in_last_five_digits_exhaustive() -> None:
    # All serials of one birth date, all four adjacent pairs among the last five digits.
    for serial in range(1000):
        number = build(f"19850412{serial:03d}")
        for position in range(8, 12):
            a, b = number[position], number[position + 1]
            if a == b:
                continue
            swapped = number[:position] + b + a + number[position + 2 :]
            assert reason_of(swapped, today=TODAY) in {"luhn", "verhoeff"}


ODD_CHARACTERS = st.sampled_from(list("0123456789 .-\t\n/+_,Oo") + ["١", "３", "\u00a0", "\u202f"])


@settings(max_examples=500, deadline=None)
@given(text=st.one_of(st.text(), st.text(ODD_CHARACTERS), st.text("0123456789 .-")))
def test_random_text_only_ever_raises_invalid_matricule(text: str) -> None:
    try:
        result = validate(text)
    except InvalidMatricule as exc:
        assert exc.reason in matricule.REASONS
        assert exc.message
    else:
        assert len(result) == 13 and all(c in "0123456789" for c in result)


# --- plausibility belongs to the declaration, not to the format ------------------------------


@pytest.mark.parametrize(
    ("birth", "problem"),
    [
        ("20120603", None),  # 14 today (TODAY = 2026-06-03 below)
        ("20120604", "moins de 14 ans"),  # 14 tomorrow
        ("20120000", None),  # sometime in 2012: may be 14 already
        ("20130000", "moins de 14 ans"),
        ("19260603", None),  # 100 today
        ("19260602", "plus de 100 ans"),
        ("19250000", "plus de 100 ans"),
        ("19260000", None),  # may have been born on 31 December 1926
        ("18500101", "plus de 100 ans"),
    ],
)
def test_the_declaration_judges_the_age(birth, problem):
    from dashboard.enrolment.declarations import age_problem

    found = age_problem(make(birth, "123"), datetime.date(2026, 6, 3))
    if problem is None:
        assert found is None
    else:
        assert problem in found
        assert birth not in found  # never echoes the number


def test_an_implausible_age_is_a_declaration_error_on_the_matricule_field():
    from dashboard.enrolment.declarations import validate_declaration
    from dashboard.enrolment.errors import ValidationFailed

    number = make("18991231", "123")
    assert validate(number) == number  # a valid matricule...
    with pytest.raises(ValidationFailed) as refused:  # ...but not a plausible secretary
        validate_declaration("Schmit", "Marie", number, "marie@example.lu")
    assert list(refused.value.errors) == ["matricule"]
    assert "plus de 100 ans" in refused.value.errors["matricule"]
