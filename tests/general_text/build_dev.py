#!/usr/bin/env python3
"""Build the DEV split of the general-text language-identification set.

Copy of build.py (the frozen TEST split, /tmp/gentext/<code>.yml) changed to
write /tmp/gentext/dev/<code>.yml from the same sources at the same pinned
commits, with the same filters and the same structure, plus `split: dev`.

Disjointness from the test split (read from the frozen test files, which
are not modified):
  * sentence candidates are built exactly as in build.py, minus every
    sentence of the test file (also compared lower-cased); if fewer than
    MIN_SENT_CANDIDATES remain, the next source file is added, as build.py
    does; then every k-th of them is taken with the spread shifted by half a
    step (index int((i + 0.5) * k)).
  * the word / pair pool is every sentence of the source that is neither a
    test sentence nor a dev sentence.
  * word and pair candidates equal to any item of the test file's `words` or
    `word_pairs` (exactly or after lower-casing) are dropped before the
    half-step spread.
  * a language whose test file has no words / word_pairs gets sentences only.

Usage:  python3 /tmp/gentext/build_dev.py [--out DIR] [--test DIR]
                                          [--mirror DIR] [codes...]

Notes inherited from build.py follow.

Inputs are public GitHub repositories, read as bare git snapshots (the search
tool's `fetch` puts them at /work/.mirror/<owner>+<name>/repo).  Every file is
read with `git show <commit>:<path>` at the commit pinned below, so a rebuild
gives byte-identical output.  Nothing is downloaded by this script.

Selection is deterministic: candidates are filtered in file order and every
k-th one is taken (k = len(candidates) / 200, fractional, spread over the
whole list).  `sentences` come from the first file(s) of a language
(`sent_files`); `word_pairs` and `words` are taken only from the remaining
sentences of the same source (the other files, plus the sentence-file
sentences that were not selected), never from the 200 selected sentences.

Not used, on purpose: lingua-py's language-testdata (kept apart as an outside
check) and the wordfreq word lists (the detector is trained on them).

Other inputs: the CC0 Nepali dictionary word list (bisug/Nepali-Wordlist-
Dataset, used only to keep names out of Nepali words/pairs), English UD
treebanks EWT + GUM (English vocabulary, to keep English words out of other
languages' words/pairs), and for Tagalog the Debian package `wamerican`
(/usr/share/dict/american-english; `apt-get install wamerican`).

(build.py usage: python3 /tmp/gentext/build.py [--out DIR] [--mirror DIR] [codes...])
"""
import argparse
import json
import os
import re
import subprocess
import sys
import unicodedata

N = 200
MIRROR = "/work/.mirror"

# --------------------------------------------------------------------------
# Sources.  kind "ud": CoNLL-U with '# text =' lines; kind "sib": SIB-200 TSV
# (index_id, category, text) whose text is the FLORES-200 sentence.
# --------------------------------------------------------------------------
UD = "UniversalDependencies/"
SIB_REPO = "dadelani/sib-200"
SIB_COMMIT = "593cea88519930f776c1a4a1980b6a35b39dca57"
SIB_LICENSE = ("FLORES-200 sentences, CC BY-SA 4.0 (via SIB-200; repo code "
               "Apache-2.0)")


def sib(code):
    base = "data/annotated/%s/" % code
    return dict(kind="sib", repo=SIB_REPO, commit=SIB_COMMIT,
                files=[base + "test.tsv", base + "dev.tsv", base + "train.tsv"],
                sent_files=1, license=SIB_LICENSE)


def ud(name, commit, files, license, sent_files=1):
    return dict(kind="ud", repo=UD + name, commit=commit, files=files,
                sent_files=sent_files, license=license)


