# qlocks: the README's two commands are `make demo` and `make test`. Both set up what they need themselves.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml tools/pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test lint typecheck unit bench system-deps setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml tools/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[demo,test]'
	@# the extra installs a copy of ./tools; edits to the tooling should show without a reinstall
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e ./tools
	@rm -f $(VENV)/.installed-* && touch $@

# Debian packages the tests need: headless Chromium and a colour emoji font (the browser test; the page and
# docs/playground.png show the bot's emoji), PostgreSQL (the state store's tests start a throwaway cluster with its
# initdb/pg_ctl; the package's own cluster is not used). Each is installed only when missing.
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian package chromium (browser test)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -q chromium >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q chromium >/dev/null; }; }
	@fc-list 2>/dev/null | grep -qi "Noto Color Emoji" || { \
	  echo "installing Debian package fonts-noto-color-emoji (browser test, screenshot)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -q fonts-noto-color-emoji >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q fonts-noto-color-emoji >/dev/null; }; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "installing Debian package postgresql (state store tests)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -q >/dev/null && \
	    $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null; }; }

demo: $(STAMP)
	$(PY) -m bot demo

lint: $(STAMP)
	$(VENV)/bin/ruff check bot tools tests
	$(VENV)/bin/ruff format --check bot tools tests

typecheck: $(STAMP)
	$(VENV)/bin/mypy bot
	$(VENV)/bin/mypy tools/qlocks_tools

unit: $(STAMP) system-deps
	$(VENV)/bin/pytest -q

test: lint typecheck unit

bench: $(STAMP)
	$(PY) -m bot bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis tests/artifacts
