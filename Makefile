# refscore: `make demo` serves a demo campaign, `make test` runs the tests.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
# The CPU build of torch when it lies on this disk; otherwise whatever pip finds.
TORCH_SPEC ?= $(if $(wildcard /opt/wheels/torch-2.13.0*),torch==2.13.0,torch)
PYTEST_ARGS ?=
HOST ?= 127.0.0.1:8000

.PHONY: install demo demo-reset serve test test-postgres lint lint-py lint-js messages messages-check bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install -q "$(TORCH_SPEC)"
	$(PIP) install -q -e '.[dev,judge]'
	touch $(STAMP)

# The interface's compiled translations, built from locale/*.po (gettext's msgfmt).
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po))
%.mo: %.po
	msgfmt --check -o $@ $<

install: $(STAMP) $(MO_FILES)

# A demo made before is kept, with its ratings; `make demo-reset` starts over.
demo: install
	$(PY) manage.py migrate --noinput -v0
	@if $(PY) manage.py demo_data --exists; then \
	  echo "The demo campaign exists, kept with its ratings: 'make demo-reset' starts over."; \
	else \
	  $(PY) manage.py demo_data && $(PY) manage.py judge_run demo --judge baseline --wait; \
	fi
	@$(PY) manage.py demo_data --accounts --url "http://$(HOST)/"
	$(PY) manage.py runserver $(HOST)

demo-reset: install
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py demo_data --delete
	@$(MAKE) --no-print-directory demo

serve: install
	$(PY) manage.py runserver $(HOST)

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: lint-py lint-js

lint-py: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# The browser code (static/): ESLint, then its unit tests on Node's own test runner
# (named files: Node 21 and later no longer search a directory given to --test).
# npm writes node_modules/.package-lock.json on every install: it says when to reinstall.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

lint-js: node_modules/.package-lock.json
	node_modules/.bin/eslint
	node --test tests/js/*.test.js

# The interface's translations (locale/, English and Simplified Chinese). The compiled .mo
# files are build products, made by `make install` (any target that needs the app). After
# changing a string: `make messages` extracts it and compiles; then
# translate what is new in locale/zh_Hans/LC_MESSAGES/*.po and run `make messages` again.
# `make messages-check` (in .ci/run) fails on an entry missing, left over, untranslated,
# or fuzzy. All need gettext's tools (msgfmt, msginit).
messages: install
	$(PY) -m config.catalogues update

messages-check: install
	$(PY) -m config.catalogues check

bench: install
	for script in bench/bench_*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache node_modules