# script: expected script of letters; supported: True for the 20 languages
# the helpline detector supports.
LANGS = {
    # ---------------- supported ----------------
    "fi": dict(script="Latn", supported=True, **ud(
        "UD_Finnish-TDT", "5e3a88a671ea673fa330e10cc59f54da587a95a7",
        ["fi_tdt-ud-test.conllu", "fi_tdt-ud-dev.conllu"], "CC BY-SA 4.0")),
    "sv": dict(script="Latn", supported=True, **ud(
        "UD_Swedish-Talbanken", "30067217d275233ed460d0c0abafeaf22d63a3d2",
        ["sv_talbanken-ud-test.conllu", "sv_talbanken-ud-dev.conllu"],
        "CC BY-SA 4.0")),
    "en": dict(script="Latn", supported=True, **ud(
        "UD_English-EWT", "15d613d8447b3478787d4c278730a1e48a945efb",
        ["en_ewt-ud-test.conllu", "en_ewt-ud-dev.conllu"], "CC BY-SA 4.0")),
    "ru": dict(script="Cyrl", supported=True, **ud(
        "UD_Russian-GSD", "5400f2fd7264b7699727bb61b09f53841899df26",
        ["ru_gsd-ud-test.conllu", "ru_gsd-ud-dev.conllu"], "CC BY-SA 4.0")),
    "uk": dict(script="Cyrl", supported=True, **ud(
        "UD_Ukrainian-IU", "21f641ba6109044ce9aafd4b2cbfa20a4ac6e479",
        ["uk_iu-ud-test.conllu", "uk_iu-ud-dev.conllu"], "CC BY-NC-SA 4.0")),
    "et": dict(script="Latn", supported=True, **ud(
        "UD_Estonian-EDT", "be5459fbb6edc1523a6f2e4a56df134b4fbbc3a6",
        ["et_edt-ud-test.conllu", "et_edt-ud-dev.conllu"], "CC BY-NC-SA 4.0")),
    "ro": dict(script="Latn", supported=True, **ud(
        "UD_Romanian-RRT", "cc00bf852bc3c19ac345457eef8b3e5665392a72",
        ["ro_rrt-ud-test.conllu", "ro_rrt-ud-dev.conllu"], "CC BY-SA 4.0")),
    "bg": dict(script="Cyrl", supported=True, **ud(
        "UD_Bulgarian-BTB", "b5cd6324b2015dbf3cd328ddebefc54dceddd202",
        ["bg_btb-ud-test.conllu", "bg_btb-ud-dev.conllu"], "CC BY-NC-SA 3.0")),
    "pl": dict(script="Latn", supported=True, **ud(
        "UD_Polish-PDB", "27235e131faed50feb291faed1ff2fa5389a06be",
        ["pl_pdb-ud-test.conllu", "pl_pdb-ud-dev.conllu"], "CC BY-NC-SA 4.0")),
    # UD_Arabic-PADT's files are too big for the snapshot store; PUD instead.
    "ar": dict(script="Arab", supported=True, **ud(
        "UD_Arabic-PUD", "be733f45d21f42d506c62930f806ed2182a5ee3d",
        ["ar_pud-ud-test.conllu"], "CC BY-SA 3.0")),
    # PerDT rather than Seraji: Seraji tags names as NOUN, PerDT has PROPN.
    "fa": dict(script="Arab", supported=True, **ud(
        "UD_Persian-PerDT", "d728a98d73bd2e52b693c582f249e162a76b6b8f",
        ["fa_perdt-ud-test.conllu", "fa_perdt-ud-dev.conllu"],
        "CC BY-SA 4.0")),
    "so": dict(script="Latn", supported=True, **sib("som_Latn")),
    "tr": dict(script="Latn", supported=True, **ud(
        "UD_Turkish-BOUN", "f828b02872123a8dfb336584eab0767c4e55c5f9",
        ["tr_boun-ud-test.conllu", "tr_boun-ud-dev.conllu"], "CC BY-SA 4.0")),
    "fr": dict(script="Latn", supported=True, **ud(
        "UD_French-GSD", "830e2782304af08b3cc1c9250475343e04274d81",
        ["fr_gsd-ud-test.conllu", "fr_gsd-ud-dev.conllu"], "CC BY-SA 4.0")),
    "es": dict(script="Latn", supported=True, **ud(
        "UD_Spanish-GSD", "57c045644664e5c1e169263cc4e3b95e40c078ba",
        ["es_gsd-ud-test.conllu", "es_gsd-ud-dev.conllu"], "CC BY-SA 4.0")),
    "th": dict(script="Thai", supported=True, **ud(
        "UD_Thai-PUD", "516638d39adfbc03fa3e7f7b33ce59555055a2d9",
        ["th_pud-ud-test.conllu"], "CC BY-SA 3.0")),
    # VTB test/train have no '# text' lines; dev has them (tokenised text,
    # detokenised below).
    "vi": dict(script="Latn", supported=True, **ud(
        "UD_Vietnamese-VTB", "e8fa54835582fb5d0c767f19f0992675726fa084",
        ["vi_vtb-ud-dev.conllu"], "CC BY-SA 4.0")),
    # Data lives on the repo's dev branch (master holds only the README).
    "tl": dict(script="Latn", supported=True, **ud(
        "UD_Tagalog-NewsCrawl", "f997fe90e8383a00a8f199ad4cf61e9988b45ebe",
        ["tl_newscrawl-ud-test.conllu", "tl_newscrawl-ud-dev.conllu"],
        "CC BY-SA 4.0")),
    "zh": dict(script="Hani", supported=True, **ud(
        "UD_Chinese-GSDSimp", "eb3aed31ebb170897405ee5cd1db83a1a0b11864",
        ["zh_gsdsimp-ud-test.conllu", "zh_gsdsimp-ud-dev.conllu"],
        "CC BY-SA 4.0")),
    "ne": dict(script="Deva", supported=True, **sib("npi_Deva")),
    # ---------------- not supported ----------------
    "de": dict(script="Latn", supported=False, **ud(
        "UD_German-GSD", "297fcf350481058d0737a27f0f8fd03b2eadd67a",
        ["de_gsd-ud-test.conllu", "de_gsd-ud-dev.conllu"], "CC BY-SA 4.0")),
    "pt": dict(script="Latn", supported=False, **ud(
        "UD_Portuguese-Bosque", "5de7ac34028ff6d1718031a4b0ae895717ed8dbe",
        ["pt_bosque-ud-test.conllu", "pt_bosque-ud-dev.conllu"],
        "CC BY-SA 4.0")),
    "it": dict(script="Latn", supported=False, **ud(
        "UD_Italian-ISDT", "689c1bf3c7d132903d2196ac69b76a0933c90997",
        ["it_isdt-ud-test.conllu", "it_isdt-ud-dev.conllu"],
        "CC BY-NC-SA 3.0")),
    "nl": dict(script="Latn", supported=False, **ud(
        "UD_Dutch-Alpino", "95e374a608d114ec6c6b32f0fbd5f324d29ef286",
        ["nl_alpino-ud-test.conllu", "nl_alpino-ud-dev.conllu"],
        "CC BY-SA 4.0")),
    # UD_Hindi-HDTB's files are too big for the snapshot store; PUD instead.
    "hi": dict(script="Deva", supported=False, **ud(
        "UD_Hindi-PUD", "8bc630f73e0737ce5ed9eaa97abf11f172ecc9bd",
        ["hi_pud-ud-test.conllu"], "CC BY-SA 3.0")),
    "id": dict(script="Latn", supported=False, **ud(
        "UD_Indonesian-GSD", "89491e4d51c15da157175c303213ae5ff6f05f9d",
        ["id_gsd-ud-test.conllu", "id_gsd-ud-dev.conllu"], "CC BY-SA 4.0")),
    "da": dict(script="Latn", supported=False, **ud(
        "UD_Danish-DDT", "85faf86dc39f735722925fb1e822070d83649068",
        ["da_ddt-ud-test.conllu", "da_ddt-ud-dev.conllu"], "CC BY-SA 4.0")),
    "no": dict(script="Latn", supported=False, **ud(
        "UD_Norwegian-Bokmaal", "e83586ff8b324f147e767dccd7ed801b3666ca08",
        ["no_bokmaal-ud-test.conllu", "no_bokmaal-ud-dev.conllu"],
        "CC BY-SA 4.0")),
    "cs": dict(script="Latn", supported=False, **ud(
        "UD_Czech-FicTree", "6fce06709b29e4d24f88bc1871bfe2bb3edff0f9",
        ["cs_fictree-ud-test.conllu", "cs_fictree-ud-dev.conllu"],
        "CC BY-NC-SA 4.0")),
    "sk": dict(script="Latn", supported=False, **ud(
        "UD_Slovak-SNK", "d1ab58f827508e7c18610b931786f3b4a3a6e1be",
        ["sk_snk-ud-test.conllu", "sk_snk-ud-dev.conllu"], "CC BY-SA 4.0")),
    "hr": dict(script="Latn", supported=False, **ud(
        "UD_Croatian-SET", "54322513ea2a96eae0b974d1702d327d5785078f",
        ["hr_set-ud-test.conllu", "hr_set-ud-dev.conllu"], "CC BY-SA 4.0")),
    "hu": dict(script="Latn", supported=False, **ud(
        "UD_Hungarian-Szeged", "8f08ba648e6f6345212a721b7cb1ad78c5924f0e",
        ["hu_szeged-ud-test.conllu", "hu_szeged-ud-dev.conllu",
         "hu_szeged-ud-train.conllu"], "CC BY-NC-SA 3.0")),
    "lt": dict(script="Latn", supported=False, **ud(
        "UD_Lithuanian-ALKSNIS", "46ffdba3396a793c3f0f47435ff9b7066c9aefa0",
        ["lt_alksnis-ud-test.conllu", "lt_alksnis-ud-dev.conllu"],
        "CC BY-SA 4.0")),
    # LVTB test file is too big for the snapshot store; dev only.
    "lv": dict(script="Latn", supported=False, **ud(
        "UD_Latvian-LVTB", "aaedfc18ee5ff98d93fce737a97f9f9ca272b074",
        ["lv_lvtb-ud-dev.conllu"], "CC BY-SA 4.0")),
    # UD_Macedonian-MTB has only 155 sentences; FLORES via SIB-200 instead.
    "mk": dict(script="Cyrl", supported=False, **sib("mkd_Cyrl")),
    # Serbian in Latin script (UD SET, news).
    "sr": dict(script="Latn", supported=False, **ud(
        "UD_Serbian-SET", "c88193deceecd1c5332f927c1aa0f888085f63f7",
        ["sr_set-ud-test.conllu", "sr_set-ud-dev.conllu"], "CC BY-SA 4.0")),
    "be": dict(script="Cyrl", supported=False, **ud(
        "UD_Belarusian-HSE", "1233cdd9e512a426e31cdcf95dcb0bd3a4752e54",
        ["be_hse-ud-test.conllu", "be_hse-ud-dev.conllu"], "CC BY-SA 4.0")),
    "ms": dict(script="Latn", supported=False, **sib("zsm_Latn")),
}

