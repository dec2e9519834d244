"""The embedded run keeps conversations in memory only: a conversation leaves
no file behind, in the project or in the home directory."""
import os
import time
import uuid
from pathlib import Path

import pytest

from bot.settings import ROOT, Settings
from bot.stack import Stack
from tests.conftest import MODEL, contacts_in
from tests.e2e.conftest import free_port, post_json

pytestmark = pytest.mark.e2e

SKIP = {".venv", ".git", "node_modules", ".pytest_cache", "__pycache__", "results", "artifacts"}


def files_under(root: Path) -> dict:
    found = {}
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = [d for d in subdirectories if d not in SKIP]
        for name in names:
            path = Path(directory) / name
            try:
                found[path] = path.stat().st_mtime_ns
            except OSError:
                pass
    return found


def test_a_conversation_writes_nothing_to_disk(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    settings = Settings(rasa_port=free_port(), action_port=free_port(), gateway_port=free_port(), model_path=MODEL)
    stack = Stack(settings, extra_env={"HOME": str(home)})  # logs to the terminal, as `make run`
    stack.start()
    try:
        stack.wait_ready()
        before = files_under(ROOT)
        secret = f"my name is Quentin Zyx {uuid.uuid4().hex}"
        url = f"http://127.0.0.1:{settings.gateway_port}/api/chat"
        for text in (secret, "mitä on ihmiskauppa", "kiitos"):
            body = post_json(url, {"sender": f"privacy-{uuid.uuid4().hex[:12]}", "message": text})
            assert contacts_in("\n".join(m["text"] for m in body["messages"]), body["language"])
        time.sleep(1)
        after = files_under(ROOT)
    finally:
        stack.stop()
    changed = [str(p) for p, mtime in after.items() if before.get(p) != mtime]
    assert changed == [], f"files written during a conversation: {changed}"
    leftovers = [p for p in home.rglob("*") if p.is_file()]
    for path in leftovers:  # Rasa may keep its (telemetry-off) settings here, never a conversation
        assert "Quentin" not in path.read_text(errors="replace"), path
