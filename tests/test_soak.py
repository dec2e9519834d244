"""A short soak (bench/soak.py): 10 people for about 20 s through the gateway.

Asserts what a person would notice: every message answered, every answer with
the phone number, the e-mail address and 112, no error, no process gone. No
timing or memory bar here (a shared CI machine is not a benchmark): the full
run, ``python -m bench.soak --users 50 --minutes 10``, reports those.
"""
import pytest

from bench.soak import run_soak, summary
from bot import catalogue
from tests.conftest import MODEL

pytestmark = pytest.mark.e2e


def test_a_short_soak_answers_every_message_with_the_contacts(tmp_path):
    if not MODEL.exists():
        pytest.fail(f"No trained model at {MODEL}: run `make train`")
    report = run_soak(users=10, seconds=20, log_dir=tmp_path, model_path=MODEL)
    print(summary(report))
    assert report["messages"] > 100, "the soak hardly ran"
    assert report["errors"] == 0, report["errors_by_kind"]
    assert report["answered"] == report["messages"]
    assert report["answered_with_contacts"] == report["messages"]
    assert set(report["languages"]) == set(catalogue.languages()), "every language talked"
    assert all(report["processes_alive_at_end"].values()), report["processes_alive_at_end"]
