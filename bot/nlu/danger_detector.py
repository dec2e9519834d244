"""Rasa NLU component: the danger-now signal of each message (``bot/danger.py``).

Adds ``danger`` to the parse result: ``{"now", "score", "source"}``. It runs
after the intent classifier (an ``emergency`` intent is a signal too) and is
independent of it otherwise: its own patterns and its own classifier, trained
from ``data/danger/<code>.yml`` (read from ``data_dir`` at training time).
``actions/answer.py`` opens the reply with 112 when ``now`` is true.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import danger

DANGER = "danger"
MODEL_FILE = "danger_model.joblib"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True
)
class DangerDetector(GraphComponent):
    """Patterns + a binary classifier: does this message signal danger now?"""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "data_dir": str(danger.DANGER_DIR),
            # chosen on the dev split of tests/situations (docs/decisions.md §9)
            "threshold": 0.3,
            "C": 10.0,
            "random_seed": 42,
        }

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if not 0.0 < float(config["threshold"]) < 1.0:
            raise ValueError("DangerDetector: 'threshold' must be between 0 and 1")
        if float(config["C"]) <= 0:
            raise ValueError("DangerDetector: 'C' must be positive")

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[danger.DangerModel] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self.validate_config(self.config)
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "DangerDetector":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        data = danger.all_data(Path(self.config["data_dir"]))
        if not data:
            raise ValueError(f"DangerDetector: no data in {self.config['data_dir']}")
        examples = [
            (m.get(TEXT), m.get(INTENT)) for m in training_data.intent_examples if m.get(TEXT)
        ]
        positives, negatives, patterns = danger.training_sets(examples, data)
        self.model = danger.DangerModel.train(
            positives,
            negatives,
            patterns,
            threshold=float(self.config["threshold"]),
            C=float(self.config["C"]),
            random_seed=int(self.config["random_seed"]),
        )
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(self.model, directory / MODEL_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "DangerDetector":
        # The model file is written by our own training run (trusted input).
        with model_storage.read_from(resource) as directory:
            model = joblib.load(directory / MODEL_FILE)
        # the threshold is configuration, not training: config.yml wins
        model.threshold = float({**cls.get_default_config(), **config}["threshold"])
        return cls(config, model_storage, resource, model)

    def process(self, messages: List[Message]) -> List[Message]:
        if self.model is None:
            raise ValueError("DangerDetector: process() called before training")
        for message in messages:
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            message.set(
                DANGER, self.model.assess(message.get(TEXT) or "", intent), add_to_output=True
            )
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
