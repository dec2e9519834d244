"""``make bench``: our stack against the stock ``rasa init`` assistant, in one run.

For each system: training time, cold start (launch to the first answered
message), then simulated users over loopback at several concurrency levels
(each user a conversation of about 8 turns in one of our languages, fresh
sender ids): p50/p95/p99 latency, throughput, errors, peak resident memory of
all the system's processes. Then NLU alone, in-process: parse latency of our
trained model and language detection time per message.

Writes bench/results/<time>.json, bench/results/latest.json and
bench/results/latency.png. A benchmark, not a test: it asserts nothing.

    python -m bench.run                 # the full run (levels 1, 20, 50; 2000 turns each)
    python -m bench.run --tiny          # a quick run that keeps the benchmark working (CI)
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import aiohttp

from bench.procmem import MemorySampler
from bot import catalogue, content_checks
from bot.settings import ROOT, Settings
from bot.stack import Stack, child_environment

RESULTS = ROOT / "bench" / "results"
TURNS_PER_CONVERSATION = 8

# `rasa init`'s default pipeline and policies (what Rasa 3.6 picks when the
# config leaves them empty), with the epochs made small for --tiny only.
STOCK_TINY_CONFIG = """
recipe: default.v1
assistant_id: stock_tiny
language: en
pipeline:
  - name: WhitespaceTokenizer
  - name: RegexFeaturizer
  - name: LexicalSyntacticFeaturizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: DIETClassifier
    epochs: 1
  - name: EntitySynonymMapper
  - name: ResponseSelector
    epochs: 1
  - name: FallbackClassifier
    threshold: 0.3
policies:
  - name: MemoizationPolicy
  - name: RulePolicy
  - name: UnexpecTEDIntentPolicy
    max_history: 5
    epochs: 1
  - name: TEDPolicy
    max_history: 5
    epochs: 1
"""


@dataclass
class LevelResult:
    users: int
    turns: int
    errors: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    throughput: float


@dataclass
class SystemResult:
    name: str
    training_seconds: float = 0.0
    cold_start_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    levels: List[LevelResult] = field(default_factory=list)


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def conversations() -> List[List[str]]:
    """One message list per language: its held-out messages, in a fixed order."""
    result = []
    for code in catalogue.languages():
        texts = [m["text"] for m in content_checks.heldout(code)]
        result.append(texts)
    return result


def body(sender: str, text: str) -> dict:
    """One message, as both the gateway and Rasa's REST channel take it."""
    return {"sender": sender, "message": text}


async def drive(
    url: str,
    users: int,
    total_turns: int,
    seed: int = 0,
) -> LevelResult:
    """``users`` simulated people, each talking conversations of ~8 turns."""
    pools = conversations()
    rng = random.Random(seed)
    latencies: List[float] = []
    errors = 0
    remaining = total_turns
    lock = asyncio.Lock()

    async def take() -> bool:
        nonlocal remaining
        async with lock:
            if remaining <= 0:
                return False
            remaining -= 1
            return True

    async def user(session: aiohttp.ClientSession, index: int) -> None:
        nonlocal errors
        local = random.Random(rng.random())
        while True:
            pool = local.choice(pools)
            sender = f"bench-{uuid.uuid4().hex[:16]}"
            for text in local.sample(pool, min(TURNS_PER_CONVERSATION, len(pool))):
                if not await take():
                    return
                started = time.perf_counter()
                try:
                    async with session.post(url, json=body(sender, text)) as response:
                        await response.read()
                        ok = response.status == 200
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    ok = False
                latencies.append(time.perf_counter() - started)
                errors += not ok

    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=users)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(user(session, i) for i in range(users)))
        seconds = time.perf_counter() - started
    return LevelResult(
        users=users,
        turns=len(latencies),
        errors=errors,
        seconds=round(seconds, 2),
        p50_ms=round(percentile(latencies, 50) * 1000, 1),
        p95_ms=round(percentile(latencies, 95) * 1000, 1),
        p99_ms=round(percentile(latencies, 99) * 1000, 1),
        throughput=round(len(latencies) / seconds, 2),
    )


