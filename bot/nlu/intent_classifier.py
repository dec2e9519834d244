"""Rasa NLU component: intent classification for twenty languages in one model.

TF-IDF over character n-grams (1-4, within words) and word uni- and bigrams,
then multinomial logistic regression (probabilities for the fallback
threshold; deterministic, unlike SGD, whose per-language accuracy moved by
±6 points with the seed and the order of the examples). Characters work
across scripts, including Thai and Chinese written without spaces. It replaces
Rasa's tokenizer + CountVectorsFeaturizer + LogisticRegressionClassifier:
better accuracy on held-out messages and a much shorter parse; the figures are
in docs/decisions.md.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Dict, List, Optional, Set, Text, Tuple

import joblib
import marisa_trie
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.special import softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from bot.language import normalise, romanised_examples

MODEL_FILE = "intent_pipeline.joblib"


def compact(pipeline: Pipeline) -> Pipeline:
    """The fitted pipeline in the form kept in memory and on disk; predictions
    unchanged (max difference 1e-6 on the held-out messages, none reordered).

    - Each vocabulary (200k n-grams as Python strings in a dict) becomes a
      marisa-trie (a few MB); the trie numbers the n-grams itself, so the idf
      weights and the classifier's columns are put in its order.
    - ``stop_words_`` (the n-grams dropped by min_df, kept by sklearn only for
      introspection) is dropped.
    - The weights are float32, stored as (features x classes) in row order:
      ``process`` multiplies float32 features by them (scipy's sparse x dense
      product without a per-message conversion or copy).
    Measured in docs/decisions.md §13.
    """
    classifier = pipeline.named_steps["classifier"]
    if isinstance(classifier.coef_, np.ndarray) and classifier.coef_.dtype == np.float32:
        return pipeline  # already compact (a loaded model)
    columns = []
    offset = 0
    for _, vectorizer in pipeline.named_steps["features"].transformer_list:
        vocabulary = vectorizer.vocabulary_
        trie = marisa_trie.Trie(vocabulary.keys())
        old = np.empty(len(trie), dtype=np.int64)  # trie id -> the old column
        for key, new in trie.items():
            old[new] = vocabulary[key]
        vectorizer.idf_ = vectorizer.idf_[old]
        vectorizer.vocabulary_ = trie
        vectorizer.stop_words_ = None
        columns.append(old + offset)
        offset += len(old)
    weights = np.ascontiguousarray(classifier.coef_[:, np.concatenate(columns)].T, dtype=np.float32)
    classifier.coef_ = weights.T  # a view: sklearn's shape, our memory order
    classifier.intercept_ = classifier.intercept_.astype(np.float32)
    return pipeline


def probabilities(pipeline: Pipeline, texts: List[Text]) -> np.ndarray:
    """The classifier's probabilities (multinomial: the softmax of the scores),
    computed in float32 from the compact weights."""
    classifier = pipeline.named_steps["classifier"]
    features = pipeline.named_steps["features"].transform(texts).astype(np.float32)
    return softmax(features @ classifier.coef_.T + classifier.intercept_, axis=1)


def build_pipeline(config: Dict[Text, Any]) -> Pipeline:
    features = FeatureUnion(
        [
            (
                "characters",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(config["min_char_ngram"], config["max_char_ngram"]),
                    min_df=config["min_char_df"],
                    sublinear_tf=True,
                    preprocessor=normalise,
                ),
            ),
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, config["max_word_ngram"]),
                    sublinear_tf=True,
                    preprocessor=normalise,
                    token_pattern=r"(?u)\b\w+\b",
                ),
            ),
        ]
    )
    classifier = LogisticRegression(
        C=config["C"],
        max_iter=config["max_iter"],
        class_weight="balanced",
        random_state=config["random_seed"],
    )
    return Pipeline([("features", features), ("classifier", classifier)])


def romanised_training(intents: Set[Text], trained: Set[Text]) -> List[Tuple[Text, Text]]:
    """(text, intent) for each generated Latin-letter form of one known
    intent only (a form two intents share, e.g. the same short phrase, is
    left out) that is not already a training text."""
    found: List[Tuple[Text, Text]] = []
    for code, by_intent in romanised_examples().items():
        owners = Counter(form for forms in by_intent.values() for form in set(forms))
        for intent, forms in sorted(by_intent.items()):
            if intent in intents:
                found += [(f, intent) for f in forms if owners[f] == 1 and f not in trained]
    return found


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class NgramIntentClassifier(GraphComponent, IntentClassifier):
    """Character and word n-gram intent classifier for many languages."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "min_char_ngram": 1,
            "max_char_ngram": 4,
            # character n-grams seen in fewer training examples are dropped:
            # 2 trains in 111 s instead of 150 s, same held-out accuracy
            "min_char_df": 2,
            "max_word_ngram": 2,
            "C": 30.0,
            "max_iter": 2000,
            "random_seed": 42,
            "ranking_length": 10,
            # also learn the Latin-letter forms of the Cyrillic, Devanagari,
            # Thai and Chinese training texts (data/romanised/, made by
            # scripts/romanise.py with transliteration libraries; issue 17)
            "use_romanised": True,
            # ... each with this weight (a written example weighs 1)
            "romanised_weight": 1.0,
        }

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        for key in ("min_char_ngram", "max_char_ngram", "min_char_df", "max_word_ngram", "max_iter", "ranking_length"):
            if not isinstance(config[key], int) or config[key] < 1:
                raise ValueError(f"NgramIntentClassifier: '{key}' must be a positive integer")
        if config["min_char_ngram"] > config["max_char_ngram"]:
            raise ValueError("NgramIntentClassifier: 'min_char_ngram' is above 'max_char_ngram'")
        if not isinstance(config["C"], (int, float)) or config["C"] <= 0:
            raise ValueError("NgramIntentClassifier: 'C' must be a positive number")
        if not isinstance(config["romanised_weight"], (int, float)) or config["romanised_weight"] <= 0:
            raise ValueError("NgramIntentClassifier: 'romanised_weight' must be a positive number")
        if not isinstance(config["random_seed"], int):
            raise ValueError("NgramIntentClassifier: 'random_seed' must be an integer")

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        pipeline: Optional[Pipeline] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self.validate_config(self.config)
        self._model_storage = model_storage
        self._resource = resource
        self.pipeline = pipeline

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "NgramIntentClassifier":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        if len({m.get(INTENT) for m in examples}) < 2:
            raise ValueError("NgramIntentClassifier: needs examples of at least two intents")
        texts = [m.get(TEXT) for m in examples]
        labels = [m.get(INTENT) for m in examples]
        weights = [1.0] * len(texts)
        if self.config["use_romanised"]:
            extra = romanised_training(set(labels), set(texts))
            texts += [text for text, _ in extra]
            labels += [label for _, label in extra]
            weights += [float(self.config["romanised_weight"])] * len(extra)
        self.pipeline = build_pipeline(self.config)
        self.pipeline.fit(texts, labels, classifier__sample_weight=np.asarray(weights))
        compact(self.pipeline)
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(self.pipeline, directory / MODEL_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "NgramIntentClassifier":
        # The model file is written by our own training run (trusted input).
        with model_storage.read_from(resource) as directory:
            pipeline = joblib.load(directory / MODEL_FILE)
        return cls(config, model_storage, resource, compact(pipeline))

    def process(self, messages: List[Message]) -> List[Message]:
        if self.pipeline is None:
            raise ValueError("NgramIntentClassifier: process() called before training")
        texts = [m.get(TEXT) or "" for m in messages]
        labels = self.pipeline.classes_
        for message, row in zip(messages, probabilities(self.pipeline, texts)):
            order = row.argsort()[::-1][: self.config["ranking_length"]]
            ranking = [
                {INTENT_NAME_KEY: str(labels[i]), "confidence": float(row[i])} for i in order
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
