"""Command line for people: ``python -m bot.cli run|shell`` (``make run``, ``make shell``)."""
from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time

from bot.settings import Settings, SettingError
from bot.stack import Stack, child_environment, rasa_command
from bot.settings import ROOT


def run(settings: Settings) -> int:
    stack = Stack(settings)
    print("Starting the action server, Rasa (loading the model) and the web gateway ...", flush=True)
    started = time.monotonic()
    stack.start()
    try:
        stack.wait_ready()
        gateway = f"http://{settings.gateway_host}:{settings.gateway_port}"
        print(
            f"\nReady in {time.monotonic() - started:.0f} s.\n"
            f"  Chat in a browser:  {gateway}/\n"
            f"  Or from a terminal: curl -s -XPOST {gateway}/api/chat "
            "-H 'Content-Type: application/json' "
            "-d '{\"sender\": \"demo-user-1\", \"message\": \"mitä on ihmiskauppa?\"}'\n"
            f"  Rasa's REST channel (loopback): {settings.rasa_url}/webhooks/rest/webhook\n"
            "  Staff terminal: make shell\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        while all(p.poll() is None for p in stack.processes.values()):
            time.sleep(0.5)
        dead = [n for n, p in stack.processes.items() if p.poll() is not None]
        print(f"Stopped: {', '.join(dead)} exited.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping ...", flush=True)
        return 0
    finally:
        stack.stop()


def shell(settings: Settings) -> int:
    """``rasa shell`` for staff, with the action server running beside it."""
    stack = Stack(settings, gateway=False)
    stack.start_action_server()
    try:
        stack.wait_ready(names=["actions"])
        command = rasa_command(settings, "shell")
        return subprocess.call(command, cwd=ROOT, env=child_environment(settings))
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()


def messaging_channels_on() -> list:
    """The messaging channels whose variables are set (raises on a half-set one)."""
    from bot.channels.messenger import MessengerSettings
    from bot.channels.telegram import TelegramSettings
    from bot.channels.whatsapp import TwilioSettings

    channels = {"Telegram": TelegramSettings, "WhatsApp": TwilioSettings, "Messenger": MessengerSettings}
    return [name for name, settings in channels.items() if settings.from_env() is not None]


def main(argv=None) -> int:
    from bot.channels.rendering import ChannelSettingError

    parser = argparse.ArgumentParser(prog="python -m bot.cli", description=__doc__)
    parser.add_argument("command", choices=["run", "shell"])
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        channels = messaging_channels_on()
    except (SettingError, ChannelSettingError) as problem:
        print(f"Setting error: {problem}", file=sys.stderr)
        return 2
    if channels:
        print(f"Messaging channels on: {', '.join(channels)} (webhooks: docs/channels.md)")
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    return {"run": run, "shell": shell}[args.command](settings)


if __name__ == "__main__":
    raise SystemExit(main())
