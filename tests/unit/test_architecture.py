"""The service layer's shape holds by construction: import contracts, the one state move,
and the one table of who is told what."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.enrolment import codes, mail, notifications
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.model import Enrolment

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own tool, fixed arguments
        [str(LINT_IMPORTS), "--no-cache", "--config", str(cwd / ".importlinter")],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
    )


def test_the_import_contracts_hold():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("dashboard/enrolment/kernel.py", "import flask", "knows nothing of the web"),
        ("dashboard/enrolment/secretary.py", "import dashboard.pages", "knows nothing of the web"),
        ("dashboard/callbacks/review.py", "import dashboard.enrolment.model", "no ORM model"),
        ("dashboard/pages/home.py", "import sqlalchemy", "no ORM model, no database"),
        ("dashboard/enrolment/decisions.py", "import dashboard.enrolment.secretary", "actor"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(tmp_path, module, line, contract):
    """The contracts are not decoration: one forbidden import makes `make lint` fail."""
    shutil.copytree(
        ROOT / "dashboard", tmp_path / "dashboard", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    result = _lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout
    assert "BROKEN" in result.stdout and contract in result.stdout


# --- the one state move -------------------------------------------------------------------


def test_the_state_changes_only_through_the_kernel(sqlite_backend):
    backend = sqlite_backend
    from tests import factories as f

    prof = f.professional(backend)
    declared = f.declare(backend, prof)
    with backend.uow() as uow:
        enrolment = uow.session.get(Enrolment, declared.enrolment_id)
        with pytest.raises(PermissionError, match="kernel.move"):
            enrolment.state = lc.CANCELLED
        assert enrolment.state == lc.DECLARED


def test_a_new_enrolment_gets_its_first_state():
    assert Enrolment(state=lc.DECLARED).state == lc.DECLARED


# --- who is told what ---------------------------------------------------------------------


def test_every_notification_names_a_real_event_and_template():
    assert set(notifications.TABLE) <= codes.EVENT_ACTIONS
    for action, notices in notifications.TABLE.items():
        assert notices, action
        for notice in notices:
            assert notice.template in mail.TEMPLATES, (action, notice.template)
            assert notice.to in (notifications.SECRETARY, notifications.PROFESSIONAL)


def test_every_template_is_sent_by_some_event():
    sent = {n.template for notices in notifications.TABLE.values() for n in notices}
    assert sent == set(mail.TEMPLATES)
