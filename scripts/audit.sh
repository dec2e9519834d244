#!/usr/bin/env bash
# pip-audit of every pinned file (docs/security.md explains each accepted
# advisory). Fails on any advisory not listed there. Needs the vulnerability
# service; where it cannot be reached, says so plainly and exits 3.
set -euo pipefail
cd "$(dirname "$0")/.."
AUDIT=.venv/audit/bin/python
if ! "$AUDIT" -c "import urllib.request; urllib.request.urlopen('https://pypi.org/pypi/pip/25.3/json', timeout=10)" >/dev/null 2>&1; then
  echo "!! dependency audit NOT RUN: PyPI's vulnerability data cannot be reached from here (docs/security.md)"
  exit 3
fi
ACCEPTED=$(sed -n 's/^  *--ignore-vuln \(.*\)$/\1/p' docs/security.md | tr ' \\' '\n\n' | grep -E '^(CVE|GHSA|PYSEC)-' | sed 's/^/--ignore-vuln /' | tr '\n' ' ')
# shellcheck disable=SC2086
"$AUDIT" -m pip_audit --strict --no-deps --disable-pip --progress-spinner off \
  -r requirements.txt -r requirements-dev.txt $ACCEPTED
"$AUDIT" -m pip_audit --strict --no-deps --disable-pip --progress-spinner off -r requirements-gateway.txt
"$AUDIT" -m pip_audit --strict --no-deps --disable-pip --progress-spinner off -r requirements-k8s.txt
