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

import base64
import dataclasses
import functools
import math
import re

import regex
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

from bot import catalogue
from bot.folding import normalise, strip_accents  # noqa: F401 (also imported from here by callers)

NGRAM_SIZES = (1, 2, 3)
WORD_WEIGHT = 3
SMOOTHING = 0.5
# A guess becomes a confident detection above this combined probability ...
CONFIDENT_PROBABILITY = 0.75
# ... and only when the message has at least this many letters.
CONFIDENT_MIN_LETTERS = 4
# ... and, for a one-word message, at least this many ("سلام", "hola", "ok" are
# shared or too short to switch the conversation's language).
CONFIDENT_MIN_LETTERS_ONE_WORD = 8
# An unsupported language is reported when langdetect is this sure of a
# language we do not support and the message is at least this long.
UNSUPPORTED_PROBABILITY = 0.95
UNSUPPORTED_MIN_LETTERS = 12
# ... and fewer than this share of its words were seen in our training texts.
UNSUPPORTED_MAX_KNOWN_WORDS = 0.5
# Words of these languages are mixed into many messages ("kitchen", "salary",
# "poliisi"): known there, they are no sign of a language we do not support.
MIXED_IN = ("en", "fi")
# Mixed writing (issue 17). English and Finnish words borrowed into another
# language ("patron pasaportumu aldı, what should i do", "et maintenant? mitä
# mä teen"): the most frequent words of each (wordfreq, at training time) ...
BORROWED_WORDS = 30000
# ... are set aside when a message looks English or Finnish; if the words left
# have at least this many letters and are mostly words of one other language
# (seen in its training texts), that language is the message's.
MIXED_MIN_LETTERS = 5
MIXED_MIN_KNOWN = 0.5
# A message of at most this many words, all of them borrowed ("ok kiitos",
# "thanks"), does not switch a conversation held in another language.
BORROWED_ONLY_WORDS = 2
# Greetings and formulae that several of our languages share, Arabic loans
# that Muslims who speak Persian, Somali or Turkish use as well as Arabic
# speakers ("salaam aleikum", "shukran habibi", "thanks ya akhi"): a message of at most
# SHARED_ONLY_WORDS words, each one of these or borrowed English or Finnish,
# is a best guess only (the picker is offered; a conversation keeps its
# language). Before this, "salaam aleikum" read confidently as Estonian and
# "thanks ya akhi" as romanised Thai (docs/decisions.md §18).
SHARED_FORMULAE = frozenset(
    """salam salaam salaamu salom selam selamlar assalam assalamu asalam asalamu
    asalaam assalaam salamu aleikum alaikum alaykum aleykum alejkum alaikom
    aleyküm waalaikum walaikum alaikumussalam habibi habibti habibty akhi
    ukhti akhti shukran shokran inshallah mashallah wallah wallahi
    alhamdulillah hamdulillah bismillah assalamualaikum assalamualaykum
    asalamualaikum salamualaikum""".split()
)
SHARED_ONLY_WORDS = 4
# ... and the best guess is the likeliest of the languages of ours whose
# speakers greet so (not Estonian or Tagalog, which n-grams of "salaam" suggest).
SHARED_BY = ("ar", "fa", "so", "tr")
# A supported non-Latin script with at least this many words decides a message
# that is mostly Latin letters ("can i call myself? или надо через poliisi?"):
# people borrow English and Finnish words, not Cyrillic or Arabic ones.
NATIVE_SCRIPT_MIN_WORDS = 2
# General vocabulary (issue 15): the most frequent words of each language
# wordfreq has (16 of our 20), as a lexicon (a marisa-trie, ~2.5 MB). For a
# message of at most LEXICON_MAX_WORDS words, a language whose lexicon holds
# all of them is LEXICON_WEIGHT times likelier: n-grams alone read one word
# poorly. Sizes and weight chosen on tests/general_text/dev (docs/decisions.md §12).
LEXICON_WORDS = 50000
LEXICON_MAX_WORDS = 2
LEXICON_WEIGHT = 1e6
WORDFREQ_CODES = {"tl": "fil"}
# Languages we do not support that look like ours (issue 15): Danish and
# Norwegian are read as Swedish, Portuguese as Spanish, Czech or Croatian as
# romanised Russian. Their most frequent words (wordfreq; "sh" is
# Serbo-Croatian) join the lexicon; a message of at least NEIGHBOUR_MIN_WORDS
# words with NEIGHBOUR_MIN_HITS distinct words of NEIGHBOUR_MIN_LETTERS letters
# or more that are common in one of them but neither in our language's list
# nor in its training texts (nor borrowed English or Finnish), and more than
# NEIGHBOUR_RATIO times as many as the words only ours has, is that language.
# Chosen on tests/general_text/dev (docs/decisions.md §14). Vietnamese typed
# without accents is short syllables that every such list holds: exempt.
NEIGHBOURS = ("da", "nb", "pt", "nl", "de", "it", "ca", "cs", "sk", "sh", "sl", "hu",
              "lt", "lv", "id", "ms", "mk")
