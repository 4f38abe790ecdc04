# Newsdesk: `make run` starts a demo site, `make test` runs the checks. See README.md.

VENV := .venv
BIN := $(VENV)/bin
CHROMIUM_PATH ?= /usr/bin/chromium
export CHROMIUM_PATH

.PHONY: venv run test test-postgres serve bench lint clean

venv: $(VENV)/.installed

# A stamp, so the install re-runs whenever pyproject.toml (the dependency list) changes.
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# npm writes node_modules/.package-lock.json on every install: it is the stamp for the
# test-only Node tools (vnu-jar). --ignore-scripts: its postinstall downloads a JDK.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

run: venv
	$(BIN)/flask --app app init-db
	$(BIN)/flask --app app seed-demo --articles 300
	@echo "Staff logins for this demo (new passwords on every start):"
	@$(BIN)/flask --app app demo-logins
	@echo "Newsdesk is running at http://127.0.0.1:5000"
	$(BIN)/flask --app app run --host 127.0.0.1 --port 5000

# Browser tests skip without Chromium (and fail under CI=true); say why up front.
test: venv node_modules/.package-lock.json
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

# Load, page weight, memory and durability (bench/all.py): about 10 minutes, stops by
# itself; BENCH_ARGS=--quick for a 2-minute smoke run. Needs wrk and nginx (apt-get).
bench: venv
	@command -v wrk >/dev/null || { echo "bench needs wrk and nginx: apt-get install -y wrk nginx"; exit 1; }
	$(BIN)/python bench/all.py $(BENCH_ARGS)

lint: venv
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) node_modules
