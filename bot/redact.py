"""Personal data out of everything that is stored or logged.

People writing to the helpline may be watched, and many type their number,
e-mail, passport number or address. NLU and the actions see the original
message; what a tracker store keeps (bot/tracker_store.py) and what a log
line says has each piece replaced by its kind: ``[phone]``, ``[email]``,
``[url]``, ``[id]``, ``[iban]``, ``[card]``, ``[passport]``, ``[number]``,
``[name]``, ``[address]``.

How each kind is found (docs/decisions.md §10 has the comparison and figures):
- phone numbers: ``phonenumbers``' matcher (any country written with +,
  Finnish ones in every local form), run only when the text has seven digits;
- IBAN, card numbers, Finnish identity codes: a pattern, checked with
  ``python-stdnum`` (mod 97, Luhn, the check character) to name the kind;
- any other run of seven or more digits, spaced or dashed (a foreign number
  in local form, a national identity number, an account): ``[number]``,
  except dates and year ranges; letter-and-digit tokens with four or more
  digits (passport, residence card, DNI): ``[passport]``;
- e-mail addresses and web addresses: patterns;
- names after a self-introduction ("my name is", "minun nimeni on", "меня
  зовут", "我叫" ... in the 20 languages) and street addresses (a street word
  and a house number, Finnish postal code and town, or "I live at ..."):
  patterns from the cue lists below.

The project's own contacts (bot/facts.yml) are not personal data and are kept.

``HELPLINE_STORE_TEXT=none`` (bot/settings.py) stores no user text at all:
intent, language and the answer only.
"""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Optional, Tuple

import phonenumbers
import regex
from stdnum import iban as stdnum_iban
from stdnum import luhn

Span = Tuple[int, int, str]

DIGIT = re.compile(r"\d")
MIN_NUMBER_DIGITS = 7

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
TLDS = (
    "fi|com|org|net|info|io|eu|se|ee|ru|ua|by|kz|pl|ro|md|bg|es|fr|tr|th|vn|cn|ph|np|so|ir|af|"
    "iq|sy|eg|ma|de|uk|co|me|app|ly|gl|biz|online|site|xyz|be|ch|nl|it|pt|us|ca|au|in|pk|ng|ke"
)
URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"']+"
    rf"|\b[\w-]+(?:\.[\w-]+)*\.(?:{TLDS})\b(?:/[^\s<>\"']*)?",
    re.IGNORECASE,
)
IBAN_SHAPE = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b", re.IGNORECASE)
HETU = re.compile(r"\b\d{6}[-+ABCDEFUVWXY]\d{3}[0-9A-Y]\b", re.IGNORECASE)
# Seven or more digits, single separators allowed between them; a leading +
# or an opening bracket; a Chinese resident id may end in X.
NUMBER_RUN = re.compile(r"(?<![0-9A-Za-z])(?:\+|\(\+?)?\d(?:[ \-./()]{0,2}\d){6,}[xX]?(?![0-9A-Za-z])")
DATE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")
YEAR_RANGE = re.compile(r"^(?:19|20)\d\d\s?[-–/]\s?(?:19|20)\d\d$")
PASSPORT = re.compile(r"(?<![\w@.])(?=[0-9A-Za-z]{6,14}(?![\w@]))(?=(?:[A-Za-z]*\d){4})(?=\d*[A-Za-z])[0-9A-Za-z]+(?![\w@])")

