"""Security properties that are about the deployment, not one request:

* Rasa and the action server listen on loopback only, the gateway exactly
  where it is told (here a second loopback address, 127.0.0.2, so the test
  also shows that the gateway's setting is honoured and distinct from the
  others'); with the staff API switched on (a token), too. That the tracker
  API refuses a call without the token is tests/e2e/test_conversations.py::
  test_the_tracker_api_needs_the_token.
* No secret in the repository: every file git tracks is scanned for private
  keys and for tokens shaped like the real ones (Telegram, Twilio, Meta, AWS,
  GitHub, Slack, Google), and for password/token assignments with a literal
  value that does not look made up.
* credentials.yml and the endpoint files hold no values: secrets come from
  the environment only.

docs/security.md maps each threat to the test that covers it.
"""
from __future__ import annotations

import ipaddress
import os
import re
import socket
import subprocess
from pathlib import Path
from typing import Dict, Iterable, List, Set, Tuple

import pytest
import yaml

from bench.procmem import _tree
from bot.settings import Settings
from bot.stack import Stack
from tests.conftest import MODEL, ROOT

GATEWAY_HOST = "127.0.0.2"


# ---------------------------------------------------------------------------
# Listening sockets, from /proc (no tool needed)


def _address(hex_address: str) -> str:
    """/proc/net/tcp{,6} "0100007F" / 32 hex digits → "127.0.0.1" / "::1"."""
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw[::-1]))
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return str(ipaddress.IPv6Address(words))


def listening_by_inode() -> Dict[int, Tuple[str, int]]:
    sockets = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] != "0A":  # TCP_LISTEN
                continue
            host, port = fields[1].split(":")
            sockets[int(fields[9])] = (_address(host), int(port, 16))
    return sockets


def listening(pids: Iterable[int]) -> Set[Tuple[str, int]]:
    """(address, port) of every TCP socket these processes listen on."""
    by_inode = listening_by_inode()
    found = set()
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inode = int(target[8:-1])
                if inode in by_inode:
                    found.add(by_inode[inode])
    return found


def is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    """A stack with the staff API ON (a token): the most open configuration."""
    if not MODEL.exists():
        pytest.fail(f"No trained model at {MODEL}: run `make train`")
    settings = Settings(
        rasa_port=free_port(), action_port=free_port(), gateway_host=GATEWAY_HOST,
        gateway_port=free_port(GATEWAY_HOST), rasa_api_token="security-test-token", model_path=MODEL,
    )
    stack = Stack(settings, log_dir=Path(tmp_path_factory.mktemp("security-stack")))
    stack.start()
    try:
        stack.wait_ready(timeout=180)
        yield stack
    finally:
        stack.stop()


def sockets_of(stack: Stack, prefix: str) -> Set[Tuple[str, int]]:
    roots = [p.pid for name, p in stack.processes.items() if name.split("-")[0] == prefix]
    assert roots, f"no {prefix} process"
    return listening(_tree(roots))


@pytest.mark.e2e
def test_rasa_listens_on_loopback_only_even_with_the_staff_api_on(running):
    sockets = sockets_of(running, "rasa")
    assert (running.settings.rasa_host, running.settings.rasa_port) in sockets
    assert all(is_loopback(address) for address, _ in sockets), sockets


@pytest.mark.e2e
def test_the_action_server_listens_on_loopback_only(running):
    sockets = sockets_of(running, "actions")
    assert (running.settings.action_host, running.settings.action_port) in sockets
    assert all(is_loopback(address) for address, _ in sockets), sockets


@pytest.mark.e2e
def test_the_gateway_listens_exactly_where_it_is_told(running):
    assert sockets_of(running, "gateway") == {(GATEWAY_HOST, running.settings.gateway_port)}


@pytest.mark.e2e
def test_no_process_of_the_stack_listens_beyond_loopback(running):
    everything = listening(_tree(p.pid for p in running.processes.values()))
    assert everything and all(is_loopback(address) for address, _ in everything), everything


def test_settings_refuse_rasa_or_actions_beyond_loopback():
    from bot.settings import SettingError

    for name in ("HELPLINE_RASA_HOST", "HELPLINE_ACTION_HOST"):
        for value in ("0.0.0.0", "::", "192.0.2.10", "example.org"):
            with pytest.raises(SettingError, match=name):
                Settings.from_env({name: value})


