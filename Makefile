# refscore: `make demo` serves a demo campaign, `make test` runs the tests.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
# The CPU build of torch when it lies on this disk; otherwise whatever pip finds.
TORCH_SPEC ?= $(if $(wildcard /opt/wheels/torch-2.13.0*),torch==2.13.0,torch)
PYTEST_ARGS ?=
HOST ?= 127.0.0.1:8000

.PHONY: install demo demo-reset serve test test-postgres lint bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install -q "$(TORCH_SPEC)"
	$(PIP) install -q -e '.[dev,judge]'
	touch $(STAMP)

install: $(STAMP)

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

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

bench: install
	for script in bench/bench_*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