def wait_for_answer(url: str, body: dict, deadline: float) -> None:
    """Until the server answers 200 with JSON. An empty list counts: Rasa's REST
    channel says nothing when its model predicts no utterance (the tiny stock
    model does for "hello"); our gateway answers 503 until Rasa is up."""
    import urllib.request

    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(
                url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 200:
                    json.load(response)
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"no answer from {url}")


def measure(result: SystemResult, url: str, greeting: str, launched: float,
            levels: List[int], turns: int) -> None:
    """Cold start (launch to the first answer) and each load level, into ``result``."""
    label = result.name.split()[0]
    print(f"{label}: starting ...", flush=True)
    wait_for_answer(url, body("bench-cold-start", greeting), launched + 300)
    result.cold_start_seconds = round(time.monotonic() - launched, 2)
    for users in levels:
        print(f"{label}: {users} users ...", flush=True)
        result.levels.append(asyncio.run(drive(url, users, turns)))


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def train_ours(work: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "rasa", "train", "--out", str(work), "--fixed-model-name", "bench", "--force"],
        cwd=ROOT, env=child_environment(Settings()), check=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def bench_ours(levels: List[int], turns: int, work: Path) -> SystemResult:
    result = SystemResult("ours")
    print("ours: training ...", flush=True)
    result.training_seconds = round(train_ours(work), 1)
    settings = Settings(
        rasa_port=free_port(), action_port=free_port(), gateway_port=free_port(),
        model_path=work / "bench.tar.gz", rate_limit_per_minute=10**9,
    )
    stack = Stack(settings, log_dir=work / "logs-ours")
    url = f"http://127.0.0.1:{settings.gateway_port}/api/chat"
    launched = time.monotonic()
    stack.start()
    sampler = MemorySampler([p.pid for p in stack.processes.values()])
    sampler.start()
    try:
        measure(result, url, "hei", launched, levels, turns)
    finally:
        result.peak_rss_mb = round(sampler.stop() / 2**20, 1)
        stack.stop()
    return result


def bench_stock(levels: List[int], turns: int, work: Path, tiny: bool) -> SystemResult:
    result = SystemResult("stock rasa init")
    project = work / "stock"
    env = child_environment(Settings())
    # exactly the project `rasa init` writes (its scaffold), without the
    # training `rasa init` starts: the training below is the one timed
    import rasa.cli.scaffold

    scaffold = Path(rasa.cli.scaffold.__file__).parent / "initial_project"
    shutil.copytree(scaffold, project)
    if tiny:
        (project / "config.yml").write_text(STOCK_TINY_CONFIG, encoding="utf-8")
    shutil.rmtree(project / "models", ignore_errors=True)
    print("stock: training ...", flush=True)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "rasa", "train", "--fixed-model-name", "stock"],
        cwd=project, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    result.training_seconds = round(time.perf_counter() - started, 1)
    port = free_port()
    log = open(work / "stock-rasa.log", "ab")
    launched = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "rasa", "run", "--model", "models/stock.tar.gz",
         "--interface", "127.0.0.1", "--port", str(port)],
        cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    log.close()
    sampler = MemorySampler([process.pid])
    sampler.start()
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    try:
        measure(result, url, "hello", launched, levels, turns)
    finally:
        result.peak_rss_mb = round(sampler.stop() / 2**20, 1)
        os.killpg(process.pid, 15)
        process.wait(timeout=30)
    return result


def per_message_seconds(handle, texts: List[str], repeats: int) -> List[float]:
    """The time ``handle(text)`` takes, for each text, ``repeats`` times over."""
    timings = []
    for _ in range(repeats):
        for text in texts:
            started = time.perf_counter()
            handle(text)
            timings.append(time.perf_counter() - started)
    return timings


def detector_memory(model: Path) -> Dict[str, float]:
    """What the language detector adds to a Rasa process, read from the model
    as the component reads it, each figure in a fresh process
    (bench/detector_memory.py)."""
    figures: Dict[str, float] = {}
    for extra in ([], ["--traced"]):
        done = subprocess.run(
            [sys.executable, "-m", "bench.detector_memory", str(model), *extra],
            capture_output=True, text=True, check=True, cwd=ROOT,
        )
        figures.update(json.loads(done.stdout.strip().splitlines()[-1]))
    return {f"language_detection_{name}": value for name, value in figures.items()}


