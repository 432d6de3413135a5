# The README's commands. Each one sets up what it needs on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test bench lab system-deps clean

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

test: system-deps $(BIN)/.installed
	$(BIN)/python -m pytest

bench: system-deps $(BIN)/.installed
	$(BIN)/python benchmarks/run_all.py

# JupyterLab refuses to start as root unless told; on a root shell (a container, CI) say so.
lab: $(BIN)/.installed
	$(BIN)/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root) notebooks/

clean:
	rm -rf $(VENV) artifacts
