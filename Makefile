# Two commands on a fresh machine (see README):
#   make demo   -- create the environment, generate a demo trial and start the app on it
#   make test   -- create the environment and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_DIR ?= demo

.PHONY: env demo test fuzz crash bench clean

$(VENV)/.installed: pyproject.toml scripts/setup.sh
	bash scripts/setup.sh "$(PYTHON)" "$(VENV)"
	touch $@

env: $(VENV)/.installed

demo: env
	$(VENV)/bin/ioreview demo --dir "$(DEMO_DIR)"

test: env
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

# 10,000 seeded mutations of real DICOM files through import and rendering (tests/test_fuzz.py;
# `make test` runs 1,000); IOREVIEW_FUZZ_SEED picks another seed
fuzz: env
	QT_QPA_PLATFORM=offscreen IOREVIEW_FUZZ_CASES=$${IOREVIEW_FUZZ_CASES:-10000} $(PY) -m pytest -q -p no:cacheprovider tests/test_fuzz.py

# 500 SIGKILLs during import and signing, each followed by the next start's checks
# (tests/test_crash_kill.py; `make test` runs 100)
crash: env
	QT_QPA_PLATFORM=offscreen IOREVIEW_CRASH_KILLS=$${IOREVIEW_CRASH_KILLS:-500} $(PY) -m pytest -q -p no:cacheprovider tests/test_crash_kill.py

bench: env
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