# Self-introductions: the name is the next one to three words (one word, or
# a short run of Han characters, where words are not spaced).
NAME_CUES = [
    r"my name is", r"my name's", r"i am called", r"i'm called", r"call me", r"this is",
    r"minun nimeni on", r"mun nimi on", r"nimeni on", r"minä olen", r"mä oon", r"oon",
    r"jag heter", r"mitt namn är", r"jag är",
    r"меня зовут", r"моё имя", r"мое имя", r"моє ім'я", r"моє імʼя", r"мене звати", r"мене звуть",
    r"казвам се", r"името ми е", r"аз съм",
    r"minu nimi on", r"mu nimi on", r"olen",
    r"ismi", r"اسمي", r"إسمي", r"انا اسمي", r"أنا اسمي",
    r"اسم من", r"اسمم", r"اسم من هست",
    r"magacaygu waa", r"magacayga waa", r"magacaa", r"waxaa la i yiraahdaa",
    r"je m'appelle", r"je m’appelle", r"mon nom est", r"moi c'est", r"je suis",
    r"me llamo", r"mi nombre es", r"soy",
    r"benim adım", r"adım", r"ben",
    r"tên tôi là", r"tôi tên là", r"tôi là", r"em tên là", r"em tên", r"tên em là", r"ten toi la", r"toi ten la",
    r"nazywam się", r"mam na imię", r"jestem",
    r"mă numesc", r"ma numesc", r"numele meu este", r"numele meu e", r"sunt",
    r"ang pangalan ko ay", r"ang pangalan ko", r"pangalan ko ay", r"ako si",
    r"मेरो नाम",
]
NAME_CUE_ATTACHED = re.compile(r"(?:我叫|我的名字是|我的名字叫|我是|本人叫|名叫)\s*([\u4e00-\u9fff]{2,4})")
THAI_NAME = re.compile(r"(?<!ของ)(?:ฉันชื่อ|ผมชื่อ|ดิฉันชื่อ|หนูชื่อ|ชื่อของฉันคือ|ชื่อของผมคือ|ชื่อของฉัน|ชื่อของผม)\s*([\u0e00-\u0e7f]{2,20}(?:\s+[\u0e00-\u0e7f]{2,20})?)")
# A word: a letter, then letters with their combining marks (Devanagari, Thai
# and Arabic vowel signs, which Python's re leaves out of \w), digits,
# apostrophes, hyphens. Matched with the `regex` module, as bot/language.py does.
WORD = r"\p{L}[\p{L}\p{M}\p{N}_'’\-]*"
NEPALI_NAME = regex.compile(rf"मेरो नाम\s+({WORD}(?:\s+{WORD})?)\s*(?:हो|छ)")
NAME_STOP = {
    "and", "i", "from", "ja", "och", "и", "і", "та", "et", "y", "ve", "và", "i", "și", "si",
    "at", "in", "a", "an", "the", "not", "here", "very", "so", "too", "just", "also", "from",
    "olen", "oon", "is", "am", "sa", "at", "ako", "ay", "و", "من", "va", "iyo", "e", "och",
}