# Nepali has no POS-tagged source; proper nouns (mostly transliterated
# foreign names in FLORES) are kept out of words/pairs by requiring the word,
# or its stem after common case/plural/verb endings, to be in this CC0 word
# list of the Nepali Brihat Sabdakosh dictionary.
NE_DICT = dict(repo="bisug/Nepali-Wordlist-Dataset",
               commit="6d9d8ad903659dbeda79c05060d5d9958c9b50a5",
               path="words.txt", license="CC0-1.0")
NE_CASE = sorted(("ले लाई को का की मा बाट देखि सम्म द्वारा सँग संग भन्दा "
                  "तिर पनि नै मै मध्ये भित्र बीच बिच माथि पछि अघि लागि "
                  "जस्तो जस्तै बारे प्रति रूपमा रुपमा तर्फ वटा").split(),
                 key=len, reverse=True)
NE_PLURAL = ("हरू", "हरु")
NE_VERB = sorted(("छ छन् छु छौं छौँ छिन् छे यो ए एको एका एकी ेको ेका ेकी ने न "
                  "नु दै दा दो र एर ेर इ ई ्यो थ्यो थे थिन् ौं ौँ ेछ ्छ ्छन् ्छु "
                  "्न ्ने ्नु ्दै ्दा ्दो ्थे ्थ्यो ्यौं नेछ नेछन् ्नेछ ्नेछन् "
                  "ियो िए िएको िएका िने िन्छ िन्छन् िँदै िँदा ाउँछ ाउँछन् ाए "
                  "ाएको ाउने ायो ाउन ाउनु").split(), key=len, reverse=True)

