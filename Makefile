# The README's commands. Each one sets up what it needs on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint typecheck docs wheel-check bench lab system-deps clean

# The virtualenv with the project and every extra the tests need; redone when pyproject.toml changes.
$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

system-deps:
	sh tools/install-system-deps.sh

demo: $(BIN)/.installed
	$(BIN)/audiolab demo

# The linter, the type checker, the API reference and the installed wheel first (about two minutes together),
# then the test suite, whose summary stays the last line.
test: system-deps $(BIN)/.installed lint typecheck docs wheel-check
	$(BIN)/python -m pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .

# mypy --strict over audiolab/ ([tool.mypy] in pyproject.toml).
typecheck: $(BIN)/.installed
	$(BIN)/mypy

# The API reference from the docstrings, into artifacts/site; any warning fails it (mkdocs.yml: strict).
docs: $(BIN)/.installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --quiet

# The built wheel and sdist, installed into fresh venvs (no extras, [pulse], [widgets]): tools/check_wheel.py.
wheel-check: $(BIN)/.installed
	$(BIN)/python tools/check_wheel.py

bench: system-deps $(BIN)/.installed
	$(BIN)/python benchmarks/run_all.py

# JupyterLab refuses to start as root unless told; on a root shell (a container, CI) say so.
lab: $(BIN)/.installed
	$(BIN)/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root) notebooks/

clean:
	rm -rf $(VENV) artifacts