NEIGHBOUR_MIN_WORDS = 3
NEIGHBOUR_MIN_HITS = 2
NEIGHBOUR_MIN_LETTERS = 3
NEIGHBOUR_RATIO = 2
NEIGHBOUR_EXEMPT = ("vi",)
# Romanised writing of ours (Finglish, Arabizi, translit) is typed in plain
# ASCII on a phone; Czech or Croatian read as romanised Russian has č, š, ž:
# only then is a romanised reading checked against the neighbours.
NON_ASCII_LETTER = re.compile(r"[^\W\d_a-zA-Z]")
# Belarusian (langdetect lacks it; read as Ukrainian or Russian): "ў" is its
# own letter, and "і" (Ukrainian) beside "ы" or "э" (Russian) is its spelling.
BELARUSIAN = re.compile(r"ў|і.*[ыэ]|[ыэ].*і", re.IGNORECASE | re.DOTALL)
# Scripts one language of ours shares with languages we do not support, which
# langdetect knows (Hindi and Marathi write Devanagari, like Nepali). Not Han:
# langdetect calls some Chinese sentences Korean (docs/decisions.md §13).
SHARED_SCRIPTS = ("devanagari",)
# Arabic chat alphabet: digits for letters inside words ("3ayza", "m7boosa",
# "sa3idni"); Cyrillic chat uses 4 and 6 (ч, ш), Finglish none. Such a word
# makes romanised Arabic this many times likelier (10^4 left "salam 3alikom"
# to Persian's "salam aleikom"; 10^6 changed nothing on the general-text dev
# split and fixed that turn of the romanised dev split, docs/decisions.md §15).
ARABIZI = re.compile(r"[a-z][23579]|[23579][a-z]")
ARABIZI_WEIGHT = 1e6
# Romanised writing: a neighbour is asked about when at least this many of the
# message's words are its romanised words, and no fewer than its own
# language's (1, any shared word: on the romanised dev split this names a
# neighbour for 2 of 57 messages, both honestly ambiguous; docs/decisions.md §16).
NEIGHBOUR_ASK_MIN_WORDS = 1
# langdetect's opinion counts only when it gives our candidates this much mass.
LANGDETECT_MIN_MASS = 0.3
# How much our own n-gram model counts against langdetect when both speak.
MODEL_WEIGHT = 0.6
# Below this probability of our model langdetect is asked too. With
# MODEL_WEIGHT 0.6 langdetect cannot overturn a model that is surer than 0.83.
LANGDETECT_BELOW = 0.84

# A word: letters with their combining marks (Thai, Devanagari and Arabic
# vowel signs are marks, not letters), apostrophes inside.
_WORD = regex.compile(r"\p{L}[\p{L}\p{M}]*(?:['’]\p{L}[\p{L}\p{M}]*)*")


