"""Docs that state settings or numbers agree with the code (README tables,
docs/security.md limits): a changed default fails here, not in production."""
import re
from pathlib import Path

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECURITY = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
CODE = "\n".join(p.read_text(encoding="utf-8") for d in ("bot", "actions") for p in (ROOT / d).rglob("*.py"))
DOCS = README + "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md")) \
    + (ROOT / "deploy" / "README.md").read_text(encoding="utf-8")
ROW = re.compile(r"^\| `(HELPLINE_[A-Z_]+)` \| `([^`]*)` \|", re.MULTILINE)


def same(documented: str, actual: str) -> bool:
    if actual.startswith(str(ROOT) + "/"):  # a path under the project, documented relative
        actual = actual[len(str(ROOT)) + 1:]
    try:
        return float(documented) == float(actual)
    except ValueError:
        return documented == actual


def documented_settings(text: str) -> set:
    """HELPLINE_ names, with families written `HELPLINE_DB_HOST` `_PORT` expanded."""
    names = set(re.findall(r"HELPLINE_[A-Z_]*[A-Z]", text))
    for first, rest in re.findall(r"`(HELPLINE_[A-Z_]+)`((?:\s*/?\s*`_[A-Z_]+`)+)", text):
        prefix = first.rsplit("_", 1)[0]
        names.update(prefix + suffix for suffix in re.findall(r"`(_[A-Z_]+)`", rest))
    return names


def test_every_setting_the_code_reads_is_documented_and_every_documented_one_exists():
    read = set(re.findall(r'"(HELPLINE_[A-Z_]+)"', CODE))
    documented = documented_settings(DOCS) - {"HELPLINE_UI"}  # the widget's page object, not a setting
    assert read - documented == set(), "settings missing from the README and docs/"
    assert documented - read == set(), "the README or docs/ document settings no code reads"


def test_the_readme_defaults_are_the_codes_defaults():
    defaults = Settings.from_env({}).to_env()
    checked = 0
    for name, documented in ROW.findall(README):
        if name in defaults:
            assert same(documented, defaults[name]), f"README says {name}={documented}, code {defaults[name]}"
            checked += 1
    assert checked >= 5


def test_security_md_states_the_body_limit_the_gateway_uses():
    limit = Settings.from_env({}).max_body_bytes
    assert f"{limit:,} bytes" in SECURITY
    assert f"{limit // 1024} KB body" in SECURITY


def test_security_md_links_only_to_sections_it_has():
    anchors = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
               for h in re.findall(r"^#+ (.+)$", SECURITY, re.MULTILINE)}
    for link in re.findall(r"\]\(#([^)]+)\)", SECURITY):
        assert link in anchors, f"docs/security.md links to #{link}, which it does not have"