# English vocabulary (lower-case, non-PROPN tokens of the en source).  For the
# other Latin-script languages a single word that is also an English word
# ("hotel", "film", "care", "die") is ambiguous by itself, so it is not used
# as a `words` item, a pair made of two such words is not used, and a
# sentence is dropped when more than ENGLISH_MAX_SHARE of its words are
# English words outside the language's own 300 most frequent words
# (catches code-switched Taglish / English quotes, keeps "at", "est", "die").
ENGLISH_MAX_SHARE = 0.3
EN_VOCAB_SOURCES = [   # (repo, commit, path); EWT = the en source, plus GUM
    (UD + "UD_English-EWT", "15d613d8447b3478787d4c278730a1e48a945efb",
     "en_ewt-ud-test.conllu"),
    (UD + "UD_English-EWT", "15d613d8447b3478787d4c278730a1e48a945efb",
     "en_ewt-ud-dev.conllu"),
    (UD + "UD_English-GUM", "afb41ee9bca57991125814fa04d96a0e61470c8b",
     "en_gum-ud-test.conllu"),
    (UD + "UD_English-GUM", "afb41ee9bca57991125814fa04d96a0e61470c8b",
     "en_gum-ud-dev.conllu"),
]
EN_VOCAB = set()
NATIVE_TOP = {}
# Tagalog news (UD NewsCrawl) is full of English code-switching that the
# treebank does not mark as Foreign, so for tl a full English word list is
# used as well (Debian package wamerican 2020.12.07-2; lower-case entries).
# A word in it counts as English for tl unless it is among tl's own 300 most
# frequent words ("at", "may", "din", "ano" stay Tagalog).
# For tl the "own frequent words" exception is this explicit list (Tagalog
# words that are also English dictionary strings), because the tl source's
# own top words include English ("show", "and").
TL_NOT_ENGLISH = set("""akin ale ani at ay ba bang bola din ding mama man may mesa
mo pa pang po talon raw mas nag yon dating alas halos ring noon mayo ano tila
naming piling ate kilos pares ting nu ma""".split())
EN_DICT_PATH = "/usr/share/dict/american-english"
EN_DICT_LANGS = {"tl"}
EN_DICT = set()

# Languages where the (scarce) sentence file is extended with the next file
# when the first file gives too few candidates.
MIN_SENT_CANDIDATES = 300

CASED = {"Latn", "Cyrl"}
NOSPACE = {"zh", "th"}              # words / pairs joined by nothing
KEEP_CAPITALISED_NOUNS = {"de"}     # German nouns are capitalised in running text
JOINERS = {"\u200c", "\u200d"}      # ZWNJ / ZWJ inside fa / hi / ne words
SENT_END = tuple('.!?…"\'»”’)]' + "।॥" + "。！？」』”" + "؟")
SKIP_UPOS = {"PROPN", "NUM", "SYM", "PUNCT", "X", "INTJ"}


