"""``make soak``: many simulated people through the web gateway for a long time.

Starts the whole stack (action server, Rasa, gateway: ``bot.stack.Stack``) on
free loopback ports with the gateway's per-client rate limit lifted (every
simulated person comes from 127.0.0.1), then keeps ``--users`` people talking
for ``--minutes``: each one conversation after another, ~8 turns each, from
the held-out messages of every language (``tests/heldout/``), a fresh sender
id per conversation, as the widget sends them (``POST /api/chat``).

Checks EVERY answer: HTTP 200 and a message carrying the phone number, the
e-mail address and 112. Samples the summed resident memory of all the stack's
processes (and their children) every few seconds.

Reports, and writes to bench/results/soak-latest.json: messages sent,
answered, answered with the contacts, errors (by kind), p50/p95/p99 latency,
resident memory after the warm-up (the first 20 % of the time) and at the
end, and the growth between them in percent (the issue's bar: under 10 %).

A report, not a test: it exits 0 whatever the figures, 1 only when the stack
does not start. ``tests/test_soak.py`` runs a short version and asserts what a
person would notice (every message answered, with the contacts).

    python -m bench.soak --users 50 --minutes 10     # the issue's soak
    python -m bench.soak --users 10 --seconds 30     # a quick look
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import aiohttp

from bench.procmem import MemorySampler, _tree, rss_bytes
from bench.run import percentile
from bot import catalogue, content_checks
from bot.settings import ROOT, Settings
from bot.stack import Stack

RESULTS = ROOT / "bench" / "results"
TURNS_PER_CONVERSATION = 8
WARMUP_FRACTION = 0.2
MAX_GROWTH_PERCENT = 10.0  # the bar, reported (not enforced) here
MB = 2**20


class MemoryTimeline(MemorySampler):
    """bench.procmem's sampler, keeping every sample (seconds since start, bytes)
    and each process tree's share at the last sample."""

    def __init__(self, roots: Dict[str, int], interval: float) -> None:
        super().__init__(roots.values(), interval)
        self.named_roots = dict(roots)
        self.samples: List[Tuple[float, int]] = []
        self.last_by_process: Dict[str, int] = {}
        self._started = time.monotonic()

    def _run(self) -> None:
        while not self._stop.is_set():
            by_process = {
                name: sum(rss_bytes(pid) for pid in _tree([root]))
                for name, root in self.named_roots.items()
            }
            total = sum(by_process.values())
            self.samples.append((round(time.monotonic() - self._started, 2), total))
            self.last_by_process = by_process
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)


def conversations() -> Dict[str, List[str]]:
    """Each supported language's held-out messages."""
    return {code: [m["text"] for m in content_checks.heldout(code)] for code in catalogue.languages()}


def has_contacts(body: Any) -> bool:
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return False
    facts = catalogue.fact_values(catalogue.supported(body.get("language")))
    return any(
        isinstance(m, dict)
        and isinstance(m.get("text"), str)
        and all(facts[name] in m["text"] for name in ("phone", "email", "emergency"))
        for m in body["messages"]
    )


async def drive(url: str, users: int, seconds: float, seed: int = 0) -> Dict[str, Any]:
    """``users`` people talking until ``seconds`` have passed; every answer checked."""
    pools = conversations()
    languages = list(pools)
    rng = random.Random(seed)
    latencies: List[float] = []
    outcome: Counter = Counter()
    by_language: Counter = Counter()
    deadline = time.monotonic() + seconds

    async def person(session: aiohttp.ClientSession, index: int) -> None:
        local = random.Random(rng.random())
        turn = 0
        while time.monotonic() < deadline:
            # every language in turn across the people, so all are exercised
            language = languages[(index + turn) % len(languages)]
            pool = pools[language]
            sender = f"soak-{uuid.uuid4().hex[:16]}"
            for text in local.sample(pool, min(TURNS_PER_CONVERSATION, len(pool))):
                if time.monotonic() >= deadline:
                    return
                started = time.perf_counter()
                try:
                    async with session.post(url, json={"sender": sender, "message": text}) as response:
                        body = await response.json(content_type=None)
                        status = response.status
                except asyncio.TimeoutError:
                    status, body = "timeout", None
                except (aiohttp.ClientError, ValueError) as problem:
                    status, body = type(problem).__name__, None
                latencies.append(time.perf_counter() - started)
                outcome["messages"] += 1
                by_language[language] += 1
                if status == 200:
                    outcome["answered"] += 1
                    outcome["answered_with_contacts"] += has_contacts(body)
                else:
                    outcome[f"error:{status}"] += 1
                    outcome["errors_with_contacts"] += has_contacts(body)
            turn += 1

    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=users)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(person(session, i) for i in range(users)))
        elapsed = time.perf_counter() - started
    errors = {k.split(":", 1)[1]: v for k, v in outcome.items() if k.startswith("error:")}
    return {
        "messages": outcome["messages"],
        "answered": outcome["answered"],
        "answered_with_contacts": outcome["answered_with_contacts"],
        "errors": sum(errors.values()),
        "errors_by_kind": errors,
        "errors_with_contacts": outcome["errors_with_contacts"],
        "languages": dict(sorted(by_language.items())),
        "seconds": round(elapsed, 1),
        "throughput_per_second": round(outcome["messages"] / elapsed, 2) if elapsed else 0.0,
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "max_ms": round(max(latencies, default=0.0) * 1000, 1),
    }