# Street words written onto the name (Finnish, Swedish, Estonian, Turkish
# compounds) and street words written apart ("Main St 5", "Pärnu mnt 12").
STREET_SUFFIX = (
    r"katu|tie|kuja|polku|väylä|tori|raitti|rinne|ranta|kaari|aukio|puistikko|kaarre|mäki|piha|"
    r"vägen|väg|gatan|gata|gränd|stigen|allén|backen|tänav|maantee|puiestee|caddesi|sokak|sokağı"
)
STREET_WORD = r"street|st|road|rd|avenue|ave|lane|tn|mnt|tänav|cad|caddesi|sk|sok|sokak|sokağı|mah|mahallesi"
STREET_PREFIX = (
    r"ul\.|ulica|al\.|aleja|os\.|str\.|strada|bd\.|bulevardul|calea|calle|c/|avenida|av\.|"
    r"rue|avenue|boulevard|bd|chemin|улица|ул\.|вул\.|вулиця|бул\.|булевард|пр\.|проспект|"
    r"đường|phố|kalye|street"
)
HOUSE = r"\d{1,4}(?:\s?[A-Za-z](?![A-Za-z]))?(?:\s?[-/]?\s?\d{1,4})?(?:\s?(?:as\.?|lgh|bst|kv|apt|ap\.|m\.|кв\.?|ап\.?)\s?\d{1,4})?"
POSTCODE_TOWN = r"(?:\s*,?\s*\d{5}\s+[^\W\d_]+)?"
ADDRESS = re.compile(
    rf"\b[^\W\d_][\w\-]*(?:{STREET_SUFFIX})\.?\s+{HOUSE}{POSTCODE_TOWN}"
    rf"|\b[^\W\d_][\w\-]*\s+(?:{STREET_WORD})\b\.?\s*(?:no\.?|nr\.?)?\s*{HOUSE}{POSTCODE_TOWN}"
    rf"|(?<!\w)(?:{STREET_PREFIX})\s*[^\W\d_][\w\-]*(?:\s+[^\W\d_][\w\-]*){{0,2}}\s*(?:nr\.?|no\.?|№)?\s*{HOUSE}{POSTCODE_TOWN}",
    re.IGNORECASE,
)
# A Chinese address: province, city, district, road and number, unit, room.
CJK_ADDRESS = re.compile(r"[\u4e00-\u9fff]{0,16}(?:路|街|道|巷|弄|村)\d+号(?:\d+(?:单元|栋|幢|楼|层|室|号))*")
POSTCODE = re.compile(r"\b\d{5}\s+[A-ZÅÄÖ][a-zåäö]+")  # a Finnish postal code and town
# "I live at ..." in the 20 languages: the next few words up to punctuation.
ADDRESS_CUES = [
    r"i live at", r"i live on", r"my address is", r"address:", r"osoite on", r"osoitteeni on", r"osoite:",
    r"asun osoitteessa", r"min adress är", r"adressen är", r"jag bor på", r"мой адрес", r"адрес:",
    r"моя адреса", r"адреса:", r"адресът ми е", r"minu aadress on", r"aadress:", r"عنواني", r"عنوانی",
    r"آدرس من", r"cinwaankaygu waa", r"mon adresse est", r"j'habite au", r"j'habite à", r"mi dirección es",
    r"vivo en la", r"adresim", r"địa chỉ của tôi là", r"địa chỉ:", r"我的地址是", r"地址：", r"地址:",
    r"mój adres to", r"mieszkam na", r"mieszkam przy", r"adresa mea este", r"locuiesc pe", r"locuiesc la",
    r"ang address ko ay", r"nakatira ako sa", r"मेरो ठेगाना", r"ที่อยู่ของฉันคือ", r"ที่อยู่",
]

PLACEHOLDER = "[{}]"


def _cue_pattern(cues: Iterable[str], tail: str) -> "regex.Pattern[str]":
    alternatives = "|".join(sorted((re.escape(c).replace(r"\ ", r"\s+") for c in cues), key=len, reverse=True))
    return regex.compile(rf"(?<!\w)(?:{alternatives})\s*[:,\-]?\s*{tail}", regex.IGNORECASE)


NAME_AFTER_CUE = _cue_pattern(NAME_CUES, rf"({WORD}(?:\s+{WORD}){{0,2}})")
ADDRESS_AFTER_CUE = _cue_pattern(ADDRESS_CUES, r"([^.!?\n,;]{3,60}?\d[^.!?\n;]{0,30}?)(?=[.!?\n;]|,\s|$)")


@lru_cache(maxsize=1)
def own_contacts() -> Tuple[str, ...]:
    """The helpline's own number, e-mail and websites, compacted (kept as they are)."""
    from bot import catalogue

    facts = catalogue.facts()
    values = [str(v) for v in facts.values() if isinstance(v, (str, int))]
    for v in facts.values():
        if isinstance(v, dict):
            values.extend(str(x) for x in v.values())
    return tuple(_compact(v) for v in values if v)


def _compact(text: str) -> str:
    return re.sub(r"[\s\-().]", "", text).lower()


def _is_own(value: str) -> bool:
    compact = _compact(value)
    if compact in own_contacts():
        return True
    if compact.startswith("0") and compact[1:].isdigit():  # a Finnish number in local form
        return "+358" + compact[1:] in own_contacts()
    return False


