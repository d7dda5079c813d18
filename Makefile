# Thin aliases for the README's commands. Everything runs in .venv, made on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# kubectl and jupyter from the virtualenv come first.
export PATH := $(CURDIR)/$(BIN):$(PATH)
# JupyterLab refuses to run as root unless told to.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
PROVIDER ?= auto
PYTEST_ARGS ?=

.PHONY: start test venv cluster cluster-down cluster-status lab clean

start: cluster lab  ## install, bring the cluster up, open the course in JupyterLab

test: cluster  ## install, bring the cluster up, run the whole test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

venv: $(INSTALLED)

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

cluster: venv  ## bring the course cluster up (idempotent) and make it kubectl's context
	$(BIN)/python cluster/cluster.py up --provider $(PROVIDER)

cluster-down:
	$(BIN)/python cluster/cluster.py down --provider $(PROVIDER)

cluster-status:
	$(BIN)/python cluster/cluster.py status

lab: venv
	$(BIN)/jupyter lab --no-browser --ip=127.0.0.1 $(ALLOW_ROOT) \
	    --ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/course

clean:
	rm -rf $(VENV)
