"""A child or teenager saying their own age: "I'm 15", "olen 16", "мне 15 лет".

A minor who is the victim must get the safest answer (112 in danger, the
Assistance System 24/7), never "your minor children can also be admitted".
The intent classifier often reads "I'm 16 and a man makes me work" as an
adult's situation; a stated age of 10 to 17 in the first person is a plain
signal, so it is read by a rule (actions/conversation.py uses it).

Only the person's own age counts ("my sister is 15" is someone else's
situation). Digits in Arabic, Persian, Devanagari and Thai script are read
as digits.
"""
from __future__ import annotations

import re
import unicodedata

AGE = r"(1[0-7])"
# After a bare "I am 15": the end of the clause, "and", or a word for years
# ("tengo 15 compañeros", "mam 15 godzin" are not ages).
TAIL = (
    r"(?=\s*(?:[,.!?;:)]|$)|\s+(?:and|ja|och|å|o|и|і|i|y|et|ve|và|years?|yrs?|y/o|yo|v|vuotias|"
    r"vuotiaana|år|aastane|лет|года|год|років|роки|рік|lat|años|anos|ans|ani|yaşında|години)\b)"
)
# The first person and an age, in the 20 languages (and common spellings
# without accents).
PATTERNS = [
    rf"\bi'?m\s+(?:only\s+|just\s+)?{AGE}{TAIL}", rf"\bi\s+am\s+(?:only\s+|just\s+)?{AGE}{TAIL}",
    rf"\bim\s+{AGE}{TAIL}",
    rf"\b(?:olen|oon|ole)\s+(?:vasta\s+|vaan\s+|vain\s+)?{AGE}{TAIL}",
    rf"\bjag?\s+(?:är|e|ä|ar)\s+(?:bara\s+)?{AGE}{TAIL}", rf"\bär\s+{AGE}\s+år\b",
    rf"\b(?:ma\s+olen|mina\s+olen|olen)\s+{AGE}{TAIL}",
    rf"\bмне\s+(?:всего\s+|только\s+)?{AGE}{TAIL}", rf"\bмені\s+(?:лише\s+|тільки\s+)?{AGE}{TAIL}",
    rf"\b(?:аз\s+)?съм\s+на\s+{AGE}{TAIL}", rf"\bна\s+{AGE}\s+(?:години\s+)?съм\b",
    rf"\bmam\s+(?:dopiero\s+|tylko\s+)?{AGE}{TAIL}", rf"\bam\s+(?:doar\s+|numai\s+)?{AGE}\s+ani\b",
    rf"\b{AGE}\s+yaş[ıi]nday[ıi]m\b", rf"\bben\s+{AGE}\s+yaş[ıi]nda\b", rf"\b{AGE}\s+yaşındayim\b",
    rf"\btengo\s+(?:solo\s+|sólo\s+)?{AGE}{TAIL}", rf"\bj'?\s?ai\s+(?:seulement\s+|que\s+)?{AGE}\s+ans\b",
    rf"\b{AGE}\s+(?:taong\s+gulang|taon|anyos)\s+(?:pa\s+lang\s+)?ako\b", rf"\bako\s+(?:ay\s+)?{AGE}{TAIL}",
    rf"\b{AGE}\s+(?:pa\s+lang|palang)\s+ako\b",
    rf"\b(?:tôi|toi|em|mình|minh|con|cháu|chau)\s+(?:mới\s+|moi\s+|năm\s+nay\s+|nam\s+nay\s+)?{AGE}\s+(?:tuổi|tuoi)\b",
    rf"我(?:今年|才|只有)?{AGE}(?:岁|歲)", rf"(?:ฉัน|ผม|หนู|ดิฉัน)อายุ\s*{AGE}",
    rf"عمري\s*{AGE}", rf"(?:أنا|انا)\s+{AGE}\s+(?:سنة|سنه|عام)", rf"{AGE}\s*سالمه", rf"سنم\s*{AGE}",
    rf"(?:म|मेरो\s+उमेर)\s+{AGE}\s*(?:वर्ष|बर्ष|वर्षको|बर्षको|वर्षकी|बर्षकी|साल)",
    rf"\b{AGE}\s*(?:वर्ष|बर्ष)(?:को|की)\s+(?:हुँ|छु)",
    rf"\bwaxaan\s+ahay\s+{AGE}\s+jir\b", rf"\b{AGE}\s+jir\s+(?:baan|ayaan)\s+ahay\b", rf"\bda'?dayda\s+waa\s+{AGE}{TAIL}",
]
STATED_AGE = re.compile("|".join(f"(?:{p})" for p in PATTERNS), re.IGNORECASE)
NATIVE_DIGIT = re.compile(r"[\u0660-\u0669\u06f0-\u06f9\u0966-\u096f\u0e50-\u0e59]")


def ascii_digits(text: str) -> str:
    return NATIVE_DIGIT.sub(lambda m: str(unicodedata.digit(m.group(0))), text)


def says_minor(text: str) -> bool:
    """The person says they are 10 to 17 years old."""
    return bool(text) and bool(STATED_AGE.search(ascii_digits(text)))
