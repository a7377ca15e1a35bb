from assistant.evaluation import Outcome, Question, format_table, is_gold, load_questions, summarize, unique


def Q(id, gold=(), kw=(), type="factoid"):
    return Question(id, f"question {id}?", type, tuple(gold), tuple(kw))


def test_gold_docs_match_as_path_suffixes():
    assert is_gold("/data/corpora/bbc/tech/012.txt", ["bbc/tech/012.txt"])
    assert not is_gold("/data/corpora/bbc/tech/1012.txt", ["bbc/tech/012.txt"])
    assert unique(["a", "b", "a", "c"]) == ["a", "b", "c"]


def test_retrieval_and_answer_metrics():
    outcomes = [
        Outcome(Q("1", ["x/1.txt"], ["fares"]), ["/c/x/1.txt", "/c/x/2.txt"], "Fares fall [1].", ["/c/x/1.txt"]),
        Outcome(Q("2", ["x/3.txt"], ["buses"]), ["/c/x/2.txt", "/c/x/4.txt", "/c/x/3.txt"], "Trams [1].", ["/c/x/2.txt"]),
        Outcome(Q("3", [], [], "null"), ["/c/x/2.txt"], "The articles don't say.", [], abstained=True),
        Outcome(Q("4", ["x/5.txt"], ["z"]), [], "The articles don't say.", [], abstained=True),
    ]
    m = summarize(outcomes)
    assert m["hit@1"] == 1 / 3 and m["hit@4"] == 2 / 3
    assert abs(m["mrr@10"] - (1 + 1 / 3) / 3) < 1e-9
    assert m["keyword_acc"] == 1 / 3
    assert m["cite_precision"] == 0.5
    assert m["abstain_null"] == 1.0 and m["false_abstain"] == 1 / 3
    assert m["mean_words"] == 1.5  # "Fares fall", "Trams"
    table = format_table({"newsdesk": {"overall": m}, "baseline": {"overall": m}})
    assert "hit@4" in table and "newsdesk" in table and "baseline" in table


def test_a_keyword_in_a_part_restated_as_unanswered_does_not_count():
    q = Q("m", ["a/1.txt", "a/2.txt"], ["Being Julia", "hunt"], "multi")
    restated = Outcome(q, ["/a/1.txt"], "His film Being Julia [1]. The articles don't say: which cause did he support "
                                        "on the first weekend of the hunting ban?", ["/a/1.txt"])
    answered = Outcome(q, ["/a/1.txt"], "His film Being Julia [1]. He rode out with the hunt [2].", ["/a/1.txt"])
    assert summarize([restated])["keyword_acc"] == 0 and summarize([answered])["keyword_acc"] == 1


def test_multi_question_recall_needs_every_story_cited():
    q = Q("m", ["a/1.txt", "a/2.txt"], [], "multi")
    both = Outcome(q, ["/a/1.txt", "/a/2.txt"], "x [1] y [2]", ["/a/1.txt", "/a/2.txt"])
    one = Outcome(q, ["/a/1.txt"], "x [1]", ["/a/1.txt"])
    assert summarize([both, one])["cite_recall_multi"] == 0.5


def test_load_questions(tmp_path):
    f = tmp_path / "q.jsonl"
    f.write_text('{"id": "a", "question": "Q?", "type": "null", "gold_docs": [], "answer_keywords": []}\n\n')
    [q] = load_questions(f)
    assert q.id == "a" and not q.answerable


def test_the_unseen_set_stays_frozen():
    """eval/unseen.jsonl was written by someone who saw no code and no other set; it is run only to report. Editing
    it (to fit a change) would make it one more dev set: this checksum fails the suite instead."""
    import hashlib
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "eval" / "unseen.jsonl"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == (
        "ea6af462988ab36d6eb6ed71301c6a134317675f020e5daf2bffe9398797ef66")
    questions = load_questions(path)
    assert len(questions) == 100 and all(q.id.startswith("unseen-") for q in questions)


def test_answers_file_keeps_the_raw_reply_beside_the_checked_answer():
    import json

    from assistant.evaluation import answers_jsonl

    o = Outcome(Q("1", ["x/1.txt"], ["fares"]), ["/c/x/1.txt"], "Fares fall [1].", ["/c/x/1.txt"], raw="Fares fall.",
                backend="openai", note="[1]: found by Newsdesk for sentences the LLM left uncited.")
    row = json.loads(answers_jsonl([o]))
    assert row["raw"] == "Fares fall." and row["answer"] == "Fares fall [1]." and row["keywords_found"] is True
