"""eval/llm_replay.py: stored replies are checked again as Newsdesk checks a live one, without a model."""
import importlib.util
from pathlib import Path

from assistant import Assistant
from assistant.evaluation import Question
from assistant.settings import Settings

_spec = importlib.util.spec_from_file_location("llm_replay",
                                               Path(__file__).resolve().parent.parent / "eval" / "llm_replay.py")
replay = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(replay)


def test_stored_replies_are_checked_again_without_a_model(sample_index_dir, embedder):
    settings = Settings(home=sample_index_dir, openai_api_key="none", openai_base_url="http://127.0.0.1:9/v1",
                        model="stored")  # nothing listens there: a request would fail the test
    qa = Assistant(settings=settings, embedder=embedder)
    questions = {"q1": Question("q1", "How many buses will Halbrook buy?", "factoid",
                                ("01_halbrook_transit_vote.txt",), ("40",)),
                 "q2": Question("q2", "How many trams will Halbrook buy?", "null", (), ())}
    rows = [{"id": "q1", "raw": "Halbrook will buy 40 battery-electric buses [1]."},
            {"id": "q1", "raw": "Halbrook will buy 40 battery-electric buses."},  # cites nothing: not shown
            {"id": "q2", "raw": ""}]  # no reply stored (the run answered extractively): nothing to replay
    results = replay.replay(qa, questions, rows)
    assert [(o.question.id, shown, o.backend) for o, shown in results] == [("q1", True, "openai"),
                                                                           ("q1", False, "extractive")]
    assert results[0][0].answer == "Halbrook will buy 40 battery-electric buses [1]."
    assert replay.summary(results).endswith("criterion 2; LLM answers shown 1, 0 of them on traps")
