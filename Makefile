# The two commands of the README: `make demo` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
SC := $(VENV)/bin/servicecircle
DEB_PACKAGES := postgresql postgresql-postgis gdal-bin chromium osmium-tool fonts-noto-cjk poppler-utils \
	qgis python3-qgis

.PHONY: demo test setup system venv db load analyze serve notebooks bench lint clean

demo: setup db load analyze serve  ## set up, load both demo cities, analyse, serve on :8000

test: setup  ## set up and run the whole test suite
	$(PY) -m pytest

setup: system venv

system:  ## Debian packages (PostgreSQL + PostGIS, GDAL, Chromium, fonts)
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "missing Debian packages: $$missing"; \
	    echo "run: sudo apt-get update && sudo apt-get install -y $$missing"; exit 1; \
	  fi; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	touch $@

db: venv
	$(SC) db up

load: db
	$(SC) load demo

analyze: load
	$(SC) analyze coverage --city all
	$(SC) analyze coverage --city all --at "Mo 22:00"
	$(SC) analyze cases --city all
	$(SC) analyze courier --city all

serve:
	$(SC) serve

notebooks: venv  ## JupyterLab (the `notebooks` extra) on notebooks/, against the demo database
	$(PY) -m pip install -q -e '.[notebooks]'
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

bench: setup  ## every benchmark, full size; figures to benchmarks/results/
	for b in coverage courier cases siting tiles load finder; do $(SC) bench $$b || exit 1; done

lint: venv  ## style and the import contracts of pyproject.toml
	$(VENV)/bin/ruff check geo api layers tests benchmarks
	$(VENV)/bin/lint-imports --no-cache

clean:
	-$(SC) db down
	rm -rf $(VENV) .servicecircle