@dataclass(frozen=True)
class Detection:
    """What the identifier concluded about one message."""

    code: Optional[str]  # the message's language: best guess among ours, or None
    confident: bool  # sure enough to switch the conversation's language
    source: str  # "script", "vocabulary", "model", "romanised", "mixed", "shared" or "none"
    unsupported: bool = False  # written in a language we do not support
    probability: float = 0.0
    requested: Optional[str] = None  # a language the message asks for explicitly
    # the likeliest languages with their probability (romanised writing counted
    # as its language): a conversation keeps its language when it is among them
    alternatives: Tuple[Tuple[str, float], ...] = ()
    # romanised writing: close neighbours (same script, also typed in Latin
    # letters) whose romanised words the message has as many of as its own
    # language's ("ne znaju" is Russian and Ukrainian alike): the person is asked
    neighbours: Tuple[str, ...] = ()

    def as_dict(self) -> Dict[str, object]:
        return {
            "alternatives": {code: round(p, 4) for code, p in self.alternatives},
            "neighbours": list(self.neighbours),
            "code": self.code,
            "confident": self.confident,
            "source": self.source,
            "unsupported": self.unsupported,
            "probability": round(self.probability, 4),
            "requested": self.requested,
        }


ROMANISED = "-latn"
# A whole message of at most this many words that is, word for word, a
# training text of one language only ("moi", "kamusta", "namaste"): that
# language is the best guess (one word is still not "confident": the picker
# is offered). Character n-grams alone read "moi" as French.
SHORT_TEXT_WORDS = 2


def romanised_class(code: str) -> str:
    """The detector's class for a language written in Latin letters."""
    return code + ROMANISED


def base_code(label: str) -> str:
    """'ru-latn' -> 'ru': the language of a detector class."""
    return label[: -len(ROMANISED)] if label.endswith(ROMANISED) else label


# Alternatives reported with a detection: at most this many, each at least this likely.
ALTERNATIVES, ALTERNATIVE_MIN = 4, 0.01


def ranking(scores: Mapping[str, float]) -> Tuple[Tuple[str, float], ...]:
    """The likeliest languages, romanised writing counted as its language."""
    merged: Dict[str, float] = defaultdict(float)
    for label, p in scores.items():
        merged[base_code(label)] += p
    top = sorted(merged.items(), key=lambda item: -item[1])[:ALTERNATIVES]
    return tuple((code, p) for code, p in top if p >= ALTERNATIVE_MIN)


def dominant_script(clean: str) -> Optional[str]:
    letters = [c for c in clean if c.isalpha()]
    if not letters:
        return None
    return Counter(catalogue.script_of(c) for c in letters).most_common(1)[0][0]


def words(text: str) -> List[str]:
    return _WORD.findall(text)


def ngrams(text: str) -> Iterable[str]:
    """Character n-grams of each word, padded with spaces, with and without
    accents; and the whole word, counted WORD_WEIGHT times (a word seen in only
    one language's texts is strong evidence, even in a one-word message)."""
    for word in words(text):
        variants = {word, strip_accents(word)}
        for variant in variants:
            for _ in range(WORD_WEIGHT):
                yield f"<{variant}>"
            padded = f" {variant} "
            for size in NGRAM_SIZES:
                for start in range(len(padded) - size + 1):
                    gram = padded[start : start + size]
                    if gram != " ":
                        yield gram