def test_rasa_api_is_off_without_a_token_and_needs_it_when_on():
    from bot.stack import rasa_command

    off = rasa_command(Settings())
    assert "--enable-api" not in off and "--auth-token" not in off
    on = rasa_command(Settings(rasa_api_token="t0ken"))
    assert "--enable-api" in on and on[on.index("--auth-token") + 1] == "t0ken"
    assert on[on.index("--interface") + 1] == "127.0.0.1"


def test_the_staff_shell_listens_on_loopback_only():
    """`rasa shell` starts a Rasa server too; by default on 0.0.0.0:5005."""
    from bot.stack import rasa_command

    shell = rasa_command(Settings(), "shell")
    assert shell[shell.index("--interface") + 1] == "127.0.0.1"
    assert "--enable-api" not in shell


def test_the_action_server_is_told_to_bind_loopback():
    from bot.stack import child_environment

    assert child_environment(Settings())["SANIC_HOST"] == "127.0.0.1"


def test_the_gateway_parses_http_with_aiohttp_s_c_parser():
    """aiohttp's request-smuggling advisories CVE-2024-52304 and CVE-2025-53643
    concern its pure-Python parser only (docs/security.md): the server must
    use the compiled one (not AIOHTTP_NO_EXTENSIONS, not a pure wheel)."""
    from aiohttp import web_protocol

    assert web_protocol.HttpRequestParser.__module__ == "aiohttp._http_parser"


# Rasa components that run TensorFlow/Keras on the user's text. The pinned
# tensorflow 2.12.0 and keras 2.12.0 have known advisories and Rasa 3.6 pins
# them exactly; docs/security.md argues they are not exposed because none of
# these is in our pipeline. This keeps that argument true.
TENSORFLOW_COMPONENTS = {
    "DIETClassifier", "TEDPolicy", "UnexpecTEDIntentPolicy", "ResponseSelector",
    "ConveRTFeaturizer", "LanguageModelFeaturizer", "HFTransformersNLP", "LanguageModelTokenizer",
    "ConveRTTokenizer",
}


def test_no_tensorflow_component_sees_user_text():
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    names = {c["name"].rsplit(".", 1)[-1] for c in (config.get("pipeline") or []) + (config.get("policies") or [])}
    assert not names & TENSORFLOW_COMPONENTS, names & TENSORFLOW_COMPONENTS


# ---------------------------------------------------------------------------
# No secret in the repository

SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
    "Telegram bot token": re.compile(r"\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b"),
    "Twilio Account SID": re.compile(r"\bAC[0-9a-f]{32}\b"),
    "Twilio API key SID": re.compile(r"\bSK[0-9a-f]{32}\b"),
    "Twilio auth token": re.compile(r"(?i)twilio.{0,60}\b[0-9a-f]{32}\b"),
    "Meta access token": re.compile(r"\bEAA[A-Za-z0-9]{60,}"),
    "AWS access key": re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    "AWS secret key": re.compile(r"(?i)aws.{0,20}secret.{0,20}[=:]\s*['\"]?[A-Za-z0-9/+=]{40}\b"),
    "GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "JWT": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    "URL with a password": re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:[^/\s:@'\"$<{]{3,}@[^\s'\"]+"),
}
# NAME = "value" / name: value, for names that hold secrets
ASSIGNMENT = re.compile(
    r"""(?ix)
    (?P<name>[A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|auth[_-]?key|access[_-]?key|private[_-]?key))
    ["']?\s*(?::|=|==)\s*
    (?P<quote>["']?)(?P<value>[^"'\s,;)}\]#]{8,})(?P=quote)
    """
)
# Values that are obviously not secrets: made-up test values, placeholders ...
FAKE = re.compile(
    r"(?i)test|fake|dummy|example|sample|stand-?in|placeholder|changeme|not-the|wrong|forged|xxxx|\.\.\.|…"
)
# ... and references to the environment or to other names, not literals.
REFERENCE = re.compile(
    r"^(?:\$|\{|<|%|os\.|env|self\.|settings|values\[|request|None$|True$|False$|null$)"
    r"|^[A-Z_][A-Z0-9_]*$"  # another constant's name
    r"|^[a-z_][A-Za-z0-9_.]*\(|^[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+$"  # a call or an attribute
)
# Text files only; these are generated or vendored.
SKIPPED_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".ico", ".gz", ".tar", ".zip", ".pdf", ".woff", ".woff2", ".lock"}


