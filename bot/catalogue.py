"""The answer catalogue: one YAML file per language, facts inserted by placeholder.

Every text the bot, the gateway and the widget show comes from here. The facts
(phone, e-mail, 112, websites) live only in ``bot/facts.yml``; the supported
languages only in ``bot/languages.yml``.
"""
from __future__ import annotations

import functools
import re
import string
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import yaml

PACKAGE_DIR = Path(__file__).resolve().parent
CATALOGUE_DIR = PACKAGE_DIR / "catalogue"
FACTS_FILE = PACKAGE_DIR / "facts.yml"
LANGUAGES_FILE = PACKAGE_DIR / "languages.yml"

PLACEHOLDERS = ("phone", "email", "emergency", "website")

# Keys whose text is the start of another key's text, word for word: said
# alone where the whole answer would repeat what follows it.
PREFIX_OF: Dict[str, str] = {"may_be_trafficking": "situation_self"}

# Keys whose text must state these facts (besides the contact block itself).
REQUIRED_FACTS: Dict[str, tuple] = {
    "contact_block": ("phone", "email", "emergency"),
    # "hi, I need help" misread as a bare greeting still learns whom to call
    # (readers of batch 9: a greeting alone to a request for help is harmful)
    "greet": ("phone",),
    # "ok thanks" after a described situation still says whom to call
    # (readers of batch 14: "you're welcome" alone did not continue, JUDGING.md)
    "thanks": ("phone",),
    "who_to_contact": ("phone", "email", "emergency"),
    "emergency": ("emergency",),
    "more_information": ("website",),
    "bot_challenge": ("phone", "email"),
    "privacy": ("phone", "email"),
    # every answer that may reach someone who did not say they are safe
    "out_of_scope": ("emergency",),
    "nlu_fallback": ("emergency",),
    "unsupported_language": ("emergency",),
    "danger_first": ("emergency",),
    "danger_contact": ("phone", "email"),
    "write_instead": ("email",),
    "situation_self": ("phone", "email"),
    "situation_other": ("phone", "email"),
    "minor_victim": ("emergency", "phone", "email"),
    "not_in_source": ("phone", "email"),
    "language_help": ("phone", "email"),
    "next_step_contact": ("phone", "email", "emergency"),
    "helper_next_step": ("phone", "email"),
    "plain_summary": ("phone", "email", "emergency"),
    "how_to_get_admitted": ("phone", "email"),
    "what_is_trafficking": ("phone", "email"),
}

# The questions offered as buttons when the bot did not understand.
MAIN_QUESTIONS = (
    "what_is_trafficking",
    "who_to_contact",
    "how_to_get_admitted",
    "services_offered",
)

# Answers that put 112 before everything else.
EMERGENCY_KEYS = frozenset({"emergency", "danger_first", "minor_victim"})


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    langdetect: str
    script: str
    romanised: bool
    rtl: bool
    requests: tuple
    names: tuple
    close: tuple = ()
    help: tuple = ()


