# The README's two commands: `make demo` (the main job) and `make test` (every test).
# Each installs what it needs: npm packages, the notebooks' packages, the extension's build, and one
# Python venv (.venv) with the test clients and the demo's JupyterLab.

SHELL := /bin/bash
VENV := .venv
PYTHON ?= python3
NPM_STAMP := node_modules/.install-stamp
VENV_STAMP := $(VENV)/.install-stamp
DEMO_STAMP := $(VENV)/.demo-stamp
LAB_STAMP := labextension/node_modules/.install-stamp
NOTEBOOKS_STAMP := notebooks/node_modules/.install-stamp
UI_STAMP := ui-tests/node_modules/.install-stamp
LAB_SOURCES := $(shell find labextension/src labextension/style labextension/schema -type f 2>/dev/null)

.PHONY: demo test notebooks ui-tests bench clean

$(NPM_STAMP): package.json package-lock.json kernel-lib/package.json
	npm ci --no-audit --no-fund
	@touch $@

# The JupyterLab extension is its own npm project: JupyterLab's tree stays out of the library's install.
$(LAB_STAMP): labextension/package.json labextension/package-lock.json
	npm --prefix labextension ci --no-audit --no-fund
	@touch $@

# The notebooks' folder, as a user sets one up: ibkr-notebook (a link to kernel-lib), tslab (the
# TypeScript kernel), @types/node. Its own project: tslab's TypeScript fork must not shadow the workspace's tsc.
$(NOTEBOOKS_STAMP): notebooks/package.json notebooks/package-lock.json kernel-lib/package.json
	npm ci --prefix notebooks --no-audit --no-fund
	@touch $@

# The browser tests: their own npm project (Galata + Playwright). --ignore-scripts: no browser download;
# they drive Debian's /usr/bin/chromium, which scripts/ensure-chromium.sh installs when missing.
$(UI_STAMP): ui-tests/package.json ui-tests/package-lock.json
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm --prefix ui-tests ci --ignore-scripts --no-audit --no-fund
	@touch $@

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# The tests' Python: TWS clients for the decoder checks, jupyter_client and nbclient for the kernels.
$(VENV_STAMP): test/python/requirements.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r test/python/requirements.txt
	@touch $@

# The demo's: JupyterLab and the prebuilt jupyterlab-ibkr extension (its wheel reuses the npm build).
$(DEMO_STAMP): notebooks/requirements.txt labextension/pyproject.toml $(LAB_STAMP) $(LAB_SOURCES) | $(VENV)/bin/python
	npm --prefix labextension run build
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r notebooks/requirements.txt ./labextension
	@touch $@

## The main job: ibkr-sim with the demo account and JupyterLab on the example notebooks (scripts/demo.sh).
demo: $(NPM_STAMP) $(NOTEBOOKS_STAMP) $(DEMO_STAMP)
	npm run build
	bash scripts/demo.sh

## Every test: lint and format, types, unit and end-to-end tests, the Python decoder checks, the
## notebooks on the tslab kernel, `make demo` itself, and the browser tests in Debian's chromium.
test: $(NPM_STAMP) $(LAB_STAMP) $(NOTEBOOKS_STAMP) $(VENV_STAMP) $(DEMO_STAMP) $(UI_STAMP)
	npm test
	npm --prefix labextension run typecheck
	npm --prefix labextension test
	npm --prefix labextension run build
	$(VENV)/bin/python test/python/check_decoders.py
	$(VENV)/bin/python test/python/check_tslab_kernel.py
	$(VENV)/bin/python test/python/check_package.py
	$(VENV)/bin/python test/python/run_notebooks.py
	$(VENV)/bin/python test/python/check_demo.py
	$(VENV)/bin/python test/python/check_readme_commands.py
	bash scripts/ensure-chromium.sh
	npm --prefix ui-tests run typecheck
	npm --prefix ui-tests test

## Re-run the example notebooks against ibkr-sim and save them with their outputs.
notebooks: $(NPM_STAMP) $(NOTEBOOKS_STAMP) $(VENV_STAMP)
	npm run build
	$(VENV)/bin/python test/python/run_notebooks.py --write

## The browser tests alone: JupyterLab with the extension in Chromium, against ibkr-sim.
ui-tests: $(NPM_STAMP) $(NOTEBOOKS_STAMP) $(DEMO_STAMP) $(UI_STAMP)
	npm run build
	bash scripts/ensure-chromium.sh
	npm --prefix ui-tests test

## Benchmarks (figures printed, baselines measured in the same run).
bench: $(NPM_STAMP)
	npm run bench

clean:
	rm -rf node_modules kernel-lib/node_modules kernel-lib/dist labextension/node_modules labextension/lib notebooks/node_modules ui-tests/node_modules ui-tests/test-results $(VENV)
