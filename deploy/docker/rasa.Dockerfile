# syntax=docker/dockerfile:1
# The Rasa server of the helpline, production profile (endpoints.production.yml:
# PostgreSQL tracker store, Redis lock store). Also the image of the retention
# CronJob (bot/retention.py needs SQLAlchemy and psycopg2, both in here).
#
#   make train      # first: the model is built into the image (models/ is not in git)
#   docker build -f deploy/docker/rasa.Dockerfile -t REGISTRY/helpline/rasa:TAG .
#
# Not FROM rasa/rasa: the official image does not have our custom NLU
# components (bot/nlu, referenced by config.yml and stored in the model), our
# channels (bot/channels, named in credentials.yml) or rasa_patches; and its
# Python packages are not our pins. This installs requirements.txt exactly
# (--no-deps; `pip check` fails the build if anything is missing), the same
# set `make` installs.
#
# Everything lives in /opt/helpline, NOT /app: the rasa/rasa chart always
# mounts its own generated endpoints.yml and credentials.yml at /app/; the
# command (here and in deploy/helm/rasa-values.yaml) names our files instead.

FROM python:3.10-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements.txt /tmp/req/
# pip, setuptools and wheel pinned too (the Makefile's pip; rasa wants
# setuptools >= 70.3).
RUN set -eu; \
    python -m venv /opt/venv; \
    /opt/venv/bin/pip install "pip==25.3" "setuptools==70.3.0" "wheel==0.45.1"; \
    /opt/venv/bin/pip install --no-deps -r /tmp/req/requirements.txt; \
    /opt/venv/bin/pip check

FROM python:3.10-slim
RUN groupadd --system --gid 10001 helpline \
 && useradd --system --uid 10001 --gid 10001 --home-dir /home/helpline --create-home \
      --shell /usr/sbin/nologin helpline
COPY --from=build /opt/venv /opt/venv
WORKDIR /opt/helpline
# bot/: the custom NLU components and rasa_patches (imported when the model
# loads), the channels of credentials.yml, the catalogue they answer from, and
# bot/retention.py for the CronJob.
COPY bot/ bot/
COPY credentials.yml endpoints.production.yml ./
# What the model was trained from (the model holds its own copy; kept beside
# it for staff inspecting a running image).
COPY config.yml domain.yml ./
COPY models/helpline.tar.gz models/helpline.tar.gz
# Rasa writes only under $HOME (~/.config/rasa, ~/.keras, matplotlib) and
# /tmp (the unpacked model): the pods mount emptyDirs there and keep the root
# filesystem read-only.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/opt/helpline \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/home/helpline \
    MPLCONFIGDIR=/tmp/matplotlib \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=3 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1
USER 10001:10001
EXPOSE 5005
# Kubernetes uses the chart's probes (same path); this is for `docker run`.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5005/', timeout=4)"]
# bot/stack.py's rasa_command for the production profile, listening on the
# pod's address (the Service is ClusterIP; see deploy/helm/network-policies.yaml).
# Rasa's HTTP API stays off: no --enable-api (deploy/README.md: turning it on
# with a token).
CMD ["python", "-m", "bot.rasa_main", "run", \
     "--model", "/opt/helpline/models/helpline.tar.gz", \
     "--endpoints", "/opt/helpline/endpoints.production.yml", \
     "--credentials", "/opt/helpline/credentials.yml", \
     "--interface", "0.0.0.0", \
     "--port", "5005"]
