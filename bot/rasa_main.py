"""The project's Rasa entry point: ``python -m bot.rasa_main run ...``.

Every Rasa process the project starts goes through here (``make run``,
``make shell`` and the production profile via bot/stack.py, the Rasa image's
CMD, the Helm chart's command, the test stories in scripts/test.sh). Before
Rasa's own command line runs, it

1. checks that the installed Rasa is the version the patches were written
   for, and refuses to start otherwise (a patch silently not applying would
   drop the contacts-when-the-action-server-fails guarantee);
2. installs the patches of bot/rasa_patches.py and the log redaction of
   bot/redact.py.

The ``LanguageDetector`` component installs the same patches again when a
model is loaded in-process (``make evaluate``, tests); installing is idempotent.
"""
from __future__ import annotations

import sys
from typing import List, Optional

RASA_VERSION = "3.6.21"


class WrongRasaVersion(SystemExit):
    pass


def check_version(found: Optional[str] = None) -> None:
    if found is None:
        import rasa

        found = rasa.__version__
    if found != RASA_VERSION:
        raise WrongRasaVersion(
            f"bot/rasa_patches.py was written for Rasa {RASA_VERSION}, but Rasa {found} is "
            "installed: check every patch against the new version, then change RASA_VERSION."
        )


def prepare() -> None:
    """The version check and the patches, before Rasa starts."""
    check_version()
    from bot import rasa_patches

    rasa_patches.install()


def main(argv: Optional[List[str]] = None) -> None:
    prepare()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *(sys.argv[1:] if argv is None else argv)]
    rasa_main()


if __name__ == "__main__":
    main()
