"""Memory the language detector adds to a Rasa process (issue 15: <= 100 MB).

Run in a fresh process by ``bench/run.py``: the detector is read from the
trained model archive as the Rasa component reads it, then used on a few
messages. Prints JSON: the resident memory it added (``rss_growth_mb``,
without tracemalloc, whose own bookkeeping would inflate it) and, with
``--traced``, what the detector's objects retain (``retained_mb``, numpy and
Python alike) and the peak while reading the archive (``peak_mb``).

    python -m bench.detector_memory models/helpline.tar.gz [--traced]
"""
from __future__ import annotations

import gc
import json
import os
import sys
import tracemalloc

from bench.procmem import rss_bytes
from bot.general_text import identifier_from_model

SAMPLE = ["hello", "privet, kak dela", "minä tarvitsen apua", "ana m7boosa", "我需要帮助", "salam"]


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    model, traced = args[0], "--traced" in args
    gc.collect()
    before = rss_bytes(os.getpid())
    if traced:
        tracemalloc.start()
    identifier = identifier_from_model(model)
    for text in SAMPLE * 20:
        identifier.identify(text)
    gc.collect()
    result = {"rss_growth_mb": round((rss_bytes(os.getpid()) - before) / 2**20, 1)}
    if traced:
        retained, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result = {"retained_mb": round(retained / 2**20, 1), "peak_mb": round(peak / 2**20, 1)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
