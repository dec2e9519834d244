# syntax=docker/dockerfile:1
# The web gateway (bot/gateway.py): the demo page, the widget, /api/chat,
# /healthz, /readyz. The only process the public reaches (through the Ingress).
#
#   docker build -f deploy/docker/gateway.Dockerfile -t REGISTRY/helpline/gateway:TAG .
#
# Build from the repository root. Only aiohttp, PyYAML and what they need are
# installed, at the versions pinned in requirements-gateway.txt: a current
# aiohttp, not the 3.9 line Rasa pins (docs/security.md) (--no-deps; `pip check`
# fails the build if one is missing). tests/test_deploy.py checks that PACKAGES
# covers every import of bot/gateway.py and the bot modules it imports.

FROM python:3.10-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# aiohttp, PyYAML and the packages they depend on (names as in requirements-gateway.txt).
ARG PACKAGES="aiohttp aiohappyeyeballs aiosignal async-timeout attrs frozenlist idna multidict \
    propcache yarl PyYAML typing_extensions"
COPY requirements-gateway.txt /tmp/req/
RUN set -eu; \
    python -m venv /opt/venv; \
    /opt/venv/bin/pip install "pip==25.3" "setuptools==70.3.0" "wheel==0.45.1"; \
    for name in $PACKAGES; do \
      pin="$(grep -ihE "^${name}==" /tmp/req/requirements-gateway.txt | head -n 1)"; \
      [ -n "$pin" ] || { echo "no pinned version of ${name} in requirements-gateway.txt" >&2; exit 1; }; \
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
# The bot package: settings, catalogue (the fallback answers in every
# language), bot/web (page, widget) and the facts. Its Rasa modules (nlu/,
# channels/) are never imported here, and Rasa is not installed.
COPY bot/ bot/
# The gateway listens on the pod's address (bot/settings.py allows any host
# for it); the Service, the Ingress and a NetworkPolicy decide who reaches it.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/opt/helpline \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/home/helpline \
    HELPLINE_GATEWAY_HOST=0.0.0.0 \
    HELPLINE_GATEWAY_PORT=8080
USER 10001:10001
EXPOSE 8080
# Kubernetes uses the Deployment's probes (same path); this is for `docker run`.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
# As bot/stack.py starts it (gateway_command).
CMD ["python", "-m", "bot.gateway"]