# --------------------------------------------------------------------------
def git_show(mirror, repo, commit, path):
    gitdir = os.path.join(mirror, repo.replace("/", "+"), "repo")
    out = subprocess.run(["git", "--git-dir", gitdir, "show",
                          "%s:%s" % (commit, path)],
                         check=True, capture_output=True)
    return out.stdout.decode("utf-8")


def char_script(c):
    try:
        name = unicodedata.name(c)
    except ValueError:
        return None
    for key, sc in (("LATIN", "Latn"), ("CYRILLIC", "Cyrl"),
                    ("ARABIC", "Arab"), ("DEVANAGARI", "Deva"),
                    ("THAI", "Thai"), ("CJK UNIFIED", "Hani"),
                    ("CJK COMPATIBILITY IDEOGRAPH", "Hani")):
        if name.startswith(key):
            return sc
    return "other"


def is_letter(c):
    return unicodedata.category(c)[0] in "LM"


def base_len(w):
    """Number of base letters (combining marks not counted)."""
    return sum(1 for c in w if unicodedata.category(c)[0] == "L")


def letters_only(w, script, allow_space=False):
    if not w:
        return False
    for i, c in enumerate(w):
        if c in JOINERS and script in ("Arab", "Deva") and 0 < i < len(w) - 1:
            continue
        if c == " " and allow_space and 0 < i < len(w) - 1:
            continue
        if not is_letter(c):
            return False
        if unicodedata.category(c)[0] == "L" and char_script(c) != script:
            return False
    return True


# --------------------------------------------------------------------------
# Readers.  A sentence is dict(text=..., toks=[(form, upos, space_after)]).
# --------------------------------------------------------------------------
def mw_upos(parts):
    """UPOS for a multiword token (e.g. fr 'du' = ADP+DET, ar 'وفي')."""
    for tag in ("PROPN", "NUM", "X", "SYM"):
        if tag in parts:
            return tag
    return parts[0] if parts else "X"


def read_conllu(data):
    sents, text, toks, skip_until = [], None, [], 0
    for line in data.split("\n"):
        m = re.match(r"# text\s*=(.*)$", line)
        if m:
            text = m.group(1).strip()
        elif line.startswith("#"):
            continue
        elif not line.strip():
            if toks or text:
                sents.append(dict(text=text, toks=toks))
            text, toks, skip_until = None, [], 0
        else:
            cols = line.split("\t")
            if len(cols) < 10:
                continue
            tid, form, upos, feats, misc = (cols[0], cols[1], cols[3],
                                            cols[5], cols[9])
            space = "SpaceAfter=No" not in misc
            if "Foreign=Yes" in feats:
                upos = "X"                      # foreign word: never a word/pair
            if "." in tid:                      # empty node
                continue
            if "-" in tid:                      # multiword token: surface form
                a, b = (int(x) for x in tid.split("-"))
                skip_until = b
                toks.append([form, [], space, True])
                continue
            i = int(tid)
            if i <= skip_until:                 # part of a multiword token
                toks[-1][1].append(upos)
                continue
            toks.append([form, upos, space, False])
    if toks or text:
        sents.append(dict(text=text, toks=toks))
    out = []
    for s in sents:
        if not s["text"]:
            continue
        s["toks"] = [(f, (mw_upos(u) if mw else u), sp)
                     for f, u, sp, mw in s["toks"]]
        out.append(s)
    return out


PUNCT_STRIP = "\"'“”‘’«»„()[]{},.;:!?…।॥-–—/*"


def whitespace_tokens(text):
    """Tokens for raw text: (form, None, space_after) where a token carrying
    punctuation at its edges is marked so no pair crosses it."""
    toks = []
    for raw in text.split():
        core = raw.strip(PUNCT_STRIP)
        lead = raw[: len(raw) - len(raw.lstrip(PUNCT_STRIP))]
        trail = raw[len(raw.rstrip(PUNCT_STRIP)):]
        if lead and toks:
            toks[-1] = (toks[-1][0], toks[-1][1], False)
        if core:
            toks.append((core, None, not trail))
        elif toks:
            toks[-1] = (toks[-1][0], toks[-1][1], False)
    return toks


def read_sib(data):
    out = []
    lines = data.split("\n")
    for line in lines[1:]:
        cols = line.split("\t")
        if len(cols) < 3:
            continue
        text = cols[2].strip()
        out.append(dict(text=text, toks=whitespace_tokens(text)))
    return out


