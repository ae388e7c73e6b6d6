# Two commands on a fresh machine (see README):
#   make demo   -- create the environment, generate a demo trial and start the app on it
#   make test   -- create the environment and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_DIR ?= demo

.PHONY: env demo test bench clean

$(VENV)/.installed: pyproject.toml scripts/setup.sh
	bash scripts/setup.sh "$(PYTHON)" "$(VENV)"
	touch $@

env: $(VENV)/.installed

demo: env
	$(VENV)/bin/ioreview demo --dir "$(DEMO_DIR)"

test: env
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

bench: env
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
