# Two commands for a fresh clone: `make run` (the app on its embedded defaults) and
# `make test` (the whole suite). Both create the virtual environment in .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8050

.PHONY: install run test lint format clean messages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m dashboard run --host $(HOST) --port $(PORT)

# axe-core (npm), injected into headless Chromium by the accessibility tests.
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(AXE)

test: $(STAMP) $(AXE)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -q -r dashboard
	$(BIN)/lint-imports --no-cache

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules .pytest_cache .hypothesis .ruff_cache *.egg-info

# Translations (French source strings; German and English catalogues, read as .po at run
# time). Extracts every _(), gettext() and N_() string of dashboard/ into the template,
# merges it into each catalogue (existing translations are kept; a changed string comes back
# fuzzy, with its previous msgid).
# Translate whatever is still empty or fuzzy; tests/unit/test_catalogues.py checks it all.
LOCALES := de en
POT := dashboard/locale/messages.pot

messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-default-keywords -k _ -k gettext -k N_ \
		--add-comments=TRANSLATORS: --project=esante-enrolment \
		--copyright-holder="Agence eSanté" --add-location=file --sort-output \
		-o $(POT) dashboard
	for lang in $(LOCALES); do \
		$(BIN)/pybabel update -i $(POT) -d dashboard/locale -l $$lang \
			--init-missing --previous --ignore-obsolete || exit 1; \
	done
