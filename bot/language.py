"""Language identification for short, informal helpline messages.

Three signals, cheapest first:

1. an explicit request ("in English please", "på svenska", "suomeksi") from
   ``bot/languages.yml`` wins outright;
2. the script narrows the candidates (Thai, Han and Devanagari each belong to one
   supported language; Arabic script to ar/fa, Cyrillic to ru/uk/bg);
3. within the candidates, a character n-gram naive Bayes model trained on the
   bot's own vocabulary (NLU examples and catalogue texts) is combined with
   langdetect, restricted to the candidates and seeded so results repeat.

A language is reported as *confident* only when the signals agree strongly;
otherwise only a best guess is given, and the conversation keeps its language.
"""
from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

from bot import catalogue

NGRAM_SIZES = (1, 2, 3)
SMOOTHING = 0.5
# A guess becomes a confident detection above this combined probability ...
CONFIDENT_PROBABILITY = 0.75
# ... and only when the message has at least this many letters.
CONFIDENT_MIN_LETTERS = 4
# An unsupported language is reported when langdetect is this sure of a
# language we do not support and the message is at least this long.
UNSUPPORTED_PROBABILITY = 0.95
UNSUPPORTED_MIN_LETTERS = 12
# ... and fewer than this share of its words were seen in our training texts.
UNSUPPORTED_MAX_KNOWN_WORDS = 0.5
# langdetect's opinion counts only when it gives our candidates this much mass.
LANGDETECT_MIN_MASS = 0.3

