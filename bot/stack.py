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


def child_environment(settings: Settings, extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """Environment of every child process: our package importable, quiet, private."""
    env = dict(os.environ)
    env.update(settings.to_env())
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
            "HELPLINE_ACTION_URL": settings.action_url,
            # rasa_sdk binds to SANIC_HOST; keep the action server on loopback.
            "SANIC_HOST": settings.action_host,
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "PYTHONWARNINGS": "ignore",
        }
    )
    env.update(extra or {})
    return env


def action_server_command(settings: Settings) -> List[str]:
    return [
        sys.executable, "-m", "rasa_sdk",
        "--actions", "actions",
        "--port", str(settings.action_port),
    ]


def rasa_command(settings: Settings, subcommand: str = "run") -> List[str]:
    command = [
        sys.executable, "-m", "rasa", subcommand,
        "--model", str(settings.model_path),
        "--endpoints", str(ROOT / "endpoints.yml"),
    ]
    if subcommand == "run":
        command += [
            "--interface", settings.rasa_host,
            "--port", str(settings.rasa_port),
            "--credentials", str(ROOT / "credentials.yml"),
        ]
        if settings.rasa_api_token:
            command += ["--enable-api", "--auth-token", settings.rasa_api_token]
    return command


def gateway_command(settings: Settings) -> List[str]:
    return [sys.executable, "-m", "bot.gateway"]


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

    def _spawn(self, name: str, command: List[str]) -> subprocess.Popen:
        if self.log_dir is None:
            output = None
        else:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            output = open(self.log_dir / f"{name}.log", "ab")
        try:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=child_environment(self.settings, self.extra_env),
                stdout=output,
                stderr=subprocess.STDOUT if output else None,
                start_new_session=True,
            )
        finally:
            if output is not None:
                output.close()  # the child has its own copy
        self.processes[name] = process
        return process

    def start_action_server(self) -> None:
        self._spawn("actions", action_server_command(self.settings))

    def start_rasa(self) -> None:
        if not self.settings.model_path.exists():
            raise FileNotFoundError(
                f"No trained model at {self.settings.model_path}; run `make train` first"
            )
        self._spawn("rasa", rasa_command(self.settings))

    def start_gateway(self) -> None:
        self._spawn("gateway", gateway_command(self.settings))

    def start(self) -> "Stack":
        self.start_action_server()
        self.start_rasa()
        if self.gateway:
            self.start_gateway()
        return self

    def health_urls(self) -> Dict[str, str]:
        s = self.settings
        urls = {
            "actions": f"http://{s.action_host}:{s.action_port}/health",
            "rasa": f"{s.rasa_url}/",
        }
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
        for name in ("gateway", "rasa", "actions"):
            self.stop_process(name)

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _client_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