def bench_nlu(model: Path, repeats: int) -> Dict[str, float]:
    """In-process parse latency of our model (all layers), and language detection
    and the danger layer alone per message."""
    from rasa.core.agent import load_agent

    from bot.evaluate import quiet_rasa_logs
    from bot.general_text import identifier_from_model

    quiet_rasa_logs()
    texts = [t for pool in conversations() for t in pool]

    async def parse_all() -> List[float]:
        agent = await load_agent(model_path=str(model))
        for text in texts[:50]:  # warm up
            await agent.parse_message(text)
        timings = []
        for _ in range(repeats):
            for text in texts:
                started = time.perf_counter()
                await agent.parse_message(text)
                timings.append(time.perf_counter() - started)
        return timings

    parse = asyncio.run(parse_all())
    # the detector as the component holds it: read from the model
    identifier = identifier_from_model(model)
    for text in texts:
        identifier.identify(text)
    detection = per_message_seconds(identifier.identify, texts, repeats)
    # the danger layer (issue 12) as the component holds it, trained the same way
    from bot import danger

    examples = [
        (t, intent)
        for code in catalogue.languages()
        for intent, ex in content_checks.training_examples(code).items()
        for t in ex
    ]
    positives, negatives, patterns = danger.training_sets(examples, danger.all_data())
    danger_model = danger.DangerModel.train(positives, negatives, patterns, threshold=0.5)
    danger_times = per_message_seconds(danger_model.assess, texts, repeats)
    # redaction of what is stored (issue 13), per message: the benchmark's
    # messages and the labelled ones full of numbers and addresses (tests/pii)
    import yaml

    from bot import redact

    stored = list(texts) + [
        m["text"]
        for path in sorted((ROOT / "tests" / "pii").glob("*.yml"))
        for m in yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]
    ]
    redaction_times = per_message_seconds(redact.redact, stored, repeats)
    return {
        "messages": len(texts),
        "redaction_p50_ms": round(percentile(redaction_times, 50) * 1000, 3),
        "redaction_p99_ms": round(percentile(redaction_times, 99) * 1000, 3),
        "danger_mean_ms": round(statistics.mean(danger_times) * 1000, 3),
        "danger_p99_ms": round(percentile(danger_times, 99) * 1000, 3),
        "parse_p50_ms": round(percentile(parse, 50) * 1000, 2),
        "parse_p99_ms": round(percentile(parse, 99) * 1000, 2),
        "language_detection_mean_ms": round(statistics.mean(detection) * 1000, 3),
        "language_detection_p50_ms": round(percentile(detection, 50) * 1000, 3),
        **detector_memory(model),
        "language_detection_p99_ms": round(percentile(detection, 99) * 1000, 3),
    }


def ratios(ours: SystemResult, stock: SystemResult, at_users: int) -> Dict[str, float]:
    def level(system: SystemResult) -> Optional[LevelResult]:
        return next((l for l in system.levels if l.users == at_users), None)

    o, s = level(ours), level(stock)
    figures = {
        "cold_start": ours.cold_start_seconds / stock.cold_start_seconds,
        "peak_memory": ours.peak_rss_mb / stock.peak_rss_mb,
        "training_time": ours.training_seconds / stock.training_seconds,
    }
    if o and s:
        figures.update(
            {
                f"p50_at_{at_users}": o.p50_ms / s.p50_ms,
                f"p95_at_{at_users}": o.p95_ms / s.p95_ms,
                f"p99_at_{at_users}": o.p99_ms / s.p99_ms,
                f"throughput_at_{at_users}": o.throughput / s.throughput,
            }
        )
    return {k: round(v, 3) for k, v in figures.items()}


def plot(results: List[SystemResult], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.5))
    for system in results:
        users = [l.users for l in system.levels]
        axis.plot(users, [l.p50_ms for l in system.levels], marker="o", label=f"{system.name} p50")
        axis.plot(users, [l.p95_ms for l in system.levels], marker="s", linestyle="--", label=f"{system.name} p95")
    axis.set_xlabel("concurrent users")
    axis.set_ylabel("latency per turn (ms)")
    axis.set_yscale("log")
    axis.set_title("Latency against concurrency (loopback, one machine)")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(target, dpi=110)
    plt.close(figure)


