# The README's two commands: `make demo` (the main job) and `make test` (every test).
# Each installs what it needs: npm packages, and a Python venv for the cross-client decoder checks.

SHELL := /bin/bash
VENV := .venv
PYTHON ?= python3
NPM_STAMP := node_modules/.install-stamp
VENV_STAMP := $(VENV)/.install-stamp
LAB_STAMP := labextension/node_modules/.install-stamp
TSLAB_STAMP := test/tslab/node_modules/.install-stamp
DEMO_PORT ?= 7497

.PHONY: demo test bench sim clean

$(NPM_STAMP): package.json package-lock.json kernel-lib/package.json
	npm ci --no-audit --no-fund
	@touch $@

# The JupyterLab extension is its own npm project: JupyterLab's tree stays out of the library's install.
$(LAB_STAMP): labextension/package.json labextension/package-lock.json
	npm --prefix labextension ci --no-audit --no-fund
	@touch $@

# tslab (the TypeScript kernel) in its own folder: its TypeScript fork must not shadow the workspace's tsc.
$(TSLAB_STAMP): test/tslab/package.json test/tslab/package-lock.json
	npm ci --prefix test/tslab --no-audit --no-fund
	@touch $@

$(VENV_STAMP): test/python/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r test/python/requirements.txt
	@touch $@

## The main job: the simulator serving the demo account (grows into the full JupyterLab demo).
demo: $(NPM_STAMP)
	npm run build
	node kernel-lib/dist/simulator/cli.js --port $(DEMO_PORT) --scenario notebooks/demo-account.json

## Every test: lint and format, types, unit and end-to-end tests, and the Python decoder checks.
test: $(NPM_STAMP) $(LAB_STAMP) $(TSLAB_STAMP) $(VENV_STAMP)
	npm test
	npm --prefix labextension run typecheck
	npm --prefix labextension test
	npm --prefix labextension run build
	$(VENV)/bin/python test/python/check_decoders.py
	$(VENV)/bin/python test/python/check_tslab_kernel.py

## Benchmarks (figures printed, baselines measured in the same run).
bench: $(NPM_STAMP)
	npm run bench

clean:
	rm -rf node_modules kernel-lib/node_modules kernel-lib/dist labextension/node_modules labextension/lib test/tslab/node_modules $(VENV)