_INVISIBLE = re.compile("[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


@dataclass(frozen=True)
class Detection:
    """What the identifier concluded about one message."""

    code: Optional[str]  # best guess among the supported languages, or None
    confident: bool  # sure enough to switch the conversation's language
    source: str  # "request", "script", "model" or "none"
    unsupported: bool = False  # written in a language we do not support
    probability: float = 0.0

    def as_dict(self) -> Dict[str, object]:
        return {
            "code": self.code,
            "confident": self.confident,
            "source": self.source,
            "unsupported": self.unsupported,
            "probability": round(self.probability, 4),
        }


def normalise(text: str) -> str:
    """Lower case, NFKC, without control, zero-width or direction characters."""
    return _INVISIBLE.sub(" ", unicodedata.normalize("NFKC", text)).lower()


def strip_accents(word: str) -> str:
    """'mitä' -> 'mita': people often type without diacritics."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.lru_cache(maxsize=4096)
def script_of(char: str) -> Optional[str]:
    """The script family of a letter, in the names used by languages.yml."""
    try:
        name = unicodedata.name(char)
    except ValueError:
        return None
    first = name.split(" ", 1)[0]
    if first in ("CJK", "KANGXI") or name.startswith("IDEOGRAPHIC"):
        return "han"
    return {
        "LATIN": "latin",
        "CYRILLIC": "cyrillic",
        "ARABIC": "arabic",
        "THAI": "thai",
        "DEVANAGARI": "devanagari",
    }.get(first, first.lower())


def words(text: str) -> List[str]:
    return _WORD.findall(text)


def ngrams(text: str) -> Iterable[str]:
    """Character n-grams of each word, padded with spaces, with and without accents."""
    for word in words(text):
        variants = {word, strip_accents(word)}
        for variant in variants:
            padded = f" {variant} "
            for size in NGRAM_SIZES:
                for start in range(len(padded) - size + 1):
                    gram = padded[start : start + size]
                    if gram != " ":
                        yield gram


class NgramModel:
    """Multinomial naive Bayes over character n-grams, one class per language,
    plus the words seen in training (to tell a known language from an unknown one)."""

    def __init__(
        self, counts: Mapping[str, Mapping[str, int]], vocabulary: Iterable[str] = ()
    ) -> None:
        self.words = frozenset(vocabulary)
        self.counts = {lang: dict(c) for lang, c in counts.items()}
        self.totals = {lang: sum(c.values()) for lang, c in self.counts.items()}
        vocabulary = set()
        for c in self.counts.values():
            vocabulary.update(c)
        self.vocabulary_size = max(len(vocabulary), 1)

    @classmethod
    def fit(cls, texts_by_language: Mapping[str, Iterable[str]]) -> "NgramModel":
        counts: Dict[str, Counter] = defaultdict(Counter)
        vocabulary = set()
        for lang, texts in texts_by_language.items():
            for text in texts:
                clean = normalise(text)
                counts[lang].update(ngrams(clean))
                vocabulary.update(strip_accents(w) for w in words(clean))
        return cls(counts, vocabulary)

    def known_word_ratio(self, text_words: List[str]) -> float:
        if not text_words:
            return 0.0
        return sum(strip_accents(w) in self.words for w in text_words) / len(text_words)

    def posteriors(self, grams: List[str], candidates: Iterable[str]) -> Dict[str, float]:
        scores: Dict[str, float] = {}
        for lang in candidates:
            counts = self.counts.get(lang)
            if not counts:
                continue
            denominator = math.log(self.totals[lang] + SMOOTHING * self.vocabulary_size)
            scores[lang] = sum(
                math.log(counts.get(g, 0) + SMOOTHING) - denominator for g in grams
            )
        return _softmax(scores)

    def as_dict(self) -> Dict[str, object]:
        return {"counts": self.counts, "words": sorted(self.words)}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> "NgramModel":
        return cls(data["counts"], data["words"])


def _softmax(scores: Mapping[str, float]) -> Dict[str, float]:
    if not scores:
        return {}
    top = max(scores.values())
    exps = {k: math.exp(v - top) for k, v in scores.items()}
    total = sum(exps.values())
    return {k: v / total for k, v in exps.items()}


@functools.lru_cache(maxsize=1)
def _langdetect_factory():
    """langdetect's profiles, loaded once; seeded so every run gives the same."""
    from langdetect import DetectorFactory
    from langdetect.detector_factory import PROFILES_DIRECTORY

    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(0)
    return factory


def langdetect_probabilities(text: str) -> Dict[str, float]:
    """Raw langdetect: probability per langdetect code (all its languages)."""
    from langdetect.lang_detect_exception import LangDetectException

    detector = _langdetect_factory().create()
    detector.append(text)
    try:
        return {p.lang: p.prob for p in detector.get_probabilities()}
    except LangDetectException:
        return {}


def raw_langdetect(text: str) -> Optional[str]:
    """What langdetect alone says, mapped to our codes (None if unsupported)."""
    probabilities = langdetect_probabilities(text)
    if not probabilities:
        return None
    best = max(probabilities, key=probabilities.get)
    by_langdetect = {lang.langdetect: code for code, lang in catalogue.languages().items()}
    return by_langdetect.get(best)


class LanguageIdentifier:
    """Tells which supported language a message is in, and how sure it is."""

    def __init__(self, model: NgramModel) -> None:
        self.model = model
        self.languages = catalogue.languages()
        self._by_langdetect = {lang.langdetect: code for code, lang in self.languages.items()}
        self._by_script: Dict[str, List[str]] = defaultdict(list)
        for code, lang in self.languages.items():
            self._by_script[lang.script].append(code)
        self._requests = self._compile_requests()
        self._names = {name: code for code, lang in self.languages.items() for name in lang.names}

    def _compile_requests(self) -> List[Tuple[re.Pattern, str]]:
        phrases = sorted(
            ((phrase, code) for code, lang in self.languages.items() for phrase in lang.requests),
            key=lambda item: -len(item[0]),
        )
        return [(re.compile(rf"(?<!\w){re.escape(p)}(?!\w)"), code) for p, code in phrases]

    @classmethod
    def train(cls, texts_by_language: Mapping[str, Iterable[str]]) -> "LanguageIdentifier":
        return cls(NgramModel.fit(texts_by_language))

    def requested_language(self, normalised: str) -> Optional[str]:
        """A language asked for by a phrase, or by its bare name as the whole message."""
        bare = " ".join(words(normalised))
        if bare in self._names:
            return self._names[bare]
        for pattern, code in self._requests:
            if pattern.search(normalised):
                return code
        return None

    def identify(self, text: str) -> Detection:
        clean = normalise(text or "")
        requested = self.requested_language(clean)
        if requested:
            return Detection(requested, True, "request", probability=1.0)

        letters = [c for c in clean if c.isalpha()]
        if not letters:
            return Detection(None, False, "none")
        scripts = Counter(script_of(c) for c in letters)
        script, _ = scripts.most_common(1)[0]
        candidates = self._by_script.get(script, [])
        if not candidates:
            return Detection(None, False, "script", unsupported=len(letters) >= 2)
        long_enough = len(letters) >= CONFIDENT_MIN_LETTERS
        if len(candidates) == 1:
            return Detection(candidates[0], len(letters) >= 2, "script", probability=1.0)

        grams = list(ngrams(clean))
        model_post = self.model.posteriors(grams, candidates)
        detected = langdetect_probabilities(clean)
        ours = {self._by_langdetect[k]: p for k, p in detected.items() if k in self._by_langdetect}
        ours = {k: p for k, p in ours.items() if k in candidates}
        mass = sum(ours.values())
        if mass >= LANGDETECT_MIN_MASS:
            # langdetect has an opinion among our candidates: average the two
            combined = {
                k: (model_post.get(k, 0.0) + ours.get(k, 0.0) / mass) / 2 for k in candidates
            }
        else:
            # langdetect thinks of another language entirely (common on short,
            # informal text): our own vocabulary decides
            combined = {k: model_post.get(k, 0.0) for k in candidates}
        best = max(combined, key=combined.get)
        probability = combined[best]

        text_words = words(clean)
        top_detected = max(detected, key=detected.get) if detected else None
        unsupported = (
            top_detected is not None
            and top_detected not in self._by_langdetect
            and detected[top_detected] >= UNSUPPORTED_PROBABILITY
            and len(letters) >= UNSUPPORTED_MIN_LETTERS
            and len(text_words) >= 3
            and self.model.known_word_ratio(text_words) < UNSUPPORTED_MAX_KNOWN_WORDS
        )
        if unsupported:
            return Detection(best, False, "model", unsupported=True, probability=probability)
        confident = long_enough and probability >= CONFIDENT_PROBABILITY
        return Detection(best, confident, "model", probability=probability)

    def as_dict(self) -> Dict[str, object]:
        return self.model.as_dict()

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> "LanguageIdentifier":
        return cls(NgramModel.from_dict(data))


def catalogue_texts() -> Dict[str, List[str]]:
    """Each language's catalogue texts: evidence of how the language looks."""
    return {
        code: list(catalogue.raw_texts(code).values())
        for code in catalogue.languages()
        if (catalogue.CATALOGUE_DIR / f"{code}.yml").exists()
    }