def tracked_files() -> List[Path]:
    """Every file git tracks (read-only use of git); without git, the work tree."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=30).stdout
        names = [n for n in out.decode("utf-8", "surrogateescape").split("\0") if n]
    except (OSError, subprocess.SubprocessError):
        skip = {".git", ".venv", "node_modules", "models", ".rasa", "results", "__pycache__", ".pytest_cache"}
        names = [
            str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
            if p.is_file() and not skip.intersection(p.relative_to(ROOT).parts)
        ]
    return [ROOT / n for n in names if (ROOT / n).is_file() and (ROOT / n).suffix.lower() not in SKIPPED_SUFFIXES]


CONFIG_SUFFIXES = {".yml", ".yaml", ".env", ".ini", ".cfg", ".toml", ".json", ".conf", ".properties"}


def secrets_in(text: str, suffix: str = ".yml") -> List[str]:
    """Possible secrets in a text. In code (``suffix`` not a config file's),
    only quoted values count: unquoted ones are names, types or expressions."""
    literal_needs_quotes = suffix.lower() not in CONFIG_SUFFIXES
    hits = []
    for name, pattern in SECRET_PATTERNS.items():
        for match in pattern.finditer(text):
            if not FAKE.search(match.group(0)):
                hits.append(f"{name}: {match.group(0)[:12]}…")
    for match in ASSIGNMENT.finditer(text):
        value = match.group("value")
        if literal_needs_quotes and not match.group("quote"):
            continue
        if not FAKE.search(value) and not REFERENCE.search(value):
            hits.append(f"{match.group('name')} = {value[:4]}…")
    return hits


def test_the_scanner_finds_what_it_should():
    """The patterns catch real-looking secrets (built here, never stored whole)."""
    telegram = "1234567890:AA" + "h" * 33
    samples = [
        "-----BEGIN RSA " + "PRIVATE KEY-----",
        f"token = '{telegram}'",
        "AC" + "1f" * 16,
        "AKIA" + "Q" * 16,
        "pass" "word = 'hunter2hunter2'",  # split so that this file itself stays clean
        "pass" "word: hunter2hunter2",
        "HELPLINE_DB_PASS" 'WORD: "Tr0ub4dor&3x"',
        "postgresql://helpline:" + "s3cretpw" + "@db.internal/helpline",
        "EAA" + "B" * 80,
    ]
    for sample in samples:
        assert secrets_in(sample), sample
    for harmless in ['password = "${HELPLINE_DB_PASSWORD}"', 'TWILIO_TOKEN = "test-twilio-auth-token"',
                     "token = settings.rasa_api_token", "password: ${HELPLINE_REDIS_PASSWORD}",
                     'API_TOKEN = "e2e-test-token"', "secret = values[WEBHOOK_SECRET]"]:
        assert not secrets_in(harmless), harmless


def test_no_secret_in_any_tracked_file():
    files = tracked_files()
    assert len(files) > 20, "found too few files to scan"
    hits = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        hits += [f"{path.relative_to(ROOT)}: {hit}" for hit in secrets_in(text, path.suffix)]
    assert hits == [], "possible secrets in the repository:\n" + "\n".join(hits)


def test_credentials_yml_has_no_values():
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
    assert credentials, "credentials.yml lists the channels"
    filled = {channel: value for channel, value in credentials.items() if value not in (None, {}, "")}
    assert filled == {}, f"credentials.yml must hold no values (environment variables only): {sorted(filled)}"


@pytest.mark.parametrize("name", ["endpoints.yml", "endpoints.production.yml"])
def test_endpoint_files_take_every_secret_from_the_environment(name):
    path = ROOT / name
    if not path.exists():
        pytest.skip(f"no {name}")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}

    def leaves(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                yield from leaves(v, str(k))
        elif isinstance(node, list):
            for v in node:
                yield from leaves(v, key)
        else:
            yield key, node

    for key, value in leaves(data):
        if re.search(r"(?i)password|secret|token|key$", key) and key != "key_prefix":
            assert value is None or str(value).startswith("${"), f"{name}: {key} must come from the environment"
