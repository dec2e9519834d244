"""Checks that each language's content is complete (used by tests and scripts)."""
from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

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


def heldout_split(code: str, item: dict) -> str:
    """'dev' or 'test' for one held-out message: its own ``split:`` (messages
    written after the last tuning are all ``test``), else fixed forever by a
    hash of the language and the text (``bot/situations.py``'s split)."""
    from bot import situations

    return str(item.get("split") or situations.split_of(f"{code}:{item.get('text')}"))


def heldout(code: str, split: str = "all") -> List[dict]:
    """tests/heldout/<code>.yml's messages: the dev part (for choosing settings),
    the frozen test part (reported, and the bars), or all."""
    path = HELDOUT_DIR / f"{code}.yml"
    messages = yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]
    return [m for m in messages if split == "all" or heldout_split(code, m) == split]


def loose(text: str) -> str:
    """Text compared for near-duplicates: lower case, without accents (any
    combining mark), punctuation, apostrophes or spaces."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if unicodedata.category(c)[0] in "LN")


# A held-out message this similar to a training text (rapidfuzz's normalised
# Indel similarity of the loose forms, 0..1) tests memory, not understanding.
NEAR_DUPLICATE = 0.9


def near_duplicates(texts: Iterable[str], trained: Iterable[str]) -> List[Tuple[str, str, float]]:
    """(text, training text, similarity) for each text that is, loosely, a
    training text or at least NEAR_DUPLICATE similar to one."""
    from rapidfuzz import fuzz, process

    originals = {loose(t): t for t in trained}
    originals.pop("", None)
    choices = sorted(originals)
    found = []
    for text in texts:
        key = loose(text)
        if not key:
            continue
        best = process.extractOne(key, choices, scorer=fuzz.ratio, score_cutoff=NEAR_DUPLICATE * 100)
        if best:
            found.append((text, originals[best[0]], best[1] / 100))
    return found


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
        if item.get("split") not in (None, "dev", "test"):
            found.append(f"{code}: held-out {item.get('text')!r} has split {item.get('split')!r}")
    own = [t for texts in training_examples(code).values() for t in texts]
    found.extend(
        f"{code}: held-out {text!r} is a near-duplicate of the training text {match!r} ({score:.2f})"
        for text, match, score in near_duplicates((str(m.get("text", "")) for m in heldout(code)), own)
    )
    return found


def bare(text: str) -> str:
    """canonical() without accents, for Latin-script near-duplicates."""
    return "".join(
        c for c in unicodedata.normalize("NFKD", canonical(text)) if not unicodedata.combining(c)
    ) if all(ord(c) < 0x250 or not c.isalpha() for c in text) else canonical(text)


def trained_texts() -> set:
    """Every training text (NLU examples and danger data), compared loosely."""
    from bot import danger

    texts = [
        text
        for lang in catalogue.languages()
        if (NLU_DIR / f"{lang}.yml").exists()
        for examples in training_examples(lang).values()
        for text in examples
    ]
    for entry in danger.all_data().values():
        texts.extend(entry.danger + entry.safe)
    return {bare(t) for t in texts}


def situations_problems(
    code: str, trained: Optional[set] = None, directory: Optional[Path] = None, minimum: int = 15
) -> List[str]:
    """tests/situations/<code>.yml (or the romanised set's file): enough cases,
    known reply kinds, no turn that is also a training text."""
    from bot import situations

    directory = directory or situations.SITUATIONS_DIR
    where = f"{directory.relative_to(ROOT)}/{code}.yml"
    cases = situations.load(code, directory)
    if len(cases) < minimum:
        return [f"{code}: {where} has {len(cases)} cases (< {minimum})"]
    trained = trained_texts() if trained is None else trained
    kinds = set(catalogue.raw_texts(catalogue.default_language()))
    found = []
    ids = [str(c.get("id")) for c in cases]
    if len(set(ids)) != len(ids):
        found.append(f"{code}: {where} has repeated case ids")
    for case in cases:
        for turn in case.get("turns") or []:
            for label in ("good", "harmful"):
                for kind in turn.get(label) or []:
                    if kind not in kinds:
                        found.append(f"{code}: {case.get('id')}: unknown {label} kind {kind!r}")
            if not turn.get("good"):
                found.append(f"{code}: {case.get('id')}: a turn with no good reply kind")
            if case.get("writing") not in (None, "romanised", "mixed"):
                found.append(f"{code}: {case.get('id')}: writing must be romanised or mixed")
            if bare(str(turn.get("user", ""))) in trained:
                found.append(f"{code}: {case.get('id')}: {turn.get('user')!r} is in the training data")
    return found


def all_problems(codes: Optional[Iterable[str]] = None) -> List[str]:
    codes = list(codes or catalogue.languages())
    found = [line for line in catalogue.problems() if line.split(":")[0].split(".")[0] in codes]
    from bot import danger, situations

    found.extend(line for line in danger.problems() if line.split("/")[-1].split(".")[0] in codes)
    trained = trained_texts()
    for code in codes:
        found.extend(situations_problems(code, trained))
        found.extend(situations_problems(code, trained, situations.ROMANISED_DIR, minimum=0))
        found.extend(nlu_problems(code))
        found.extend(heldout_problems(code))
        if not (STORIES_DIR / f"test_{code}.yml").exists():
            found.append(f"{code}: no tests/stories/test_{code}.yml")
    return found
