# Entry points for people and CI. The virtual environment is made on first use,
# so a fresh clone needs nothing but python3 (and npm for the compatibility tests).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
LW_DIR := .localwhisk
LW_PID := $(LW_DIR)/localwhisk.pid
LW_LOG := $(LW_DIR)/localwhisk.log
LW_PORT ?= $(or $(LOCALWHISK_PORT),3233)
MANIFEST ?= manifest.yaml
# Options passed on to the deploy tool's command: make deploy ARGS=--force,
# make undeploy ARGS='--projectname demo', make plan ARGS=--json.
ARGS ?=
# The deploy tool's local default follows the port `make up` gives localwhisk.
DEPLOY := LOCALWHISK_PORT=$(LW_PORT) $(PY) -m deploy

.PHONY: runtimes screenshots venv deploy undeploy plan validate urls test unit integration reliability compat-deps node-deps sandbox-deps up down bench soak lint clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Start the local server only when no credentials point elsewhere
# (flags, WHISK_*, AIO_RUNTIME_*, .wskprops): the deploy tool decides.
deploy: $(STAMP)
	@if $(DEPLOY) target --is-local-default >/dev/null 2>&1; then $(MAKE) --no-print-directory up; fi
	$(DEPLOY) deploy -m $(MANIFEST) $(ARGS)

undeploy: $(STAMP)
	$(DEPLOY) undeploy -m $(MANIFEST) $(ARGS)

plan: $(STAMP)
	$(DEPLOY) plan -m $(MANIFEST) $(ARGS)

validate: $(STAMP)
	$(DEPLOY) validate -m $(MANIFEST) $(ARGS)

urls: $(STAMP)
	$(DEPLOY) urls -m $(MANIFEST) $(ARGS)

# Idempotent: a live pid file means the server is already up.
up: $(STAMP) node-deps runtimes
	@mkdir -p $(LW_DIR)
	@if [ -f $(LW_PID) ] && kill -0 $$(cat $(LW_PID)) 2>/dev/null; then \
	  echo "localwhisk already running (pid $$(cat $(LW_PID)))"; \
	else \
	  $(PY) -m localwhisk --port $(LW_PORT) --data $(LW_DIR)/data --pid-file $(LW_PID) >$(LW_LOG) 2>&1 & \
	  $(PY) -m localwhisk.readiness $(LW_LOG) || exit 1; \
	fi

down:
	@pid=$$(cat $(LW_PID) 2>/dev/null); \
	if [ -n "$$pid" ] && kill -0 $$pid 2>/dev/null; then \
	  kill $$pid; \
	  for i in $$(seq 1 100); do kill -0 $$pid 2>/dev/null || break; sleep 0.1; done; \
	  echo "localwhisk stopped"; \
	else echo "localwhisk is not running"; fi
	@rm -f $(LW_PID)

# The suites run on every core (pytest-xdist): most of their time is spent waiting on
# real localwhisk and deploy processes. --dist loadfile keeps each test module on one
# worker, in file order, because a module's tests share its server and some read what
# the ones before them left. PYTHONDONTWRITEBYTECODE (set in some images) is dropped for
# the tests: with it pytest rewrites every test module's asserts again in every worker
# on every run (about 4 s each), and every tool process compiles the project again.
PYTEST   := env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest
PARALLEL ?= -n auto --dist loadfile

test: $(STAMP) compat-deps node-deps sandbox-deps runtimes
	$(PYTEST) -q $(PARALLEL) tests
	@$(PY) -c 'from localwhisk.runtime.sandbox import choose; i = choose("auto"); print("sandbox:", "bubblewrap tested" if i.sandboxed else "bubblewrap NOT tested (only the fallback ran): " + i.describe())'
	@PYTHONPATH=tests $(PY) -c 'import browser; why = browser.missing(); print("browser:", "dashboard tested in headless chromium" if why is None else "the dashboard browser test did NOT run: " + why)'

# Actions run inside bubblewrap when it works. Installed where we may (root with apt, as
# in CI); elsewhere the tests run the fallback and say so.
sandbox-deps:
	@command -v bwrap >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { apt-get install -y -qq bubblewrap >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq bubblewrap >/dev/null 2>&1; }; } ; } || \
	  echo "bubblewrap not installed (needs root and apt-get): sandboxed tests will be skipped"

unit: $(STAMP) node-deps runtimes
	$(PYTEST) -q $(PARALLEL) tests/unit

integration: $(STAMP) compat-deps node-deps runtimes
	$(PYTEST) -q $(PARALLEL) tests/integration

reliability: $(STAMP)
	$(PYTEST) -q $(PARALLEL) tests/reliability

# The modules Node.js actions may require unbundled (openwhisk, express, uuid...), as the
# runtime images ship them: installed from the lockfile, again when it is newer than what
# npm last installed. Without npm, Node.js actions still run but cannot require them; the
# server says so at start.
NODE_RT := localwhisk/runtime/nodejs
node-deps:
	@if command -v npm >/dev/null 2>&1; then \
	  cd $(NODE_RT) && { [ node_modules/.package-lock.json -nt package-lock.json ] || \
	    npm ci --silent --no-audit --no-fund; }; \
	else echo "npm not found: Node.js actions will not find require('openwhisk')"; fi

# Each Python kind's environment of its runtime image's packages (bs4, lxml, requests...)
# on that kind's Python where the machine has it: needs the network the first time (a few
# minutes), then cached in ~/.cache/localwhisk/runtimes by requirement list and interpreter.
runtimes: $(STAMP)
	@$(PY) -m localwhisk.runtime.virtualenvs

# The official openwhisk client and Adobe's aio rt commands (@adobe/aio-cli-plugin-runtime:
# about 150 MB, 30-60 s), from the lockfile; again whenever the lockfile is newer than
# what npm last installed (node_modules/.package-lock.json).
compat-deps:
	@if [ -f tests/compat/package.json ]; then \
	  cd tests/compat && { [ node_modules/.package-lock.json -nt package-lock.json ] || \
	    npm ci --silent --no-audit --no-fund; }; fi

# Screenshots of the dashboard's main views for the README (docs/dashboard-*.png).
screenshots: $(STAMP)
	$(PY) -m bench.dashboard_bench --screenshots docs

bench: $(STAMP)
	@cd bench/peer && { [ -d node_modules ] || npm ci --silent --no-audit --no-fund; }
	$(PY) -m bench

soak: $(STAMP)
	$(PY) -m bench.soak

lint: $(STAMP)
	$(PY) -m ruff check actions deploy localwhisk whiskfacts tests bench
	$(PY) -m ruff format --check actions deploy localwhisk whiskfacts tests bench

clean: down
	rm -rf $(VENV) $(LW_DIR) .pytest_cache .ruff_cache