def _name_spans(text: str) -> List[Span]:
    found: List[Span] = []
    for match in NAME_AFTER_CUE.finditer(text):
        words = list(regex.finditer(WORD, match.group(1)))
        taken = []
        for index, word in enumerate(words):
            token = word.group(0)
            lowered = token.lower()
            if lowered in NAME_STOP:
                break
            if index > 0 and token[:1].islower():
                break  # a second word is part of the name only when capitalised
            if index == 0 and token[:1].islower() and not _strong_cue(match.group(0)):
                break  # "I am tired": weak cues need a capital letter
            taken.append(word)
        if taken:
            base = match.start(1)
            found.append((base + taken[0].start(), base + taken[-1].end(), "name"))
    for pattern in (NAME_CUE_ATTACHED, THAI_NAME, NEPALI_NAME):
        for match in pattern.finditer(text):
            found.append((match.start(1), match.end(1), "name"))
    return found


STRONG_CUES = re.compile(
    r"name|nimi|nimeni|heter|namn|зовут|имя|ім|звати|звуть|казвам|името|اسم|magac|appelle|nom est|"
    r"llamo|nombre|adım|tên|nazywam|imię|numesc|numele|pangalan|नाम|ชื่อ",
    re.IGNORECASE,
)


def _strong_cue(cue_text: str) -> bool:
    return bool(STRONG_CUES.search(cue_text))


def _number_kind(value: str) -> Optional[str]:
    """The kind of a run of digits, or None when it is a date or a year range."""
    stripped = value.strip()
    if DATE.match(stripped) or YEAR_RANGE.match(stripped):
        return None
    digits = re.sub(r"\D", "", stripped)
    if 13 <= len(digits) <= 19 and luhn.is_valid(digits):
        return "card"
    return "number"


def spans(text: str) -> List[Span]:
    """Every piece of personal data in ``text``: (start, end, kind), not overlapping."""
    found: List[Span] = []
    for match in EMAIL.finditer(text):
        found.append((match.start(), match.end(), "email"))
    for match in URL.finditer(text):
        found.append((match.start(), match.end(), "url"))
    digits = len(DIGIT.findall(text))
    if digits >= 4:
        for match in IBAN_SHAPE.finditer(text):
            kind = "iban" if stdnum_iban.is_valid(match.group(0)) else "number"
            if kind == "iban" or len(DIGIT.findall(match.group(0))) >= MIN_NUMBER_DIGITS:
                found.append((match.start(), match.end(), kind))
        for match in HETU.finditer(text):
            found.append((match.start(), match.end(), "id"))
        for match in PASSPORT.finditer(text):
            found.append((match.start(), match.end(), "passport"))
    if digits >= MIN_NUMBER_DIGITS:
        for match in phonenumbers.PhoneNumberMatcher(text, "FI", leniency=phonenumbers.Leniency.VALID):
            if _number_kind(match.raw_string):
                found.append((match.start, match.end, "phone"))
        for match in NUMBER_RUN.finditer(text):
            kind = _number_kind(match.group(0))
            if kind:
                found.append((match.start(), match.end(), kind))
    found.extend(_name_spans(text))
    if digits:
        for pattern in (ADDRESS, CJK_ADDRESS, POSTCODE):
            for match in pattern.finditer(text):
                found.append((match.start(), match.end(), "address"))
        for match in ADDRESS_AFTER_CUE.finditer(text):
            found.append((match.start(1), match.end(1), "address"))
    own = [s for s in found if _is_own(text[s[0]:s[1]])]
    return _merge([s for s in found if not any(s[0] < o[1] and o[0] < s[1] for o in own)])


PRIORITY = {"email": 0, "url": 1, "iban": 2, "card": 3, "id": 4, "phone": 5, "address": 6,
            "passport": 7, "number": 8, "name": 9}


