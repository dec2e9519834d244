# The one front door. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
PY      := $(VENV)/bin/python
RASA    := $(PY) -m rasa
MODEL   := models/helpline.tar.gz
export PYTHONPATH := $(CURDIR)
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 3
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export HELPLINE_ACTION_URL ?= http://127.0.0.1:5055/webhook

# Everything the trained model depends on: retrain only when one changes.
MODEL_INPUTS := config.yml domain.yml $(wildcard data/*.yml data/nlu/*.yml data/danger/*.yml data/romanised/*.yml) \
	$(wildcard bot/catalogue/*.yml) bot/languages.yml bot/facts.yml \
	bot/language.py bot/danger.py bot/catalogue.py bot/rasa_patches.py $(wildcard bot/nlu/*.py)

.PHONY: help run run-prod forget shell test train evaluate catalogue-report check validate bench soak audit clean

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

run: $(VENV)/.runtime $(MODEL) ## Set up, train if needed, start the bot (gateway http://127.0.0.1:8080)
	$(PY) -m bot.cli run

run-prod: $(VENV)/.runtime $(MODEL) ## Production profile here: PostgreSQL + Redis (local), 2 Rasa instances
	HELPLINE_PROFILE=production $(PY) -m bot.cli run

forget: $(VENV)/.runtime ## Staff: delete one conversation now: make forget SENDER=<sender id>
	@test -n "$(SENDER)" || { echo "usage: make forget SENDER=<sender id>"; exit 2; }
	$(PY) -m bot.retention delete --sender "$(SENDER)"

shell: $(VENV)/.runtime $(MODEL) ## Staff terminal: rasa shell with the action server running
	$(PY) -m bot.cli shell

test: $(VENV)/.dev $(VENV)/audit/.ok $(VENV)/k8s/.ok $(MODEL) ## Set up and run the whole test suite
	scripts/test.sh

train: $(MODEL) ## Train the model (only when data, config or domain changed)

evaluate: $(VENV)/.runtime $(MODEL) ## Language and intent accuracy on held-out messages, per language
	$(PY) -m bot.evaluate

catalogue-report: $(VENV)/.runtime ## Write docs/catalogue-report.html: Swedish source beside every language
	$(PY) -m bot.catalogue_report

check: $(VENV)/.dev ## Catalogue and content checks only (fast)
	$(PY) scripts/check_content.py

validate: $(VENV)/.runtime ## rasa data validate --fail-on-warnings
	$(RASA) data validate --fail-on-warnings

bench: $(VENV)/.dev $(MODEL) ## Benchmark against stock `rasa init` (writes bench/results/)
	$(PY) -m bench.run $(BENCH_ARGS)

soak: $(VENV)/.dev $(MODEL) ## 50 users for 10 minutes through the gateway (bench/results/soak-latest.json)
	$(PY) -m bench.soak $(SOAK_ARGS)

audit: $(VENV)/audit/.ok ## pip-audit of every pinned file; fails on a new known vulnerability
	scripts/audit.sh

$(MODEL): $(MODEL_INPUTS) | $(VENV)/.runtime
	@echo "Training the model (inputs changed since the last one) ..."
	$(RASA) train --fixed-model-name helpline --out models --force
	@touch $(MODEL)

$(VENV)/.python:
	"$$(scripts/find-python310)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==25.3"
	@touch $@

$(VENV)/.runtime: requirements.txt $(VENV)/gateway/.ok | $(VENV)/.python
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

# The public gateway runs from its own venv with a current aiohttp (docs/security.md).
$(VENV)/gateway/.ok: requirements-gateway.txt | $(VENV)/.python
	"$$(scripts/find-python310)" -m venv $(VENV)/gateway
	$(VENV)/gateway/bin/python -m pip install --quiet --upgrade "pip==25.3"
	$(VENV)/gateway/bin/python -m pip install --quiet --no-deps -r requirements-gateway.txt
	@touch $@

$(VENV)/audit/.ok: requirements-audit.txt | $(VENV)/.python
	"$$(scripts/find-python310)" -m venv $(VENV)/audit
	$(VENV)/audit/bin/python -m pip install --quiet --upgrade "pip==25.3"
	$(VENV)/audit/bin/python -m pip install --quiet --no-deps -r requirements-audit.txt
	@touch $@

# kubernetes-validate (offline Kubernetes API schemas) for tests/test_deploy.py.
$(VENV)/k8s/.ok: requirements-k8s.txt | $(VENV)/.python
	"$$(scripts/find-python310)" -m venv $(VENV)/k8s
	$(VENV)/k8s/bin/python -m pip install --quiet --upgrade "pip==25.3"
	$(VENV)/k8s/bin/python -m pip install --quiet --no-deps -r requirements-k8s.txt
	@touch $@

$(VENV)/.dev: requirements-dev.txt package-lock.json $(VENV)/.runtime
	$(PY) -m pip install --quiet -r requirements-dev.txt
	npm ci --no-audit --no-fund --loglevel=error
	scripts/install-system-deps.sh
	@touch $@

clean: ## Remove trained models and caches (keeps the venv)
	rm -rf models/*.tar.gz .rasa .pytest_cache results
