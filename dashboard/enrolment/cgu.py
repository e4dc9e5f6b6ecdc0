"""The Terms of Use (CGU): versioned text files under data/cgu/."""

from __future__ import annotations

from functools import cache

from dashboard.config import DATA_DIR

CGU_DIR = DATA_DIR / "cgu"


@cache
def text(version: str, language: str = "fr") -> str:
    """The CGU text of `version`; French when the language has no translation."""
    for lang in (language, "fr"):
        path = CGU_DIR / f"{version}.{lang}.md"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise FileNotFoundError(f"no CGU text for version {version!r} in {CGU_DIR}")