# --------------------------------------------------------------------------
def detok_vi(text):
    """VTB '# text' lines are tokenised ('a , b " c " .'); undo that."""
    text = text.replace("LBKT", "(").replace("RBKT", ")")
    out, quote_open = [], False
    for t in text.split(" "):
        if t == "":
            continue
        if t == '"':
            if quote_open:
                if out:
                    out[-1] += t
                else:
                    out.append(t)
            else:
                out.append(t + "\u0000")   # glue to next token
            quote_open = not quote_open
            continue
        if re.fullmatch(r"[,.;:?!%)\]}…]+|\.\.\.", t) and out:
            out[-1] += t
            continue
        if out and out[-1].endswith("\u0000"):
            out[-1] = out[-1][:-1] + t
        elif out and out[-1] in ("(", "[", "{"):
            out[-1] += t
        else:
            out.append(t)
    return " ".join(o.replace("\u0000", "") for o in out)


def clean_text(code, text):
    text = text.replace("\u00ad", "")          # soft hyphens
    text = re.sub(r"\s+", " ", text).strip()
    if code == "vi":
        text = detok_vi(text)
    return text


# --------------------------------------------------------------------------
def word_toks(s):
    return [t for t in s["toks"] if any(is_letter(c) for c in t[0])]


def good_sentence(code, cfg, s):
    text = s["text"]
    script = cfg["script"]
    if not (20 <= len(text) <= 200):
        return False
    if re.search(r"https?:|www\.|@|\.com\b|\t|\|", text):
        return False
    if re.search(r"&#?\w+;|``|''|,,|\(\s*\)", text):
        return False                # markup residue, empty brackets
    if text.count('"') % 2 or not brackets_ok(text):
        return False
    if not text.endswith(SENT_END):
        if code != "th":            # Thai does not mark sentence ends
            return False
    nonspace = [c for c in text if not c.isspace()]
    letters = [c for c in nonspace if is_letter(c)]
    digits = [c for c in nonspace if c.isdigit()]
    if len(letters) < 0.75 * len(nonspace) or len(digits) > 0.08 * len(nonspace):
        return False
    base = [c for c in letters if unicodedata.category(c)[0] == "L"]
    if not base:
        return False
    in_script = sum(1 for c in base if char_script(c) == script)
    if in_script < 0.95 * len(base):
        return False
    wt = word_toks(s)
    if code not in NOSPACE and len(text.split()) < 4:
        return False
    if text[0].isdigit():
        return False                # numbered list item / heading
    if script in CASED:
        first = next((c for c in text if is_letter(c)), "")
        if not first.isupper():
            return False
        w0 = re.sub(r"\W", "", text.split()[0])
        if len(w0) >= 3 and w0.isupper():
            return False            # dateline / heading ("GENUA - ...")
    if english_share(code, cfg, text) > ENGLISH_MAX_SHARE:
        return False
    # not mostly names
    if wt:
        if any(t[1] is not None for t in wt):
            names = sum(1 for t in wt if t[1] == "PROPN")
        elif script in CASED:
            names = sum(1 for t in wt[1:] if t[0][:1].isupper())
        else:
            names = 0
        if names > 0.3 * len(wt):
            return False
    return True


def brackets_ok(text):
    depth = 0
    for c in text:
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def latin_words(text):
    return [w.lower() for w in re.findall(r"[^\W\d_]+", text)]


def english_share(code, cfg, text):
    if code == "en" or cfg["script"] != "Latn" or not EN_VOCAB:
        return 0.0
    ws = latin_words(text)
    if not ws:
        return 0.0
    eng = sum(1 for w in ws if is_english(code, w))
    return eng / len(ws)


def is_english(code, w):
    w = w.lower()
    if w in NATIVE_TOP.get(code, ()):
        return False
    return w in EN_VOCAB or (code in EN_DICT_LANGS and w in EN_DICT)


def load_en_vocab(mirror):
    for repo, commit, path in EN_VOCAB_SOURCES:
        for s in read_conllu(git_show(mirror, repo, commit, path)):
            for form, upos, _ in s["toks"]:
                if upos not in ("PROPN", "X") and form.isalpha() \
                        and form == form.lower():
                    EN_VOCAB.add(form)


NE_WORDS = set()


def load_en_dict():
    with open(EN_DICT_PATH, encoding="utf-8") as f:
        EN_DICT.update(w.strip() for w in f
                       if w.strip() and w.strip() == w.strip().lower())


def load_ne_dict(mirror):
    data = git_show(mirror, NE_DICT["repo"], NE_DICT["commit"], NE_DICT["path"])
    NE_WORDS.update(w.strip() for w in data.split("\n") if w.strip())


