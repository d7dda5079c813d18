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
SIM_PYTEST_ARGS ?= -p no:cacheprovider
# make test SIM_TESTS=no: without the simulated cluster's run; KIND_TESTS=no: without the kind leg
SIM_TESTS ?= yes
KIND_TESTS ?= yes
KIND_PYTEST_ARGS ?= -p no:cacheprovider
# Extra options for JupyterLab, e.g. make lab LAB_ARGS="--port=8890"
LAB_ARGS ?=
# The browser test drives Debian's chromium.
CHROMIUM := /usr/bin/chromium

.PHONY: start test test-sim test-kind venv cluster cluster-down cluster-status lab instructor chromium clean

start: cluster lab  ## install, bring the cluster up, open the course in JupyterLab

# On the real node, `make test` runs the simulated cluster's own tests beside the node's, then the
# kind leg (tests/suite.py says which, and why); SIM_TESTS=no and KIND_TESTS=no leave them out.
SUITE := $(BIN)/python tests/suite.py --node-args "$(PYTEST_ARGS)" --sim-args "$(SIM_PYTEST_ARGS)" \
	--kind-args "$(KIND_PYTEST_ARGS)"
test: cluster chromium  ## install, bring the cluster up, run the whole test suite
	$(SUITE) $(if $(filter no,$(SIM_TESTS)),--no-sim) $(if $(filter no,$(KIND_TESTS)),--no-kind)

# The simulator's tests, the API-fault tests, the catalog's, the lab verdicts and the exercises on
# the simulated cluster, with a kubeconfig of their own: the current context does not change.
test-sim: venv  ## the simulated cluster's own tests (brought up beside the current cluster)
	$(SUITE) --sim-only

# kind's leg alone: its cluster up (a private Docker engine where none runs), its tests, down.
test-kind: venv  ## the kind leg's tests, on a kind cluster brought up and deleted for them
	$(SUITE) --kind-only

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

# The learner's JupyterLab: jupyter/ (first on JUPYTER_CONFIG_PATH) opens lesson 00, names the
# page, and leaves out nbgrader's instructor tools and the Jupyter news pop-up.
lab: venv  ## the course in JupyterLab (the cluster must be up: make start does both)
	JUPYTER_CONFIG_PATH=$(CURDIR)/jupyter$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH} \
	    $(BIN)/jupyter lab --no-browser --ip=127.0.0.1 $(ALLOW_ROOT) \
	    --ServerApp.root_dir=$(CURDIR) $(LAB_ARGS)

# The instructor's JupyterLab: nbgrader's tools (formgrader, Create Assignment, ...) in an nbgrader
# course directory, written from the labs when it has none (make instructor NBGRADER_COURSE=DIR).
# It runs there: formgrader reads nbgrader_config.py from the working directory.
NBGRADER_COURSE ?= $(HOME)/k8s-course
instructor: venv  ## JupyterLab with nbgrader's instructor tools, in an nbgrader course directory
	@test -f $(NBGRADER_COURSE)/nbgrader_config.py || $(BIN)/grade nbgrader-course $(NBGRADER_COURSE)
	cd $(NBGRADER_COURSE) && $(CURDIR)/$(BIN)/jupyter lab --no-browser --ip=127.0.0.1 $(ALLOW_ROOT) \
	    --ServerApp.root_dir=. $(LAB_ARGS)

chromium:  ## Debian's chromium for the browser test (installed with apt-get when run as root)
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing chromium (for the browser test) ..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "$(CHROMIUM) is missing: the browser test will fail. Install it: sudo apt-get install chromium" >&2; \
	  fi; \
	fi

clean:
	rm -rf $(VENV)
