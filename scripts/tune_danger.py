"""Choose the danger layer's threshold: cross-validation on the training data,
then the dev split of the situations set (never the test split).

    .venv/bin/python scripts/tune_danger.py

Prints, per threshold: recall on held-out danger messages and false alarms on
held-out safe messages and ordinary questions (5-fold), and recall / false
alarms on the situations dev split (patterns + classifier + intent-free).
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bot import catalogue, content_checks, danger, situations  # noqa: E402

THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)


def examples():
    out = []
    for code in catalogue.languages():
        for intent, texts in content_checks.training_examples(code).items():
            out.extend((t, intent) for t in texts)
    return out


def main() -> int:
    data = danger.all_data()
    positives, negatives, patterns = danger.training_sets(examples(), data)
    texts = np.array(positives + negatives, dtype=object)
    labels = np.array([1] * len(positives) + [0] * len(negatives))
    rng = np.random.default_rng(42)
    order = rng.permutation(len(texts))
    folds = np.array_split(order, 5)
    scores = np.zeros(len(texts))
    hits = np.zeros(len(texts), dtype=bool)
    for fold in folds:
        train = np.setdiff1d(order, fold)
        model = danger.DangerModel.train(
            list(texts[train][labels[train] == 1]), list(texts[train][labels[train] == 0]),
            patterns, threshold=0.5,
        )
        for i in fold:
            scores[i] = model.score(texts[i])
            hits[i] = model.pattern_hit(texts[i])
    print(f"cross-validation: {labels.sum()} danger, {(labels == 0).sum()} other messages")
    print(f"patterns alone: recall {hits[labels == 1].mean():.1%}, false alarms {hits[labels == 0].mean():.2%}")
    for t in THRESHOLDS:
        flagged = hits | (scores >= t)
        print(
            f"  threshold {t:.1f}: recall {flagged[labels == 1].mean():.1%}, "
            f"false alarms {flagged[labels == 0].mean():.2%}"
        )
    full = danger.DangerModel.train(positives, negatives, patterns, threshold=0.5)
    turns = [
        (str(turn["user"]), bool(turn.get("danger")))
        for code in catalogue.languages()
        for case in situations.cases(code, "dev")
        for turn in case["turns"]
    ]
    if turns:
        print(f"situations dev split: {sum(d for _, d in turns)} danger turns of {len(turns)} "
              "(per message alone; the conversation keeps danger once said)")
        for t in THRESHOLDS:
            full.threshold = t
            flags = [(full.assess(text)["now"], d) for text, d in turns]
            recall = sum(f and d for f, d in flags) / max(1, sum(d for _, d in flags))
            alarms = sum(f and not d for f, d in flags) / max(1, sum(not d for _, d in flags))
            print(f"  threshold {t:.1f}: recall {recall:.1%}, false alarms {alarms:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
