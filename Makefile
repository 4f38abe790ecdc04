# Newsdesk: `make run` starts a demo site, `make test` runs the checks. See README.md.

VENV := .venv
BIN := $(VENV)/bin
CHROMIUM_PATH ?= /usr/bin/chromium
export CHROMIUM_PATH

.PHONY: venv test-venv run test test-postgres serve bench lint clean

# Two stamps, so each install re-runs whenever pyproject.toml (the dependency list) changes:
# the app alone (make run, make serve: production gets nothing else), and the test tools
# on top of it (make test). Either order works in one checkout.
venv: $(VENV)/.installed-app
test-venv: $(VENV)/.installed-test

$(VENV)/.installed-app: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed-app
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# npm writes node_modules/.package-lock.json on every install: it is the stamp for the
# test-only Node tools (vnu-jar). --ignore-scripts: its postinstall downloads a JDK.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# The development server on HOST:PORT (make run PORT=5001). It takes the port first; a new
# database gets the demo content, a demo one new staff passwords; any other is served as it is.
HOST := 127.0.0.1
PORT := 5000
run: venv
	$(BIN)/flask --app app run-demo --host $(HOST) --port $(PORT)

# Browser tests skip without Chromium (and fail under CI=true); say why up front.
test: test-venv node_modules/.package-lock.json
	@test -x "$(CHROMIUM_PATH)" || echo "NOTE: no Chromium at $(CHROMIUM_PATH):" \
		"browser tests will be skipped. Install it: apt-get install chromium"
	@command -v java >/dev/null || echo "NOTE: no java: HTML validation tests will be" \
		"skipped. Install it: apt-get install default-jre-headless"
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The same suite on PostgreSQL: a throwaway server (Debian's postgresql package) on
# 127.0.0.1 for the run. With a server of your own: TEST_DATABASE_URL=postgresql://… make test
test-postgres:
	bash .ci/with-postgres $(MAKE) test

# Production: gunicorn.conf.py reads BIND and WORKERS and refuses a missing SECRET_KEY.
serve: venv
	$(BIN)/flask --app app init-db
	$(BIN)/gunicorn "app:create_app()"

# Load, page weight, memory, durability, merges and slow clients (bench/all.py): 12 to 14
# minutes, stops by itself; BENCH_ARGS=--quick for a 4-minute smoke run. Needs wrk and nginx.
bench: venv
	@command -v wrk >/dev/null || { echo "bench needs wrk and nginx: apt-get install -y wrk nginx"; exit 1; }
	$(BIN)/python bench/all.py $(BENCH_ARGS)

lint: test-venv
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) node_modules
