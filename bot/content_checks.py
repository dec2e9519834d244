"""Checks that each language's content is complete (used by tests and scripts)."""
from __future__ import annotations

import unicodedata
from typing import Dict, Iterable, List, Optional

import yaml

from bot import catalogue

ROOT = catalogue.PACKAGE_DIR.parent
NLU_DIR = ROOT / "data" / "nlu"
HELDOUT_DIR = ROOT / "tests" / "heldout"
STORIES_DIR = ROOT / "tests" / "stories"
MIN_EXAMPLES_PER_INTENT = 8


def domain_intents() -> List[str]:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["intents"]


def canonical(text: str) -> str:
    """Text compared for duplicates: lower case, punctuation and spaces folded
    (combining marks kept: they are vowels in Thai, Devanagari and Arabic)."""
    kept = (c if unicodedata.category(c)[0] in "LMN" else " " for c in text.lower())
    return " ".join("".join(kept).split())


def training_examples(code: str) -> Dict[str, List[str]]:
    """intent -> example texts of data/nlu/<code>.yml."""
    data = yaml.safe_load((NLU_DIR / f"{code}.yml").read_text(encoding="utf-8"))
    examples: Dict[str, List[str]] = {}
    for block in data.get("nlu", []):
        if "intent" not in block:
            continue
        lines = [
            line.strip()[2:].strip()
            for line in block["examples"].splitlines()
            if line.strip().startswith("- ")
        ]
        examples.setdefault(block["intent"], []).extend(lines)
    return examples


def heldout(code: str) -> List[dict]:
    path = HELDOUT_DIR / f"{code}.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]


def nlu_problems(code: str) -> List[str]:
    path = NLU_DIR / f"{code}.yml"
    if not path.exists():
        return [f"{code}: no {path.relative_to(ROOT)}"]
    found = []
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for block in data.get("nlu", []):
        if "intent" in block:
            tagged = ((block.get("metadata") or {}).get("language"))
            if tagged != code:
                found.append(f"{code}: intent {block['intent']} has metadata language {tagged!r}")
    examples = training_examples(code)
    for intent in domain_intents():
        count = len(examples.get(intent, []))
        if count < MIN_EXAMPLES_PER_INTENT:
            found.append(f"{code}: intent {intent} has {count} examples (< {MIN_EXAMPLES_PER_INTENT})")
    for intent in set(examples) - set(domain_intents()):
        found.append(f"{code}: intent {intent} is not in domain.yml")
    return found


def heldout_problems(code: str) -> List[str]:
    path = HELDOUT_DIR / f"{code}.yml"
    if not path.exists():
        return [f"{code}: no {path.relative_to(ROOT)}"]
    found = []
    trained = {
        canonical(text)
        for lang in catalogue.languages()
        if (NLU_DIR / f"{lang}.yml").exists()
        for texts in training_examples(lang).values()
        for text in texts
    }
    intents = set(domain_intents())
    for item in heldout(code):
        if item.get("intent") not in intents:
            found.append(f"{code}: held-out {item.get('text')!r} has unknown intent {item.get('intent')!r}")
        if canonical(str(item.get("text", ""))) in trained:
            found.append(f"{code}: held-out {item.get('text')!r} is in the training data")
    return found


def all_problems(codes: Optional[Iterable[str]] = None) -> List[str]:
    codes = list(codes or catalogue.languages())
    found = [line for line in catalogue.problems() if line.split(":")[0].split(".")[0] in codes]
    for code in codes:
        found.extend(nlu_problems(code))
        found.extend(heldout_problems(code))
        if not (STORIES_DIR / f"test_{code}.yml").exists():
            found.append(f"{code}: no tests/stories/test_{code}.yml")
    return found