def memory_report(samples: List[Tuple[float, int]], seconds: float, warmup_fraction: float) -> Dict[str, Any]:
    """RSS after the warm-up and at the end, and the growth between them."""
    if not samples:
        return {"samples": 0}
    warm_at = seconds * warmup_fraction
    after = [s for s in samples if s[0] >= warm_at] or samples[-1:]
    warm, end = after[0][1], samples[-1][1]
    growth = (end - warm) / warm * 100 if warm else float("nan")
    # a least-squares slope after the warm-up: steady growth shows here even
    # when the first and last samples happen to be noisy
    slope = 0.0
    if len(after) >= 3:
        n = len(after)
        mean_t = sum(t for t, _ in after) / n
        mean_r = sum(r for _, r in after) / n
        var = sum((t - mean_t) ** 2 for t, _ in after)
        if var:
            slope = sum((t - mean_t) * (r - mean_r) for t, r in after) / var
    return {
        "samples": len(samples),
        "warmup_seconds": round(warm_at, 1),
        "rss_after_warmup_mb": round(warm / MB, 1),
        "rss_end_mb": round(end / MB, 1),
        "rss_peak_mb": round(max(r for _, r in samples) / MB, 1),
        "growth_percent": round(growth, 2),
        "growth_under_bar": growth < MAX_GROWTH_PERCENT,
        "slope_mb_per_minute": round(slope * 60 / MB, 2),
        "timeline_mb": [[t, round(r / MB, 1)] for t, r in samples],
    }


def run_soak(
    users: int,
    seconds: float,
    sample_interval: Optional[float] = None,
    warmup_fraction: float = WARMUP_FRACTION,
    log_dir: Optional[Path] = None,
    model_path: Optional[Path] = None,
) -> Dict[str, Any]:
    """Start the stack, drive it, stop it; the report as a dict.

    Raises (RuntimeError / TimeoutError / FileNotFoundError) only when the
    stack cannot be started.
    """
    from bench.run import free_port

    interval = sample_interval or max(0.5, min(5.0, seconds / 20))
    settings = Settings(
        rasa_port=free_port(), action_port=free_port(), gateway_port=free_port(),
        rate_limit_per_minute=10**9,
        **({"model_path": model_path} if model_path else {}),
    )
    with tempfile.TemporaryDirectory(prefix="helpline-soak-") as tmp:
        stack = Stack(settings, log_dir=log_dir or Path(tmp))
        launched = time.monotonic()
        stack.start()
        try:
            stack.wait_ready()
            ready_seconds = time.monotonic() - launched
            roots = {name: process.pid for name, process in stack.processes.items()}
            timeline = MemoryTimeline(roots, interval)
            timeline.start()
            try:
                url = f"http://127.0.0.1:{settings.gateway_port}/api/chat"
                traffic = asyncio.run(drive(url, users, seconds))
            finally:
                timeline.stop()
            alive = {name: process.poll() is None for name, process in stack.processes.items()}
        finally:
            stack.stop()
    memory = memory_report(timeline.samples, seconds, warmup_fraction)
    memory["end_by_process_mb"] = {k: round(v / MB, 1) for k, v in timeline.last_by_process.items()}
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "users": users,
        "planned_seconds": seconds,
        "start_seconds": round(ready_seconds, 1),
        "processes_alive_at_end": alive,
        **traffic,
        "memory": memory,
    }


def summary(report: Dict[str, Any]) -> str:
    memory = report["memory"]
    lines = [
        f"soak: {report['users']} users for {report['seconds']} s ({report['throughput_per_second']} messages/s)",
        f"  messages                {report['messages']}",
        f"  answered                {report['answered']}",
        f"  answered with contacts  {report['answered_with_contacts']}",
        f"  errors                  {report['errors']} {report['errors_by_kind'] or ''}".rstrip(),
        f"  latency p50 / p95 / p99 {report['p50_ms']} / {report['p95_ms']} / {report['p99_ms']} ms",
    ]
    if memory.get("samples"):
        lines += [
            f"  RSS after warm-up       {memory['rss_after_warmup_mb']} MB (at {memory['warmup_seconds']} s)",
            f"  RSS at the end          {memory['rss_end_mb']} MB (peak {memory['rss_peak_mb']} MB)",
            f"  growth                  {memory['growth_percent']} % "
            f"({'under' if memory['growth_under_bar'] else 'OVER'} the {MAX_GROWTH_PERCENT:.0f} % bar; "
            f"slope {memory['slope_mb_per_minute']} MB/min)",
        ]
    dead = [name for name, alive in report["processes_alive_at_end"].items() if not alive]
    lines.append(f"  processes alive         {'all' if not dead else 'NOT ' + ', '.join(dead)}")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50, help="simulated people at once (default 50)")
    parser.add_argument("--minutes", type=float, default=10.0, help="how long (default 10)")
    parser.add_argument("--seconds", type=float, default=None, help="how long, in seconds (overrides --minutes)")
    parser.add_argument("--interval", type=float, default=None, help="seconds between memory samples (default 5)")
    parser.add_argument("--out", type=Path, default=RESULTS / "soak-latest.json", help="where the JSON report goes")
    args = parser.parse_args(argv)
    seconds = args.seconds if args.seconds is not None else args.minutes * 60
    print(f"soak: starting the stack, then {args.users} users for {seconds:.0f} s ...", flush=True)
    try:
        report = run_soak(args.users, seconds, args.interval)
    except (RuntimeError, TimeoutError, FileNotFoundError, OSError) as problem:
        print(f"soak: the stack did not start: {problem}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(summary(report))
    print(f"Wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
