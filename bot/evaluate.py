"""``make evaluate``: held-out first messages, then situations and conversations.

Reads the frozen test split of tests/heldout/<code>.yml (written apart from
the training data; ``--split dev`` for choosing settings), parses
each message with the trained model in-process, and reports per language:
the language the bot would answer in (our detector) against raw langdetect,
the intent, and whether each emergency answer puts 112 first. Prints the
misses. Then the situations set (``bot/situations.py``): good / unhelpful /
harmful replies, danger-first and language kept, per language, on its frozen
test split; the same for romanised and mixed writing (tests/romanised/);
then language identification on general text (``bot/general_text.py``).
Exits 1 when a bar is not met. The test suite holds the measured floors.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from bot import catalogue, content_checks, general_text, situations
from bot.language import normalise, raw_langdetect
from bot.settings import ROOT

# Bars (issue 3, for the one twenty-language model): overall and per language.
LANGUAGE_OVERALL, LANGUAGE_PER_LANGUAGE = 0.98, 0.90
INTENT_OVERALL, INTENT_PER_LANGUAGE = 0.95, 0.90
# The three foundation languages (issue 2) are held to more, each on its own:
# language >= 98 % and intent >= 95 %, on >= 100 held-out messages apiece.
CORE_LANGUAGES = ("fi", "sv", "en")
# Issue 15's overall bars on the frozen test split (reported by make evaluate;
# the test suite holds the bars above).
TARGET_LANGUAGE, TARGET_INTENT = 0.99, 0.97
CORE_LANGUAGE_BAR, CORE_INTENT_BAR = 0.98, 0.95


def bars(code: str) -> tuple:
    """(language bar, intent bar) for one language."""
    if code in CORE_LANGUAGES:
        return CORE_LANGUAGE_BAR, CORE_INTENT_BAR
    return LANGUAGE_PER_LANGUAGE, INTENT_PER_LANGUAGE


@dataclass
class LanguageScore:
    code: str
    total: int = 0
    language_hits: int = 0
    raw_langdetect_hits: int = 0
    intent_hits: int = 0
    emergencies: int = 0
    emergencies_112_first: int = 0
    misses: List[str] = field(default_factory=list)

    @property
    def language_accuracy(self) -> float:
        return self.language_hits / self.total if self.total else 0.0

    @property
    def raw_langdetect_accuracy(self) -> float:
        return self.raw_langdetect_hits / self.total if self.total else 0.0

    @property
    def intent_accuracy(self) -> float:
        return self.intent_hits / self.total if self.total else 0.0


def answered_language(parse: Dict) -> str:
    """The language the bot answers a first message in (as actions/answer.py)."""
    detection = parse.get("language") or {}
    if detection.get("unsupported"):
        return catalogue.default_language()
    return catalogue.supported(detection.get("code"))


def puts_112_first(language: str) -> bool:
    text = catalogue.reply("emergency", language)
    facts = catalogue.fact_values(language)
    return text.index(facts["emergency"]) < text.index(facts["phone"])


def quiet_rasa_logs() -> None:
    """Rasa in-process logs each parsed text at debug level unless configured:
    keep message text out of the output."""
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)


async def load(model_path: Path):
    from rasa.core.agent import load_agent

    quiet_rasa_logs()
    return await load_agent(model_path=str(model_path))


async def evaluate(
    model_path: Path, codes: Optional[List[str]] = None, agent=None, split: str = "test"
) -> List[LanguageScore]:
    """The held-out first messages of one split: ``test`` (frozen: reported and
    the bars), ``dev`` (for choosing settings) or ``all``."""
    agent = agent or await load(model_path)
    scores = []
    for code in codes or list(catalogue.languages()):
        score = LanguageScore(code)
        for item in content_checks.heldout(code, split):
            text, expected = item["text"], item["intent"]
            parse = await agent.parse_message(text)
            language = answered_language(parse)
            intent = (parse.get("intent") or {}).get("name")
            score.total += 1
            score.language_hits += language == code
            score.raw_langdetect_hits += raw_langdetect(normalise(text)) == code
            score.intent_hits += intent == expected
            if language != code or intent != expected:
                score.misses.append(
                    f"{code}: {text!r}: language {language} (want {code}), intent {intent} (want {expected})"
                )
            if expected == "emergency" and intent == "emergency":
                score.emergencies += 1
                score.emergencies_112_first += puts_112_first(language)
        scores.append(score)
    return scores


def failures(scores: List[LanguageScore]) -> List[str]:
    found = []
    total = sum(s.total for s in scores)
    language_overall = sum(s.language_hits for s in scores) / total
    intent_overall = sum(s.intent_hits for s in scores) / total
    if language_overall < LANGUAGE_OVERALL:
        found.append(f"language accuracy {language_overall:.1%} < {LANGUAGE_OVERALL:.0%} overall")
    if intent_overall < INTENT_OVERALL:
        found.append(f"intent accuracy {intent_overall:.1%} < {INTENT_OVERALL:.0%} overall")
    for s in scores:
        language_bar, intent_bar = bars(s.code)
        if s.language_accuracy < language_bar:
            found.append(f"{s.code}: language accuracy {s.language_accuracy:.1%} < {language_bar:.0%}")
        if s.intent_accuracy < intent_bar:
            found.append(f"{s.code}: intent accuracy {s.intent_accuracy:.1%} < {intent_bar:.0%}")
        if s.emergencies_112_first != s.emergencies:
            found.append(f"{s.code}: an emergency answer does not put 112 first")
    return found


def target_failures(scores: List[LanguageScore]) -> List[str]:
    total = sum(s.total for s in scores) or 1
    language = sum(s.language_hits for s in scores) / total
    intent = sum(s.intent_hits for s in scores) / total
    found = []
    if language < TARGET_LANGUAGE:
        found.append(f"held-out language {language:.1%} < {TARGET_LANGUAGE:.0%} (issue 15)")
    if intent < TARGET_INTENT:
        found.append(f"held-out intent {intent:.1%} < {TARGET_INTENT:.0%} (issue 15)")
    return found


def report(scores: List[LanguageScore]) -> str:
    lines = [
        f"{'lang':<5}{'n':>4}  {'language':>9}  {'raw langdetect':>14}  {'intent':>7}  112-first  bars",
    ]
    for s in scores:
        language_bar, intent_bar = bars(s.code)
        lines.append(
            f"{s.code:<5}{s.total:>4}  {s.language_accuracy:>9.1%}  {s.raw_langdetect_accuracy:>14.1%}"
            f"  {s.intent_accuracy:>7.1%}  {s.emergencies_112_first:>4}/{s.emergencies:<4}"
            f"  {language_bar:.0%}/{intent_bar:.0%}"
        )
    total = sum(s.total for s in scores)
    lines.append(
        f"{'all':<5}{total:>4}  {sum(s.language_hits for s in scores) / total:>9.1%}"
        f"  {sum(s.raw_langdetect_hits for s in scores) / total:>14.1%}"
        f"  {sum(s.intent_hits for s in scores) / total:>7.1%}"
    )
    misses = [m for s in scores for m in s.misses]
    if misses:
        lines.append("\nMisses:")
        lines.extend(f"  {m}" for m in misses)
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "helpline.tar.gz"))
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--split", choices=situations.SPLITS, default="test",
                        help="held-out and situations split (dev: for tuning; test: reported)")
    parser.add_argument("--dump", help="write every situation reply to this JSON file, for readers")
    parser.add_argument("languages", nargs="*", help="codes (default: all)")
    args = parser.parse_args(argv)

    async def both():
        agent = await load(Path(args.model))
        first = await evaluate(Path(args.model), args.languages or None, agent=agent, split=args.split)
        later = await situations.evaluate(agent, args.languages or None, args.split)
        written = await situations.evaluate(
            agent, args.languages or None, args.split, situations.ROMANISED_DIR
        )
        return first, later, written

    scores, situation_scores, romanised_scores = asyncio.run(both())
    print(f"Held-out first messages ({args.split} split)")
    print(report(scores))
    print("\n" + situations.report(situation_scores, args.split))
    romanised_scores = [s for s in romanised_scores if s.turns]
    print("\n" + situations.report(romanised_scores, args.split, "Romanised and mixed writing"))
    general_dir = general_text.DATA_DIR if args.split != "dev" else general_text.DATA_DIR / "dev"
    general_scores = general_text.evaluate(general_text.identifier_from_model(Path(args.model)), general_dir)
    print("\n" + general_text.report(general_scores))
    problems = (
        failures(scores)
        + target_failures(scores)
        + situations.failures(situation_scores)
        + situations.romanised_failures(romanised_scores)
        + general_text.failures(general_scores)
    )
    if args.dump:
        Path(args.dump).write_text(
            json.dumps(situations.dump(situation_scores + romanised_scores), ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps([{**asdict(s), "language_accuracy": s.language_accuracy,
                         "intent_accuracy": s.intent_accuracy,
                         "raw_langdetect_accuracy": s.raw_langdetect_accuracy} for s in scores],
                       ensure_ascii=False, indent=2),
            encoding="utf-8",
        )
    print("\n" + ("\n".join(f"BELOW BAR: {p}" for p in problems) if problems else "All bars met."))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
