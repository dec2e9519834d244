"""Checks one language's content files, or all of them.

    python scripts/check_content.py [CODE ...]

- bot/catalogue/<code>.yml: complete, placeholders only, facts present;
- data/nlu/<code>.yml: every intent of domain.yml, every block tagged with
  ``metadata: {language: <code>}``, enough examples;
- tests/heldout/<code>.yml: known intents, none of its texts in the training data;
- tests/stories/test_<code>.yml exists.
Exit status 1 on any problem. The same checks run in the test suite.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import content_checks  # noqa: E402


def main(codes):
    problems = content_checks.all_problems(codes or None)
    for line in problems:
        print(line)
    print(f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