def _read_yaml(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


@functools.lru_cache(maxsize=1)
def facts() -> Dict[str, object]:
    return _read_yaml(FACTS_FILE)


@functools.lru_cache(maxsize=1)
def languages() -> Dict[str, Language]:
    """The supported languages, in the order of ``bot/languages.yml``."""
    raw = _read_yaml(LANGUAGES_FILE)["languages"]
    return {
        code: Language(
            code=code,
            name=entry["name"],
            langdetect=entry.get("langdetect", code),
            script=entry.get("script", "latin"),
            romanised=bool(entry.get("romanised", False)),
            rtl=bool(entry.get("rtl", False)),
            requests=tuple(r.lower() for r in entry.get("requests", ())),
            names=tuple(
                dict.fromkeys(n.lower() for n in [entry["name"], *entry.get("names", ())])
            ),
            close=tuple(entry.get("close", ())),
            help=tuple(str(w).lower() for w in entry.get("help", ())),
        )
        for code, entry in raw.items()
    }


@functools.lru_cache(maxsize=1)
def default_language() -> str:
    return _read_yaml(LANGUAGES_FILE).get("default", "en")


@functools.lru_cache(maxsize=None)
def raw_texts(language: str) -> Dict[str, str]:
    """The unrendered texts of one language (placeholders still in them)."""
    return {
        key: str(value).strip()
        for key, value in _read_yaml(CATALOGUE_DIR / f"{language}.yml").items()
    }


@functools.lru_cache(maxsize=None)
def alphabet(language: str) -> frozenset:
    """The lower-case letters beyond ASCII that a language's answers use (its
    own letters, as far as the catalogue shows them): Estonian has õ and ü,
    Finnish does not; Ukrainian has і, ї, є, Russian ы, э, ё. (ASCII letters
    are left out: Finnish writes "firma" though its answers have no f.)"""
    return frozenset(
        char
        for value in raw_texts(language).values()
        for char in value.lower()
        if char.isalpha() and not char.isascii()
    )


def shows_letters_of(language: str, other: str, text: str) -> bool:
    """The text has a letter of ``language`` that ``other`` never uses."""
    own = alphabet(language) - alphabet(other)
    return any(char in own for char in text.lower())


def supported(language: Optional[str]) -> str:
    """The language itself when supported, else the default language."""
    return language if language in languages() else default_language()


def fact_values(language: str) -> Dict[str, str]:
    """The values the placeholders stand for, for one language."""
    data = facts()
    websites = data["websites"]
    return {
        "phone": str(data["phone"]),
        "email": str(data["email"]),
        "emergency": str(data["emergency"]),
        "website": str(websites.get(language, websites[default_language()])),
    }


def phone_uri() -> str:
    """The phone number as a ``tel:`` link target, derived from the one fact."""
    return "tel:" + re.sub(r"[^+0-9]", "", str(facts()["phone"]))


@functools.lru_cache(maxsize=None)
def text(key: str, language: str) -> str:
    """One catalogue text with its facts filled in."""
    language = supported(language)
    return raw_texts(language)[key].format_map(fact_values(language))


# A sentence: up to its end mark (Latin, Cyrillic, Arabic, Devanagari, Han),
# with the space after it. Thai has no end marks: its sentences here are
# separated by a space before "ถ้า" ("if") or after the emergency number.
_SENTENCE = re.compile(r"[^.?!。？！।؟]*(?:[.?!]+(?=\s|$)\s*|[。？！।؟]+\s*|$)")
_THAI_SENTENCE_BREAK = re.compile(r"\s+(?=ถ้า)|(?<=\{emergency\})\s+")
# The opener that says 112 (``danger_first``): after it, answers drop their
# own "if you are in danger now, call 112" sentence (readers: 112 twice in
# one reply reads as a form letter).
OPENER = "danger_first"


@functools.lru_cache(maxsize=None)
def text_without_emergency(key: str, language: str) -> str:
    """One catalogue text without its sentence that gives the emergency number."""
    language = supported(language)
    raw = raw_texts(language)[key]
    if "{emergency}" not in raw:
        return text(key, language)
    if languages()[language].script == "thai":
        sentences, joiner = _THAI_SENTENCE_BREAK.split(raw), " "
    else:
        sentences, joiner = [m.group(0) for m in _SENTENCE.finditer(raw) if m.group(0)], ""
    kept = joiner.join(s for s in sentences if "{emergency}" not in s).strip()
    return kept.format_map(fact_values(language))


def reply(key: Union[str, Sequence[str]], language: str, extra: Sequence[str] = ()) -> str:
    """A whole bot turn: the answer (one key, or several composed in order,
    e.g. ``["danger_first", "situation_self"]``), any ``extra`` paragraphs,
    then the contact block.

    The emergency answer starts with 112 by itself, so 112 comes first; after
    the opener, the answers do not say 112 again.
    """
    keys = [key] if isinstance(key, str) else list(key)
    parts = [
        text_without_emergency(k, language) if keys[0] == OPENER and i else text(k, language)
        for i, k in enumerate(keys)
    ]
    return "\n\n".join([*parts, *extra, text("contact_block", language)])


def question_buttons(language: str) -> List[Dict[str, str]]:
    """Buttons for the main questions, in the given language."""
    return [
        {"title": text(f"button_{key}", language), "payload": f"/{key}"}
        for key in MAIN_QUESTIONS
    ]


def language_buttons(codes: Sequence[str] = ()) -> List[Dict[str, str]]:
    """The language picker: each language named in itself (only ``codes``,
    in that order, when given)."""
    chosen = [languages()[code] for code in codes] if codes else list(languages().values())
    return [
        {
            "title": lang.name,
            "payload": '/change_language{"language": "%s"}' % lang.code,
        }
        for lang in chosen
    ]


# Answers that offer the main questions as buttons, for a way forward.
KEYS_WITH_QUESTION_BUTTONS = frozenset(
    {"greet", "out_of_scope", "nlu_fallback", "unsupported_language", "change_language"}
)


def turn(
    key: Union[str, Sequence[str]],
    language: str,
    offer_languages: bool = False,
    ask: Sequence[str] = (),
) -> Dict[str, object]:
    """One bot turn as a message: text with the contact block, buttons, language.

    ``offer_languages`` adds the language picker (first message too short to
    tell, or a language we do not support). ``ask``: other languages the
    message may be in (romanised Russian or Ukrainian, issue 17): after the
    answer, each is asked "do you write in ...?" in its own words, and the
    picker offers the answer's language and those.
    """
    language = supported(language)
    ask = [code for code in ask if code in languages() and code != language]
    buttons: List[Dict[str, str]] = []
    keys = [key] if isinstance(key, str) else list(key)
    main = keys[-1]
    if main in KEYS_WITH_QUESTION_BUTTONS:
        buttons.extend(question_buttons(language))
    if offer_languages:
        buttons.extend(language_buttons())
    elif ask:
        buttons.extend(language_buttons([language, *ask]))
    return {
        "text": reply(keys, language, [text("ask_language", code) for code in ask]),
        "buttons": buttons,
        "language": language,
        "rtl": languages()[language].rtl,
    }


def ui_strings(language: str) -> Dict[str, str]:
    """What the chat widget needs for one language, facts included."""
    language = supported(language)
    strings = {
        key: text(key, language)
        for key in raw_texts(language)
        if key.startswith(("ui_", "button_")) or key == "contact_block"
    }
    return {
        "language": language,
        "name": languages()[language].name,
        "rtl": languages()[language].rtl,
        "texts": strings,
        **fact_values(language),
        "phone_uri": phone_uri(),
    }


def problems() -> List[str]:
    """Everything wrong with the catalogue; empty when it is complete.

    Checks: every supported language has a file with exactly the reference
    keys; every placeholder is a known fact; every rendering contains its
    required facts; no text retypes a fact instead of using its placeholder.
    """
    found: List[str] = []
    reference_language = default_language()
    reference_keys = set(raw_texts(reference_language))
    literal_facts = {
        name: value
        for name, value in fact_values(reference_language).items()
        if name != "website"
    }
    literal_facts.update(
        {f"website:{code}": site for code, site in facts()["websites"].items()}
    )
    for code in languages():
        path = CATALOGUE_DIR / f"{code}.yml"
        if not path.exists():
            found.append(f"{code}: no catalogue file {path.name}")
            continue
        texts = raw_texts(code)
        for key in sorted(reference_keys - set(texts)):
            found.append(f"{code}: missing key {key}")
        for key in sorted(set(texts) - reference_keys):
            found.append(f"{code}: unknown key {key}")
        for key, template in texts.items():
            if not template:
                found.append(f"{code}.{key}: empty text")
                continue
            fields = {
                field for _, field, _, _ in string.Formatter().parse(template) if field
            }
            for field in sorted(fields - set(PLACEHOLDERS)):
                found.append(f"{code}.{key}: unknown placeholder {{{field}}}")
            for name, value in literal_facts.items():
                if value in template:
                    found.append(f"{code}.{key}: retypes {name}; use its placeholder")
            rendered = template.format_map(fact_values(code)) if fields <= set(PLACEHOLDERS) else ""
            for name in REQUIRED_FACTS.get(key, ()):
                if fact_values(code)[name] not in rendered:
                    found.append(f"{code}.{key}: lacks {{{name}}}")
        for key, whole in PREFIX_OF.items():
            if key in texts and whole in texts and not texts[whole].startswith(texts[key]):
                found.append(f"{code}.{key}: is not the start of {whole}; keep them equal")
    return found


def main() -> int:
    issues = problems()
    for line in issues:
        print(line)
    print(f"catalogue: {len(languages())} languages, {len(issues)} problems")
    return 1 if issues else 0


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


if __name__ == "__main__":
    raise SystemExit(main())