def table(report: dict) -> str:
    """The README table (Markdown)."""
    ours, stock = report["ours"], report["stock"]
    lines = ["| figure | ours | stock `rasa init` | ours / stock |", "| --- | ---: | ---: | ---: |"]
    at = report["compare_at_users"]
    o = next((l for l in ours["levels"] if l["users"] == at), None)
    s = next((l for l in stock["levels"] if l["users"] == at), None)
    r = report["ratios"]
    if o and s:
        lines += [
            f"| p50 at {at} users (ms) | {o['p50_ms']} | {s['p50_ms']} | {r[f'p50_at_{at}']} |",
            f"| p95 at {at} users (ms) | {o['p95_ms']} | {s['p95_ms']} | {r[f'p95_at_{at}']} |",
            f"| p99 at {at} users (ms) | {o['p99_ms']} | {s['p99_ms']} | {r[f'p99_at_{at}']} |",
            f"| throughput at {at} users (turns/s) | {o['throughput']} | {s['throughput']} | {r[f'throughput_at_{at}']} |",
        ]
    lines += [
        f"| peak memory, all processes (MB) | {ours['peak_rss_mb']} | {stock['peak_rss_mb']} | {r['peak_memory']} |",
        f"| cold start (s) | {ours['cold_start_seconds']} | {stock['cold_start_seconds']} | {r['cold_start']} |",
        f"| training (s) | {ours['training_seconds']} | {stock['training_seconds']} | {r['training_time']} |",
        f"| errors (all levels) | {sum(l['errors'] for l in ours['levels'])} | {sum(l['errors'] for l in stock['levels'])} | |",
    ]
    nlu = report["nlu"]
    lines.append(
        f"\nNLU in-process: parse p50 {nlu['parse_p50_ms']} ms, p99 {nlu['parse_p99_ms']} ms; "
        f"language detection {nlu.get('language_detection_p50_ms')} ms per message (p50), "
        f"{nlu['language_detection_mean_ms']} ms (mean), {nlu['language_detection_p99_ms']} ms (p99); "
        f"the detector adds {nlu.get('language_detection_rss_growth_mb')} MB to a process "
        f"({nlu.get('language_detection_retained_mb')} MB retained; issue 15: <= 100 MB); "
        f"danger layer {nlu.get('danger_mean_ms')} ms (mean), {nlu.get('danger_p99_ms')} ms (p99); "
        f"redaction of stored text {nlu.get('redaction_p50_ms')} ms (p50), {nlu.get('redaction_p99_ms')} ms (p99)."
    )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a few turns, tiny stock training (CI)")
    parser.add_argument("--levels", default=None, help="comma-separated user counts (default 1,20,50)")
    parser.add_argument("--turns", type=int, default=None, help="turns per level (default 2000)")
    parser.add_argument("--skip-stock", action="store_true", help="measure only our stack")
    args = parser.parse_args(argv)
    levels = [int(x) for x in (args.levels or ("1,2" if args.tiny else "1,20,50")).split(",")]
    turns = args.turns or (20 if args.tiny else 2000)
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="helpline-bench-") as tmp:
        work = Path(tmp)
        ours = bench_ours(levels, turns, work)
        nlu = bench_nlu(work / "bench.tar.gz", repeats=1 if args.tiny else 5)
        stock = None if args.skip_stock else bench_stock(levels, turns, work, args.tiny)
    compare_at = 20 if 20 in levels else levels[-1]
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "tiny": args.tiny,
        "machine": {"cores": os.cpu_count()},
        "turns_per_level": turns,
        "compare_at_users": compare_at,
        "ours": asdict(ours),
        "stock": asdict(stock) if stock else None,
        "ratios": ratios(ours, stock, compare_at) if stock else None,
        "nlu": nlu,
    }
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for name in (f"{stamp}.json", "latest.json"):
        (RESULTS / name).write_text(json.dumps(report, indent=2), encoding="utf-8")
    plot([ours] + ([stock] if stock else []), RESULTS / "latency.png")
    print(json.dumps(report, indent=2))
    if stock:
        print("\n" + table(report))
    print(f"\nWrote {RESULTS / 'latest.json'} and {RESULTS / 'latency.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
