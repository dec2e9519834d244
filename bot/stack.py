"""Starts and stops the bot's processes: action server, Rasa server, web gateway.

Used by ``make run`` / ``make shell`` (through ``bot.cli``), by the end-to-end
tests and by the benchmark, so all of them run exactly the same stack.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from bot.settings import ROOT, Settings

READY_TIMEOUT_SECONDS = 240


def child_environment(
    settings: Settings, extra: Optional[Dict[str, str]] = None, instance: int = 0
) -> Dict[str, str]:
    """Environment of every child process: our package importable, quiet, private."""
    env = dict(os.environ)
    env.update(settings.to_env())
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
            "HELPLINE_ACTION_URL": settings.action_url_for(instance),
            # rasa_sdk binds to SANIC_HOST; keep the action server on loopback.
            "SANIC_HOST": settings.action_host,
            "RASA_TELEMETRY_ENABLED": "false",
            "TICKET_LOCK_LIFETIME": str(settings.lock_lifetime),
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "PYTHONWARNINGS": "ignore",
        }
    )
    env.update(extra or {})
    return env


def action_server_command(settings: Settings, instance: int = 0) -> List[str]:
    return [
        sys.executable, "-m", "rasa_sdk",
        "--actions", "actions",
        "--port", str(settings.action_port + instance),
    ]


def rasa_command(settings: Settings, subcommand: str = "run", instance: int = 0) -> List[str]:
    command = [
        sys.executable, "-m", "bot.rasa_main", subcommand,
        "--model", str(settings.model_path),
        "--endpoints", str(settings.endpoints_file),
    ]
    # loopback for `rasa shell` too: it would otherwise listen on 0.0.0.0:5005
    command += ["--interface", settings.rasa_host, "--port", str(settings.rasa_port + instance)]
    if subcommand == "run":
        command += ["--credentials", str(ROOT / "credentials.yml")]
        if settings.rasa_api_token:
            command += ["--enable-api", "--auth-token", settings.rasa_api_token]
    return command


# The public gateway's own venv, with a current aiohttp (docs/security.md);
# made by `make run` / `make test`. Without it (a bare checkout) Rasa's venv.
GATEWAY_PYTHON = ROOT / ".venv" / "gateway" / "bin" / "python"


def gateway_command(settings: Settings) -> List[str]:
    python = GATEWAY_PYTHON if GATEWAY_PYTHON.exists() else Path(sys.executable)
    return [str(python), "-m", "bot.gateway"]


def retention_command(settings: Settings) -> List[str]:
    return [sys.executable, "-m", "bot.retention", "schedule"]


def instance_name(process: str, instance: int) -> str:
    """'rasa', 'actions' for the first instance; 'rasa-1', 'actions-1' ... after."""
    return process if instance == 0 else f"{process}-{instance}"


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


@dataclass
class Stack:
    """The running processes of one bot instance."""

    settings: Settings
    gateway: bool = True
    log_dir: Optional[Path] = None
    extra_env: Dict[str, str] = field(default_factory=dict)
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict)

    def _spawn(self, name: str, command: List[str], instance: int = 0) -> subprocess.Popen:
        if self.log_dir is None:
            output = None
        else:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            output = open(self.log_dir / f"{name}.log", "ab")
        try:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=child_environment(self.settings, self.extra_env, instance),
                stdout=output,
                stderr=subprocess.STDOUT if output else None,
                start_new_session=True,
            )
        finally:
            if output is not None:
                output.close()  # the child has its own copy
        self.processes[name] = process
        return process

    def start_action_server(self, instance: int = 0) -> None:
        self._spawn(
            instance_name("actions", instance), action_server_command(self.settings, instance), instance
        )

    def start_rasa(self, instance: int = 0) -> None:
        if not self.settings.model_path.exists():
            raise FileNotFoundError(
                f"No trained model at {self.settings.model_path}; run `make train` first"
            )
        self._spawn(instance_name("rasa", instance), rasa_command(self.settings, "run", instance), instance)

    def start_gateway(self) -> None:
        self._spawn("gateway", gateway_command(self.settings))

    def start(self) -> "Stack":
        if self.settings.profile == "production":
            from bot.retention import ensure_database

            ensure_database(self.settings)
        for instance in range(self.settings.rasa_instances):
            self.start_action_server(instance)
            self.start_rasa(instance)
        if self.gateway:
            self.start_gateway()
        if self.settings.profile == "production":
            self._spawn("retention", retention_command(self.settings))
        return self

    def health_urls(self) -> Dict[str, str]:
        s = self.settings
        urls = {}
        for instance in range(s.rasa_instances):
            urls[instance_name("actions", instance)] = (
                f"http://{s.action_host}:{s.action_port + instance}/health"
            )
            urls[instance_name("rasa", instance)] = f"http://{s.rasa_host}:{s.rasa_port + instance}/"
        if self.gateway:
            urls["gateway"] = f"http://{_client_host(s.gateway_host)}:{s.gateway_port}/healthz"
        return urls

    def wait_ready(self, timeout: float = READY_TIMEOUT_SECONDS, names: Optional[List[str]] = None) -> None:
        deadline = time.monotonic() + timeout
        pending = {n: u for n, u in self.health_urls().items() if names is None or n in names}
        while pending:
            for name in list(pending):
                process = self.processes.get(name)
                if process is not None and process.poll() is not None:
                    raise RuntimeError(f"{name} exited with status {process.returncode} while starting")
                if http_ok(pending[name]):
                    del pending[name]
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout:.0f} s: {', '.join(pending)}")
            if pending:
                time.sleep(0.3)

    def stop_process(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def stop(self) -> None:
        """Stop the gateway first, then Rasa, then the action servers."""
        order = ("gateway", "retention", "rasa", "actions")
        for name in sorted(self.processes, key=lambda n: order.index(n.split("-")[0])):
            self.stop_process(name)

    def __enter__(self) -> "Stack":
        """Start everything and wait until it answers (stopped again if it does not)."""
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _client_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
