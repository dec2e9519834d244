"""The n-gram intent classifier as a Rasa component, on small data."""
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.intent_classifier import NgramIntentClassifier

EXAMPLES = {
    "what_is_trafficking": ["what is human trafficking", "mitä on ihmiskauppa", "vad är människohandel", "什么是人口贩卖"],
    "who_to_contact": ["who do i contact", "kehen otan yhteyttä", "vem ska jag kontakta", "我应该联系谁"],
    "emergency": ["help me now i am in danger", "apua nyt olen vaarassa", "hjälp mig nu jag är i fara", "救命 我有危险"],
}


def train(tmp_path, config=None):
    storage = LocalModelStorage(tmp_path)
    resource = Resource("intents")
    context = ExecutionContext(graph_schema=None, node_name="intents")
    messages = [Message.build(text=t, intent=i) for i, ts in EXAMPLES.items() for t in ts]
    NgramIntentClassifier.create(config or {}, storage, resource, context).train(TrainingData(messages))
    return NgramIntentClassifier.load(config or {}, storage, resource, context)


@pytest.mark.parametrize(
    "text, intent",
    [("what is trafficking", "what_is_trafficking"), ("kehen otan yhteyttä?", "who_to_contact"), ("救命", "emergency")],
)
def test_loaded_component_classifies_with_a_ranking(tmp_path, text, intent):
    component = train(tmp_path)
    message = Message.build(text=text)
    component.process([message])
    assert message.get("intent")["name"] == intent
    ranking = message.get("intent_ranking")
    assert [r["confidence"] for r in ranking] == sorted((r["confidence"] for r in ranking), reverse=True)
    assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-6


def test_empty_text_gets_an_intent_not_a_crash(tmp_path):
    message = Message.build(text="")
    train(tmp_path).process([message])
    assert message.get("intent")["name"] in EXAMPLES


def test_training_is_reproducible(tmp_path):
    first = Message.build(text="who can i call")
    second = Message.build(text="who can i call")
    for directory, message in ((tmp_path / "a", first), (tmp_path / "b", second)):
        directory.mkdir()
        train(directory).process([message])
    assert first.get("intent_ranking") == second.get("intent_ranking")


@pytest.mark.parametrize(
    "config, setting",
    [
        ({"C": 0}, "C"),
        ({"max_char_ngram": 0}, "max_char_ngram"),
        ({"min_char_df": 0}, "min_char_df"),
        ({"min_char_ngram": 5}, "min_char_ngram"),
    ],
)
def test_bad_config_is_rejected_with_the_setting_named(config, setting):
    with pytest.raises(ValueError, match=setting):
        NgramIntentClassifier.validate_config({**NgramIntentClassifier.get_default_config(), **config})



def test_the_compact_model_answers_as_the_fitted_one(tmp_path):
    """The vocabulary tries and float32 weights kept in memory rank every intent
    as sklearn's fitted pipeline does, with the same probabilities (to 1e-5)."""
    from bot.nlu.intent_classifier import build_pipeline, compact, probabilities

    texts = [t for ts in EXAMPLES.values() for t in ts]
    labels = [i for i, ts in EXAMPLES.items() for _ in ts]
    pipeline = build_pipeline({**NgramIntentClassifier.get_default_config(), "min_char_df": 1})
    pipeline.fit(texts, labels)
    questions = ["who can i call", "mitä ihmiskauppa on", "jag är i fara", "我有危险", "", "zzz"]
    fitted = pipeline.predict_proba(questions)
    compact(pipeline)
    kept = probabilities(pipeline, questions)
    assert (kept.argsort(axis=1) == fitted.argsort(axis=1)).all()
    assert abs(kept - fitted).max() < 1e-5