def ne_known(w):
    """Word, or its stem, is in the Nepali dictionary (filters out names)."""
    if w in NE_WORDS:
        return True
    stems = {w}
    for suf in NE_CASE:
        if w.endswith(suf) and len(w) > len(suf) + 1:
            stems.add(w[:-len(suf)])
    for st in list(stems):
        for suf in NE_PLURAL:
            if st.endswith(suf) and len(st) > len(suf) + 1:
                stems.add(st[:-len(suf)])
    if any(st in NE_WORDS for st in stems):
        return True
    for suf in NE_VERB:
        if w.endswith(suf) and len(w) > len(suf) + 1:
            st = w[:-len(suf)]
            for st2 in {st, st.rstrip("ँं")}:
                for lemma_end in ("नु", "्नु", "उनु", "ाउनु"):
                    if st2 + lemma_end in NE_WORDS:
                        return True
    return False


def spread(cands, n=N):
    """Every k-th of cands (fractional k), deterministic, n items."""
    if len(cands) <= n:
        return list(cands)
    k = len(cands) / n
    return [cands[int(i * k)] for i in range(n)]


def spread_dev(cands, n=N):
    """Every k-th of cands like spread(), shifted by half a step, so that on
    the same list it picks the items between the ones spread() picks."""
    if len(cands) <= n:
        return list(cands)
    k = len(cands) / n
    return [cands[int((i + 0.5) * k)] for i in range(n)]


def read_test_yml(path):
    """Read a frozen test file as written by build.py's write_yaml (one
    JSON-quoted item per line), without needing PyYAML."""
    r, key = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("  - "):
                r[key].append(json.loads(line[4:]))
            elif line.endswith(":") and not line.startswith(" "):
                key = line[:-1]
                r[key] = []
            elif ": " in line and not line.startswith(" "):
                k, v = line.split(": ", 1)
                r[k] = json.loads(v)
    return r


def word_ok(code, cfg, form, upos, initial):
    script = cfg["script"]
    if upos in SKIP_UPOS:
        return False
    if not letters_only(form, script, allow_space=(code == "vi")):
        return False
    if script in CASED:
        if form != form.lower():
            if not (code in KEEP_CAPITALISED_NOUNS and upos == "NOUN"
                    and not initial and form[1:] == form[1:].lower()):
                return False
        if initial and upos is None:
            return False            # raw text: sentence-initial word, case unknown
    if code == "ne" and not ne_known(form):
        return False
    return True


def word_len_ok(code, cfg, form):
    if code == "zh":
        return 2 <= len(form) <= 4
    if code == "th":
        return 2 <= base_len(form) <= 4
    return base_len(form) >= 3


def build_lang(code, cfg, mirror, test):
    test_sents = set(test.get("sentences", []))
    test_sents_l = set(t.lower() for t in test_sents)
    test_items = set(test.get("words", []) or []) | set(test.get("word_pairs", []) or [])
    test_items_l = set(t.lower() for t in test_items)
    want_words = bool(test.get("words")) or bool(test.get("word_pairs"))

    def in_test_sents(t):
        return t in test_sents or t.lower() in test_sents_l

    def in_test_items(t):
        return t in test_items or t.lower() in test_items_l

    sents_by_file = []
    for path in cfg["files"]:
        data = git_show(mirror, cfg["repo"], cfg["commit"], path)
        ss = read_conllu(data) if cfg["kind"] == "ud" else read_sib(data)
        for s in ss:
            s["text"] = clean_text(code, s["text"])
        sents_by_file.append(ss)

    freq = {}
    for ss in sents_by_file:
        for s in ss:
            for w in latin_words(s["text"]):
                freq[w] = freq.get(w, 0) + 1
    NATIVE_TOP[code] = set(sorted(freq, key=lambda w: (-freq[w], w))[:300])
    if code == "tl":
        NATIVE_TOP[code] = TL_NOT_ENGLISH

    # ---- sentences ----
    n_sent_files = cfg["sent_files"]
    while True:
        pool_s = [s for ss in sents_by_file[:n_sent_files] for s in ss]
        seen, cands = set(), []
        for s in pool_s:
            if s["text"] in seen:
                continue
            seen.add(s["text"])
            if in_test_sents(s["text"]):
                continue                # test sentence: never a dev sentence
            if good_sentence(code, cfg, s):
                cands.append(s)
        if len(cands) >= MIN_SENT_CANDIDATES or n_sent_files >= len(sents_by_file):
            break
        n_sent_files += 1
    chosen = spread_dev(cands)
    chosen_texts = set(s["text"] for s in chosen)
    sent_paths = cfg["files"][:n_sent_files]

    # ---- pool for words / pairs: every sentence of the source that is
    # neither a dev sentence nor a test sentence ----
    pool = [s for ss in sents_by_file for s in ss
            if s["text"] not in chosen_texts and not in_test_sents(s["text"])]

    word_cands, word_seen = [], set()
    pair_cands, pair_seen = [], set()
    def whole(toks, i):
        """Token i is a whole orthographic word (not glued to a neighbour)."""
        if code in NOSPACE:
            return True
        if i > 0 and not toks[i - 1][2] and any(is_letter(c) for c in toks[i - 1][0]):
            return False
        if toks[i][2] or i + 1 == len(toks):
            return True
        return not any(is_letter(c) for c in toks[i + 1][0])

    non_en_latin = code != "en" and cfg["script"] == "Latn"
    for s in pool:
        toks = s["toks"]
        widx = [i for i, t in enumerate(toks) if any(is_letter(c) for c in t[0])]
        first_word = widx[0] if widx else -1
        oks = [word_ok(code, cfg, f, u, i == first_word) and whole(toks, i)
               for i, (f, u, _) in enumerate(toks)]
        for i, (form, upos, space) in enumerate(toks):
            if not oks[i]:
                continue
            eng = non_en_latin and (form.lower() in EN_VOCAB
                                    or is_english(code, form))
            if not eng and word_len_ok(code, cfg, form) and form not in word_seen:
                word_seen.add(form)
                word_cands.append(form)
            if i + 1 >= len(toks) or not oks[i + 1]:
                continue
            f2 = toks[i + 1][0]
            if code in NOSPACE:
                if code == "th" and space:
                    continue        # a space in Thai text separates phrases
                if base_len(form) < 2 or base_len(f2) < 2:
                    continue        # two real words, not word + particle
                pair = form + f2
                if len(pair) > 10:
                    continue
            else:
                if not space:
                    continue
                if eng and f2.lower() in EN_VOCAB:
                    continue        # both words English
                if code in EN_DICT_LANGS and (is_english(code, form)
                                              or is_english(code, f2)):
                    continue
                pair = form + " " + f2
                if base_len(form) + base_len(f2) < 5:
                    continue
                if max(base_len(form), base_len(f2)) < 3:
                    continue
            if pair not in pair_seen:
                pair_seen.add(pair)
                pair_cands.append(pair)

    # ---- disjoint from the test file's words / word_pairs ----
    word_cands = [w for w in word_cands if not in_test_items(w)]
    pair_cands = [p for p in pair_cands if not in_test_items(p)]
    if want_words:
        words = spread_dev(word_cands)
        pairs = spread_dev(pair_cands)
    else:
        words, pairs = None, None
    source = "github.com/%s@%s, %s (%s)" % (
        cfg["repo"], cfg["commit"][:12], ", ".join(cfg["files"]), cfg["license"])
    return dict(language=code, source=source, split="dev",
                sentence_files=sent_paths,
                sentences=[s["text"] for s in chosen],
                word_pairs=pairs, words=words,
                n_candidates=dict(sentences=len(cands), word_pairs=len(pair_cands),
                                  words=len(word_cands)))