class NgramModel:
    """Multinomial naive Bayes over character n-grams, one class per language,
    plus the words seen in training (to tell a known language from an unknown one)."""

    def __init__(self, counts: Mapping[str, Mapping[str, int]]) -> None:
        self.counts = {lang: dict(c) for lang, c in counts.items()}
        self.totals = {lang: sum(c.values()) for lang, c in self.counts.items()}
        vocabulary = set()
        for c in self.counts.values():
            vocabulary.update(c)
        self.vocabulary_size = max(len(vocabulary), 1)

    @classmethod
    def fit(cls, texts_by_language: Mapping[str, Iterable[str]]) -> "NgramModel":
        counts: Dict[str, Counter] = defaultdict(Counter)
        for lang, texts in texts_by_language.items():
            for text in texts:
                counts[lang].update(ngrams(normalise(text)))
        return cls(counts)

    def known_word_ratio(self, text_words: List[str], *languages: str) -> float:
        """The share of the words seen in these languages' training texts."""
        if not text_words:
            return 0.0
        seen = [self.counts.get(language, {}) for language in languages]
        return sum(
            any(f"<{strip_accents(w)}>" in counts for counts in seen) for w in text_words
        ) / len(text_words)

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
        return {"counts": self.counts}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> "NgramModel":
        return cls(data["counts"])


