"""Progress bars on long command-line work (issue 21): on a terminal only.

Captured output (a pipe, a log file, cron) gets no bar at all; a real pseudo-terminal as
stderr gets one, and the command's result lines on stdout stay as they were."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

from dashboard.__main__ import main
from dashboard.enrolment import matricule
from tests import factories as f

ROWS = [
    ("Weber", "Anne", matricule.make("19900203", "456"), "anne.weber@example.lu"),
    ("Muller", "Léa", matricule.make("19920304", "789"), "lea.muller@example.lu"),
]


def _csv(path) -> str:
    lines = ["last_name,first_names,matricule,email"] + [",".join(r) for r in ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _bar_in(text: str) -> bool:
    return "\r" in text or "it/s" in text or "%|" in text or "ligne/s" in text


def test_no_bar_when_the_output_is_captured(sqlite_backend, tmp_path, capsys):
    prof = f.professional(sqlite_backend)
    settings = sqlite_backend.settings
    assert (
        main(
            ["declare", "--professional", str(prof), "--csv", _csv(tmp_path / "s.csv")],
            settings=settings,
        )
        == 0
    )
    assert main(["purge", "--older-than-days", "0"], settings=settings) == 0
    out, err = capsys.readouterr()
    assert "Déclaration 1 enregistrée" in out
    assert not _bar_in(out) and not _bar_in(err)
    assert err == ""


def test_a_bar_on_a_terminal(sqlite_backend, tmp_path):
    prof = f.professional(sqlite_backend)
    primary, replica = pty.openpty()
    # A new pseudo-terminal is 0 columns wide: tqdm would draw an empty bar.
    fcntl.ioctl(replica, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    env = {
        **os.environ,
        "DATABASE_URL": sqlite_backend.settings.database_url,
    }
    env.pop("LOG_FORMAT", None)
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "dashboard",
            "declare",
            "--professional",
            str(prof),
            "--csv",
            _csv(tmp_path / "s.csv"),
        ],
        stdout=subprocess.PIPE,
        stderr=replica,
        env=env,
        cwd=os.getcwd(),
    )
    os.close(replica)
    seen = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the replica closed: the command ended
            break
        if not chunk:
            break
        seen += chunk
    out = process.stdout.read().decode()
    assert process.wait(60) == 0
    os.close(primary)
    terminal = seen.decode(errors="replace")
    assert "Déclarations" in terminal or "Vérification" in terminal
    assert "\r" in terminal
    assert "Déclaration 1 enregistrée" in out and not _bar_in(out)