def q(s):
    return json.dumps(s, ensure_ascii=False)


def write_yaml(path, r):
    lines = ["language: %s" % q(r["language"]),      # quoted: "no" is not false
             "source: %s" % q(r["source"]),
             "split: %s" % q(r["split"])]
    for key in ("sentences", "word_pairs", "words"):
        if r[key] is None:
            continue                # test file has none: sentences only
        lines.append("%s:" % key)
        for s in r[key]:
            lines.append("  - %s" % q(s))
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "dev"))
    ap.add_argument("--test", default=here,
                    help="directory of the frozen test files <code>.yml")
    ap.add_argument("--mirror", default=MIRROR)
    ap.add_argument("langs", nargs="*")
    a = ap.parse_args()
    langs = a.langs or list(LANGS)
    os.makedirs(a.out, exist_ok=True)
    if os.path.realpath(a.out) == os.path.realpath(a.test):
        sys.exit("--out must differ from --test (the test files are frozen)")
    load_en_vocab(a.mirror)
    load_ne_dict(a.mirror)
    load_en_dict()
    print("%-3s %-5s %5s %5s %5s   %-22s %s" % ("", "supp", "sent", "pairs",
                                                "words", "(dev candidates s/p/w)",
                                                "sentence files"))
    short = []
    for code in langs:
        cfg = LANGS[code]
        test = read_test_yml(os.path.join(a.test, code + ".yml"))
        r = build_lang(code, cfg, a.mirror, test)
        write_yaml(os.path.join(a.out, code + ".yml"), r)
        c = r["n_candidates"]
        ns = len(r["sentences"])
        np_ = len(r["word_pairs"]) if r["word_pairs"] is not None else -1
        nw = len(r["words"]) if r["words"] is not None else -1
        print("%-3s %-5s %5d %5s %5s   %-22s %s" % (
            code, "yes" if cfg["supported"] else "no", ns,
            np_ if np_ >= 0 else "-", nw if nw >= 0 else "-",
            "(%d/%d/%d)" % (c["sentences"], c["word_pairs"], c["words"]),
            ", ".join(r["sentence_files"])))
        if ns < N or 0 <= np_ < N or 0 <= nw < N:
            short.append(code)
    print("shortfall:", ", ".join(short) if short else "none")


if __name__ == "__main__":
    main()
