"""``make catalogue-report``: one HTML page for staff to review every text.

Per key: the Swedish rendering (closest to the source in shared/seed) beside
every language's rendering, facts filled in, right-to-left where needed.
Written to docs/catalogue-report.html (or the path given).
"""
from __future__ import annotations

import html
import sys
from pathlib import Path

from bot import catalogue
from bot.settings import ROOT

SOURCE_LANGUAGE = "sv"


def render() -> str:
    languages = catalogue.languages()
    keys = list(catalogue.raw_texts(catalogue.default_language()))
    rows = []
    for key in keys:
        rows.append(f'<h2 id="{html.escape(key)}">{html.escape(key)}</h2>\n<table>')
        rows.append(
            f'<tr class="source"><th>{SOURCE_LANGUAGE} (source)</th>'
            f"<td>{html.escape(catalogue.text(key, SOURCE_LANGUAGE))}</td></tr>"
        )
        for code, language in languages.items():
            if code == SOURCE_LANGUAGE:
                continue
            direction = "rtl" if language.rtl else "ltr"
            rows.append(
                f"<tr><th>{code} · {html.escape(language.name)}</th>"
                f'<td dir="{direction}" lang="{code}">{html.escape(catalogue.text(key, code))}</td></tr>'
            )
        rows.append("</table>")
    problems = catalogue.problems()
    status = (
        "<p>Catalogue check: no problems.</p>"
        if not problems
        else "<ul>" + "".join(f"<li>{html.escape(p)}</li>" for p in problems) + "</ul>"
    )
    index = " · ".join(f'<a href="#{html.escape(k)}">{html.escape(k)}</a>' for k in keys)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Catalogue review</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 70em; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 1.5em; }}
th {{ text-align: left; vertical-align: top; width: 9em; padding: .4em; background: #f3f3f3; }}
td {{ padding: .4em; border-bottom: 1px solid #ddd; white-space: pre-wrap; }}
tr.source td {{ background: #fff8dc; }}
</style></head><body>
<h1>Answer catalogue: {len(languages)} languages, {len(keys)} keys</h1>
<p>Each key shows the Swedish text (the source's language) first, then every
other language with the facts filled in from bot/facts.yml. Check that each
says the same thing as the Swedish, no more and no less.</p>
{status}
<p>{index}</p>
{chr(10).join(rows)}
</body></html>
"""


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    target = Path(argv[0]) if argv else ROOT / "docs" / "catalogue-report.html"
    target.write_text(render(), encoding="utf-8")
    print(f"Wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
