# Two commands do everything on a fresh machine:
#   make report   set up, then write the default board report for the bundled scenario
#   make test     set up, then run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
OUT    ?= out/default
SCENARIO ?= scenarios/retail_bank.yaml

.PHONY: setup report test test-fast bench lint clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name clientele --display-name "Clientele (venv)" >/dev/null
	touch $(STAMP)

report: setup
	$(BIN)/clientele report $(SCENARIO) --kind board --out $(OUT)

# Two test processes, each taking whole files (a file's shared fixtures are built once): the suite's slow tests
# mostly wait on a notebook kernel or a PDF renderer, so two at a time fit a 2-core machine.
test: setup
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

# The fast tier, for the edit-test loop: the tests not marked slow (no report rendering, no sweeps), about a minute.
test-fast: setup
	$(BIN)/python -m pytest -q -n 2 --dist loadfile -m "not slow"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy simulation reports

bench: setup
	$(BIN)/python benchmarks/engine_throughput.py
	$(BIN)/python benchmarks/report_pipeline.py

clean:
	rm -rf $(VENV) out
