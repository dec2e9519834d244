# syntax=docker/dockerfile:1
# The action server (actions/, which renders every answer from bot/catalogue).
#
#   docker build -f deploy/docker/actions.Dockerfile -t REGISTRY/helpline/actions:TAG .
#
# Build from the repository root. Only rasa-sdk and what it needs are
# installed, at the versions pinned in requirements.txt (--no-deps: nothing
# unpinned comes in; `pip check` fails the build if one is missing).
# tests/test_deploy.py checks that PACKAGES covers everything actions/ and the
# bot modules it imports need.

FROM python:3.10-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# rasa-sdk and the packages it depends on (names as in requirements.txt).
ARG PACKAGES="rasa-sdk pluggy sanic Sanic-Cors sanic-routing httptools uvloop ujson \
    aiofiles websockets multidict coloredlogs humanfriendly prompt-toolkit wcwidth \
    ruamel.yaml ruamel.yaml.clib typing_extensions PyYAML"
COPY requirements.txt /tmp/req/
# pip, setuptools and wheel as in the Makefile's venv.
RUN set -eu; \
    python -m venv /opt/venv; \
    /opt/venv/bin/pip install "pip==25.3" "setuptools==70.3.0" "wheel==0.45.1"; \
    for name in $PACKAGES; do \
      pin="$(grep -ihE "^${name}==" /tmp/req/requirements.txt | head -n 1)"; \
      [ -n "$pin" ] || { echo "no pinned version of ${name} in requirements.txt" >&2; exit 1; }; \
      echo "$pin"; \
    done > /tmp/req/pins.txt; \
    /opt/venv/bin/pip install --no-deps -r /tmp/req/pins.txt; \
    /opt/venv/bin/pip check

FROM python:3.10-slim
RUN groupadd --system --gid 10001 helpline \
 && useradd --system --uid 10001 --gid 10001 --home-dir /home/helpline --create-home \
      --shell /usr/sbin/nologin helpline
COPY --from=build /opt/venv /opt/venv
WORKDIR /opt/helpline
# Only what the action server reads: the actions package and the catalogue
# (answers in every language, the language list and the facts).
COPY actions/ actions/
COPY bot/__init__.py bot/catalogue.py bot/folding.py bot/minor.py bot/languages.yml bot/facts.yml bot/
COPY bot/catalogue/ bot/catalogue/
# SANIC_HOST: rasa_sdk binds to it. bot/stack.py keeps it on loopback on one
# machine; here the action server must listen on the pod's address so that the
# Rasa pods can reach it. That is acceptable ONLY because the pod network is
# private, the Service is ClusterIP (no Ingress) and the NetworkPolicy in
# deploy/helm/network-policies.yaml admits only the Rasa pods to port 5055.
# (The gateway and Rasa images do not set it.)
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/opt/helpline \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/home/helpline \
    SANIC_HOST=0.0.0.0
USER 10001:10001
EXPOSE 5055
# Kubernetes uses the chart's probes (same path); this is for `docker run`.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5055/health', timeout=4)"]
# As bot/stack.py starts it (action_server_command).
CMD ["python", "-m", "rasa_sdk", "--actions", "actions", "--port", "5055"]