def _merge(found: List[Span]) -> List[Span]:
    """Overlapping spans become one, named by the longest (then most specific) kind."""
    merged: List[Span] = []
    for start, end, kind in sorted(found):
        if merged and start < merged[-1][1]:
            last_start, last_end, last_kind = merged[-1]
            rank = lambda k, a, b: (-(b - a), PRIORITY[k])  # noqa: E731
            better = min((last_kind, last_start, last_end), (kind, start, end),
                         key=lambda item: rank(*item))[0]
            merged[-1] = (last_start, max(last_end, end), better)
        else:
            merged.append((start, end, kind))
    return merged


def redact(text: Any) -> Any:
    """``text`` with each piece of personal data replaced by ``[kind]``."""
    if not isinstance(text, str) or not text:
        return text
    pieces = spans(text)
    if not pieces:
        return text
    out, last = [], 0
    for start, end, kind in pieces:
        out.append(text[last:start])
        out.append(PLACEHOLDER.format(kind))
        last = end
    out.append(text[last:])
    return "".join(out)


# Identifiers the bot itself made (the gateway's message id): kept.
KEPT_KEYS = frozenset({"message_id", "helpline_message_id"})


def redact_value(value: Any) -> Any:
    """Strings anywhere inside dicts and lists, redacted (the bot's own ids kept)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: item if key in KEPT_KEYS else redact_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_value(item) for item in value]
    return value


NOT_STORED = ""
# Set in the stored parse data: this message has been redacted (or emptied).
STORED_MARK = "helpline_stored"
# Parse data made by the classifiers, not copied from the message.
DERIVED_KEYS = frozenset(
    {"intent", "intent_ranking", "language", "danger", "response_selector", "message_id", "helpline_stored"}
)


def stored_user_event(data: Dict[str, Any], keep_text: bool = True) -> Dict[str, Any]:
    """A user event's dict as it may be stored: text redacted, or none at all.

    Redacted: ``text``, metadata and every string of the parse (its text,
    entities, the copy of the metadata).
    Without text (``keep_text=False``): only intent, language, danger signal
    and timing remain of what the person wrote.
    """
    data = dict(data)
    parse = dict(data.get("parse_data") or {})
    if keep_text:
        data["text"] = redact(data.get("text"))
        data["metadata"] = redact_value(data.get("metadata"))
        # what the classifiers made of it (intent, ranking, language, danger)
        # holds no text of the person's; everything else in the parse (its
        # text, entities, the copy of the metadata, anything unknown) is redacted
        parse = {k: (v if k in DERIVED_KEYS else redact_value(v)) for k, v in parse.items()}
    else:
        data["text"] = NOT_STORED
        data["metadata"] = {}
        if "text" in parse:
            parse["text"] = NOT_STORED
        parse["entities"] = []
        parse["metadata"] = {}
    parse[STORED_MARK] = "redacted" if keep_text else "none"
    data["parse_data"] = parse
    return data


class RedactingLogRecords:
    """A log record factory: each record's message redacted once formatted.

    Installed by :func:`install_log_redaction`. Records are only made for
    enabled levels, so at the default level this costs nothing for Rasa's
    debug lines (which quote messages).
    """

    def __init__(self, factory):
        self.factory = factory

    def __call__(self, *args, **kwargs):
        record = self.factory(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to logging
            return record
        record.msg, record.args = redact(message), None
        return record


def redact_structlog_event(logger: Any, method: str, event: Dict[str, Any]) -> Dict[str, Any]:
    """A structlog processor: every string of the event redacted (Rasa logs
    ``parse_data_text=...`` through structlog at debug level)."""
    return {key: redact_value(value) for key, value in event.items()}


def install_log_redaction() -> None:
    """Every log line of this process, redacted (idempotent): the standard
    logging records and Rasa's structlog events."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, RedactingLogRecords):
        logging.setLogRecordFactory(RedactingLogRecords(factory))
    try:
        import structlog
    except ImportError:  # pragma: no cover - Rasa 3.6 always has it
        return
    processors = list(structlog.get_config().get("processors") or [])
    if redact_structlog_event not in processors:
        structlog.configure(processors=[redact_structlog_event, *processors])