def boost_arabizi(scores: Mapping[str, float]) -> Dict[str, float]:
    """Romanised Arabic ARABIZI_WEIGHT times likelier, renormalised."""
    label = romanised_class("ar")
    if label not in scores:
        return dict(scores)
    boosted = {k: v * (ARABIZI_WEIGHT if k == label else 1.0) for k, v in scores.items()}
    total = sum(boosted.values()) or 1.0
    return {k: v / total for k, v in boosted.items()}


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

    def __init__(
        self,
        model: NgramModel,
        short_texts: Optional[Mapping[str, str]] = None,
        borrowed: Iterable[str] = (),
        lexicon=None,
    ) -> None:
        self.model = model
        # word -> bit mask of the languages (LEXICON_ORDER) it is a common word
        # of: a marisa_trie.RecordTrie, or None
        self.lexicon = lexicon
        self.short_texts: Dict[str, str] = dict(short_texts or {})
        # common English and Finnish words, accents stripped (mixed writing)
        self.borrowed = frozenset(borrowed)
        self.languages = catalogue.languages()
        self._by_langdetect = {lang.langdetect: code for code, lang in self.languages.items()}
        self._by_script: Dict[str, List[str]] = defaultdict(list)
        for code, lang in self.languages.items():
            self._by_script[lang.script].append(code)
        # romanised writing: a Latin-script message may be one of these too,
        # learnt as a class of its own ("ru-latn"): its Latin n-grams would
        # be drowned in the native script's counts of the same language
        self._by_script["latin"].extend(
            romanised_class(code) for code, lang in self.languages.items() if lang.romanised
        )
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
        classes: Dict[str, List[str]] = defaultdict(list)
        short: Dict[str, set] = defaultdict(set)
        languages = catalogue.languages()
        for code, texts in texts_by_language.items():
            romanised = code in languages and languages[code].romanised
            for text in texts:
                latin = romanised and dominant_script(normalise(text)) == "latin"
                classes[romanised_class(code) if latin else code].append(text)
                key = " ".join(words(normalise(text)))
                if key and len(key.split()) <= SHORT_TEXT_WORDS:
                    short[key].add(romanised_class(code) if latin else code)
        unique = {text: next(iter(codes)) for text, codes in short.items() if len(codes) == 1}
        model = NgramModel.fit(classes)
        borrowed = set(common_words(MIXED_IN, BORROWED_WORDS))
        for code in MIXED_IN:  # and every word of their training texts
            borrowed.update(g[1:-1] for g in model.counts.get(code, {}) if g.startswith("<"))
        return cls(model, unique, sorted(borrowed), build_lexicon(LEXICON_WORDS))

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
        return dataclasses.replace(
            self._detect(clean), requested=self.requested_language(clean)
        )

    def _native_script(self, clean: str) -> Optional[str]:
        """A supported non-Latin script with enough words in a mostly Latin message."""
        by_script = Counter(dominant_script(w) for w in words(clean))
        for script, count in by_script.most_common():
            if script != "latin" and script in self._by_script and count >= NATIVE_SCRIPT_MIN_WORDS:
                return script
        return None

    def _other_language_of_script(self, clean: str, code: str, letters: int) -> bool:
        """A text in a script only one of our languages uses, whose words our
        language's texts mostly lack, and which langdetect is sure is another
        language: Hindi is not Nepali (docs/decisions.md §13)."""
        text_words = words(clean)
        if (
            letters < UNSUPPORTED_MIN_LETTERS
            or len(text_words) < 3
            or self.model.known_word_ratio(text_words, code) >= UNSUPPORTED_MAX_KNOWN_WORDS
        ):
            return False
        detected = langdetect_probabilities(clean)
        top = max(detected, key=detected.get) if detected else None
        ours = {name.split("-")[0] for name in self._by_langdetect}  # zh-tw is Chinese too
        return (
            top is not None
            and top.split("-")[0] not in ours
            and detected[top] >= UNSUPPORTED_PROBABILITY
        )

    def _neighbour(self, text_words: List[str], code: str) -> Optional[str]:
        """A language we do not support (NEIGHBOURS) whose common words the
        message is mostly made of, though our model read it as ``code``."""
        if not self.lexicon or len(text_words) < NEIGHBOUR_MIN_WORDS or code in NEIGHBOUR_EXEMPT:
            return None
        seen = [self.model.counts.get(label, {}) for label in (code, romanised_class(code))]
        in_texts, unknown = [], []  # words of our language's training texts, and the rest
        for word in set(text_words):
            bare = strip_accents(word)
            if any(f"<{bare}>" in counts for counts in seen):
                in_texts.append(word)
            elif len(word) >= NEIGHBOUR_MIN_LETTERS and bare not in self.borrowed:
                unknown.append(word)
        if len(unknown) < NEIGHBOUR_MIN_HITS:  # most messages in our languages end here
            return None
        own_bit = 1 << LEXICON_ORDER.index(code) if code in LEXICON_ORDER else 0
        ours: List[int] = []  # lexicon masks of the words our language has
        others: List[int] = []  # ... and of the other words, which may be telling
        for word in unknown:
            found = self.lexicon.get(word)
            mask = found[0][0] if found else 0
            (ours if mask & own_bit else others).append(mask)
        if len(others) < NEIGHBOUR_MIN_HITS:
            return None
        for word in in_texts:
            found = self.lexicon.get(word)
            ours.append(found[0][0] if found else 0)
        for bit, other in enumerate(NEIGHBOURS, start=len(LEXICON_ORDER)):
            theirs = sum(mask >> bit & 1 for mask in others)
            only_ours = sum(not mask >> bit & 1 for mask in ours)
            if theirs >= NEIGHBOUR_MIN_HITS and theirs > NEIGHBOUR_RATIO * only_ours:
                return other
        return None

    def _romanised_neighbours(self, text_words: List[str], best: str) -> Tuple[str, ...]:
        """Languages of ``best``'s script, also typed in Latin letters, whose
        romanised training words cover as many of the message's words as
        ``best``'s do (our probabilities are far too sure to tell, §16)."""
        code = base_code(best)
        script = self.languages[code].script
        bare = {strip_accents(w) for w in text_words}

        def known(label: str) -> int:
            counts = self.model.counts.get(label, {})
            return sum(f"<{w}>" in counts for w in bare)

        own = known(best)
        return tuple(
            other
            for other, lang in self.languages.items()
            if other != code
            and lang.script == script
            and lang.romanised
            and romanised_class(other) in self.model.counts
            and known(romanised_class(other)) >= max(own, NEIGHBOUR_ASK_MIN_WORDS)
        )

    def _mixed(self, text_words: List[str], best: str, candidates: List[str]) -> Optional[Tuple[str, float]]:
        """(language, probability) of the words left once borrowed English or
        Finnish words are set aside, when they are clearly one other language."""
        if best not in MIXED_IN:
            return None
        rest = [w for w in text_words if strip_accents(w) not in self.borrowed]
        if sum(len(w) for w in rest) < MIXED_MIN_LETTERS:
            return None
        others = [c for c in candidates if c not in MIXED_IN]
        posterior = self.model.posteriors(list(ngrams(" ".join(rest))), others)
        if not posterior:
            return None
        other = max(posterior, key=posterior.get)
        if (
            posterior[other] >= CONFIDENT_PROBABILITY
            and self.model.known_word_ratio(rest, other) >= MIXED_MIN_KNOWN
        ):
            return other, posterior[other]
        return None

    def _lexicon_boost(self, text_words: List[str], scores: Mapping[str, float]) -> Dict[str, float]:
        """Languages whose common words include every word of a short message
        LEXICON_WEIGHT times likelier."""
        mask = -1
        for word in text_words:
            found = self.lexicon.get(word)
            mask &= found[0][0] if found else 0

        def common(label: str) -> bool:
            # in wordfreq's list, or (for Estonian, Somali and romanised
            # writing, which wordfreq lacks) words of its own training texts
            if label in LEXICON_ORDER and mask >> LEXICON_ORDER.index(label) & 1:
                return True
            if mask & OURS_MASK and label.endswith(ROMANISED):
                # an everyday word of a language in wordfreq ("hei") is that
                # language's, not a pinyin syllable the generated forms hold
                return False
            counts = self.model.counts.get(label, {})
            return all(f"<{w}>" in counts for w in text_words)

        boosted = {k: v * (LEXICON_WEIGHT if common(k) else 1.0) for k, v in scores.items()}
        total = sum(boosted.values()) or 1.0
        return {k: v / total for k, v in boosted.items()}

    def _shared_only(self, text_words: List[str]) -> bool:
        """A short message of formulae several of our languages share
        (``SHARED_FORMULAE``), perhaps with borrowed English or Finnish words."""
        return (
            0 < len(text_words) <= SHARED_ONLY_WORDS
            and any(w in SHARED_FORMULAE for w in text_words)
            and all(w in SHARED_FORMULAE or strip_accents(w) in self.borrowed for w in text_words)
        )

    def _detect(self, clean: str) -> Detection:
        letters = [c for c in clean if c.isalpha()]
        if not letters:
            return Detection(None, False, "none")
        script = dominant_script(clean)
        if script == "latin":
            native = self._native_script(clean)
            if native:  # mixed: the native words decide, the Latin ones are borrowed
                script = native
                clean = " ".join(w for w in words(clean) if dominant_script(w) == native)
                letters = [c for c in clean if c.isalpha()]
        candidates = self._by_script.get(script, [])
        if not candidates:  # Greek, Hebrew, Korean ...: not a language of ours
            return Detection(None, False, "script", unsupported=len(letters) >= 2)
        if len(candidates) == 1:
            # the script's one language of ours, unless the text is clearly
            # another language of that script (Hindi or Marathi in Devanagari)
            if script in SHARED_SCRIPTS and self._other_language_of_script(clean, candidates[0], len(letters)):
                return Detection(candidates[0], False, "script", unsupported=True, probability=0.0)
            return Detection(candidates[0], len(letters) >= 2, "script", probability=1.0)

        text_words = words(clean)
        # "salaam aleikum", "thanks ya akhi": said in several of our languages
        shared = self._shared_only(text_words)
        known = self.short_texts.get(" ".join(text_words)) if len(text_words) <= SHORT_TEXT_WORDS else None
        if known in candidates and not (shared and base_code(known) not in SHARED_BY):
            code = base_code(known)
            if shared:
                return Detection(code, False, "shared", probability=1.0)
            confident = len(text_words) >= 2 and len(letters) >= CONFIDENT_MIN_LETTERS
            return Detection(code, confident, "vocabulary", probability=1.0)
        model_post = self.model.posteriors(list(ngrams(clean)), candidates)
        if self.lexicon and len(text_words) <= LEXICON_MAX_WORDS:
            model_post = self._lexicon_boost(text_words, model_post)
        arabizi = ARABIZI.search(clean) is not None
        if arabizi:
            model_post = boost_arabizi(model_post)
        best = max(model_post, key=model_post.get)
        probability = model_post[best]
        scores = model_post
        may_be_unsupported = (
            len(letters) >= UNSUPPORTED_MIN_LETTERS
            and len(text_words) >= 3
            and not shared
            and self.model.known_word_ratio(text_words, best, *MIXED_IN)
            < UNSUPPORTED_MAX_KNOWN_WORDS
        )
        # langdetect is the slow part (~2 ms): ask it only when it can change
        # the answer: our model is unsure, or the words are unknown to us.
        if probability < LANGDETECT_BELOW or may_be_unsupported:
            detected = langdetect_probabilities(clean)
            top = max(detected, key=detected.get) if detected else None
            if (
                may_be_unsupported
                and top not in (None, *self._by_langdetect)
                and detected[top] >= UNSUPPORTED_PROBABILITY
            ):
                return Detection(
                    base_code(best), False, "model", unsupported=True, probability=probability
                )
            ours = {
                self._by_langdetect[k]: p
                for k, p in detected.items()
                if self._by_langdetect.get(k) in candidates
            }
            mass = sum(ours.values())
            # When langdetect has an opinion among our candidates, weigh it in;
            # when it thinks of another language entirely (common on short,
            # informal text), our own vocabulary decides alone.
            if mass >= LANGDETECT_MIN_MASS:
                combined = {
                    k: MODEL_WEIGHT * model_post.get(k, 0.0)
                    + (1 - MODEL_WEIGHT) * ours.get(k, 0.0) / mass
                    for k in candidates
                }
                if arabizi:
                    combined = boost_arabizi(combined)
                best = max(combined, key=combined.get)
                probability = combined[best]
                scores = combined
        enough_text = len(text_words) >= 2 or len(letters) >= CONFIDENT_MIN_LETTERS_ONE_WORD
        confident = (
            enough_text
            and len(letters) >= CONFIDENT_MIN_LETTERS
            and probability >= CONFIDENT_PROBABILITY
        )
        mixed = self._mixed(text_words, best, candidates)
        if mixed:
            code, probability = mixed
            if shared:
                return Detection(base_code(code), False, "shared", probability=probability)
            return Detection(base_code(code), True, "mixed", probability=probability)
        if (
            best in MIXED_IN
            and len(text_words) <= BORROWED_ONLY_WORDS
            and all(strip_accents(w) in self.borrowed for w in text_words)
        ):
            # "ok kiitos", "thanks": words everyone borrows; a best guess only
            confident = False
        if shared:
            confident = False
        if len(letters) >= UNSUPPORTED_MIN_LETTERS and (
            script == "cyrillic" and BELARUSIAN.search(clean)
            or confident
            and (not best.endswith(ROMANISED) or NON_ASCII_LETTER.search(clean))
            and self._neighbour(text_words, base_code(best))
        ):
            # Danish read as Swedish, Belarusian as Ukrainian: a language we
            # do not support, answered apart (with the language picker)
            return Detection(base_code(best), False, "model", unsupported=True, probability=probability)
        if shared:
            sharers = [c for c in candidates if base_code(c) in SHARED_BY]
            if sharers and base_code(best) not in SHARED_BY:
                best = max(sharers, key=lambda c: scores.get(c, 0.0))
                probability = scores.get(best, 0.0)
            # a guess that must not hold the conversation (actions/answer.py)
            return Detection(base_code(best), False, "shared", probability=probability, alternatives=ranking(scores))
        alternatives = ranking(scores)
        if best.endswith(ROMANISED):
            return Detection(
                base_code(best), confident, "romanised", probability=probability,
                alternatives=alternatives, neighbours=self._romanised_neighbours(text_words, best),
            )
        return Detection(best, confident, "model", probability=probability, alternatives=alternatives)

    def as_dict(self) -> Dict[str, object]:
        return {
            **self.model.as_dict(),
            "short_texts": self.short_texts,
            "borrowed": sorted(self.borrowed),
            "lexicon": base64.b64encode(self.lexicon.tobytes()).decode("ascii") if self.lexicon else "",
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> "LanguageIdentifier":
        data = dict(data)
        short_texts = data.pop("short_texts", {})
        borrowed = data.pop("borrowed", ())
        lexicon = data.pop("lexicon", "")
        return cls(NgramModel.from_dict(data), short_texts, borrowed, lexicon_from_bytes(lexicon))


ROMANISED_DIR = catalogue.PACKAGE_DIR.parent / "data" / "romanised"


@functools.lru_cache(maxsize=1)
def romanised_examples() -> Dict[str, Dict[str, List[str]]]:
    """Latin-letter forms of each language's training texts by intent,
    generated with transliteration libraries by scripts/romanise.py
    (data/romanised/<code>.yml); read once per process (the detector and
    the intent classifier both train on them)."""
    import yaml

    found: Dict[str, Dict[str, List[str]]] = {}
    for path in sorted(ROMANISED_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if data.get("language") in catalogue.languages():
            found[data["language"]] = {
                str(intent): list(forms or []) for intent, forms in (data.get("intents") or {}).items()
            }
    return found


def romanised_texts() -> Dict[str, List[str]]:
    """All Latin-letter forms of each language's training texts (the detector's)."""
    return {
        code: sorted({form for forms in intents.values() for form in forms})
        for code, intents in romanised_examples().items()
    }


# The languages of the lexicon's bit masks, in this order (stored with the model).
LEXICON_ORDER = ("fi", "sv", "en", "ru", "uk", "et", "ro", "bg", "pl", "ar", "fa", "so",
                 "tr", "fr", "es", "th", "vi", "tl", "zh", "ne")


def lexicon_from_bytes(encoded: str):
    if not encoded:
        return None
    import marisa_trie

    return marisa_trie.RecordTrie(LEXICON_FORMAT).frombytes(base64.b64decode(encoded))


LEXICON_FORMAT = "<Q"  # 64 bits: ours, then NEIGHBOURS
OURS_MASK = (1 << len(LEXICON_ORDER)) - 1


@functools.lru_cache(maxsize=2)
def build_lexicon(count: int):
    """word -> bit mask of the languages it is among the ``count`` most
    frequent words of (wordfreq's lists; languages it lacks have none)."""
    if not count:
        return None
    import marisa_trie

    from wordfreq import available_languages, top_n_list

    have = set(available_languages())
    lexicon: Dict[str, int] = defaultdict(int)
    for bit, code in enumerate(LEXICON_ORDER + NEIGHBOURS):
        source = WORDFREQ_CODES.get(code, code)
        if source not in have or code in LEXICON_ORDER and catalogue.languages()[code].script in ("han", "thai"):
            continue
        for entry in top_n_list(source, count):
            for word in words(normalise(entry)):
                lexicon[word] |= 1 << bit
    return marisa_trie.RecordTrie(LEXICON_FORMAT, ((w, (m,)) for w, m in lexicon.items()))


@functools.lru_cache(maxsize=2)
def common_words(codes: Tuple[str, ...], count: int) -> List[str]:
    """The most frequent words of these languages (wordfreq's lists, which ship
    inside the package), lower case and without accents."""
    from wordfreq import top_n_list

    found = set()
    for code in codes:
        for word in top_n_list(code, count):
            found.update(strip_accents(w) for w in words(normalise(word)))
    return sorted(found)


def catalogue_texts() -> Dict[str, List[str]]:
    """Each language's catalogue texts: evidence of how the language looks."""
    return {
        code: list(catalogue.raw_texts(code).values())
        for code in catalogue.languages()
        if (catalogue.CATALOGUE_DIR / f"{code}.yml").exists()
    }
