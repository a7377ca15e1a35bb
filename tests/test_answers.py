"""Answers over the sample articles with the extractive backend."""
import pytest

from assistant import Answer, IndexNotFoundError, QuestionError
from assistant.answering.citations import NOT_FOUND


def test_lei_jun_chips_answer_is_cited_to_his_story(sample_assistant):
    # whether it says what he said of chips is the table's concern below (a measured miss today)
    result = sample_assistant.ask("What did Lei Jun say about chips?")
    assert not result.abstained
    assert result.citations and result.citations[0].number == 1
    assert "[1]" in result.text
    assert "Lei" in result.text
    assert any("aicnbc.com/844" in c.source for c in result.citations)
    for c in result.citations:
        assert c.quote and all(s in c.quote for s in c.sentences)


def test_numbers_in_text_match_citations(sample_assistant):
    result = sample_assistant.ask("By how much did the Caldora central bank cut its rate?")
    import re
    numbers = sorted({int(n) for n in re.findall(r"\[(\d+)\]", result.text)})
    assert numbers == [c.number for c in result.citations]
    assert "3.75" in result.text


def test_unanswerable_question_abstains_without_citations(sample_assistant):
    result = sample_assistant.ask("Who won the Nobel Prize in Literature in 1990?")
    assert result.abstained and result.citations == [] and result.text == NOT_FOUND
    assert result.passages  # related passages are still there to show


def test_retrieve_returns_passages_with_sources(sample_assistant):
    passages = sample_assistant.retrieve("electric buses fares council vote", top_k=5)
    assert 0 < len(passages) <= 5
    assert "Halbrook" in passages[0].title
    assert passages[0].source.startswith(("http", "/"))
    assert passages[0].text in open(passages[0].source).read() if passages[0].source.startswith("/") else True


def test_streaming_yields_text_then_the_answer(sample_assistant):
    items = list(sample_assistant.ask_stream("What did Maria Okafor say about fares?"))
    assert isinstance(items[-1], Answer)
    assert all(isinstance(i, str) for i in items[:-1]) and len(items) >= 2
    assert "".join(items[:-1]).strip()


def test_follow_up_uses_the_history(sample_assistant):
    first = sample_assistant.ask("What did Ren Zhengfei tell Xi Jinping?")
    follow = sample_assistant.ask("and what did Lei say?", history=[(first.question, first.text)])
    assert follow.citations and "Lei" in follow.text


def test_bad_questions_get_clear_errors(sample_assistant, tmp_path, embedder):
    from assistant import Assistant

    with pytest.raises(QuestionError, match="Type a question"):
        sample_assistant.ask("   ")
    with pytest.raises(QuestionError, match="limit"):
        sample_assistant.ask("x" * 5000)
    for top_k in (0, -3, 51, 2.5, True):
        with pytest.raises(QuestionError, match="from 1 to 50"):
            sample_assistant.ask("Who reopened the lighthouse?", top_k=top_k)
        with pytest.raises(QuestionError, match="from 1 to 50"):
            sample_assistant.retrieve("Who reopened the lighthouse?", top_k=top_k)
    assert len(sample_assistant.retrieve("Who reopened the lighthouse?", top_k=1)) == 1
    with pytest.raises(IndexNotFoundError, match="newsdesk ingest"):
        Assistant(index_dir=tmp_path / "empty", embedder=embedder).ask("anything?")


def test_a_two_part_question_is_answered_from_both_articles(sample_assistant):
    question = "How many electric buses will Halbrook buy, and what did Lei Jun say about chips?"
    passages = sample_assistant.retrieve(question, top_k=2)
    assert len(passages) == 2 + 2  # each part has its own share of passages
    answer = sample_assistant.ask(question)
    cited = {c.title for c in answer.citations}
    assert any("Halbrook" in t for t in cited) and any("Lei Jun" in t or "Xiaomi" in t for t in cited), cited
    assert "40" in answer.text



# Questions over the sample articles, and what a right answer holds (None: the articles do not answer it). Cases the
# fitted answerer gets wrong today are marked: they are its known misses, reported in docs/quality.md, and turn into
# failures the day it gets them right (strict), so the table stays true.
def miss(question: str, holds: str | None, why: str):
    return pytest.param(question, holds, marks=pytest.mark.xfail(
        strict=True, reason=f"a measured miss of the fitted offline answerer (issue 18): {why}"))


SAMPLE_QUESTIONS = [
    # the page's example questions (web/page.py)
    ("How many buses is Halbrook buying?", "40"),
    miss("What did Lei Jun say about chips?", "chip",
         "it answers (0.48 against 0.231) with the sentences that introduce his two posts ('Lei Jun, 54, set off a "
         "wave of discussion ...') and his Weibo post on newcomers' chances, not his reported words on the chip "
         "effort ('Lei told the audience that latecomers ...'), which the reader scores low"),
    miss("How old is Lei Jun?", "54",  # the story gives his age in apposition: 'Lei Jun, 54, set off ...'
         "it refuses: the answer gate gives it 0.05 (an answer needs 0.231), though the likeliest sentence gives the "
         "age; the gate's trees do not split on the kind asked being an age"),
    ("What did Okafor say about fares?", "Okafor"),
    ("Why did the Reserve Bank of Caldora cut its rate?", "inflation"),
    ("Which film won the Golden Heron?", "The Salt Orchard"),
    ("How many Norvale Water customers were affected by the breach?", "210,000"),
    ("How many turbines will the Greyhaven wind farm have?", "80"),
    ("Who is the chief executive of Quillon?", "Priya Nandakumar"),  # a name the embedding model has never seen
    miss("How much will the Greyhaven wind farm cost?", "4.6 billion euros",
         "it refuses: the answer gate gives it 0.19 (an answer needs 0.231); the likeliest sentence gives the cost "
         "('The project is estimated to cost 4.6 billion euros'), which names no wind farm"),
    ("How much did Norvale Water pay the hackers?", None),  # the story says nothing of a payment
    miss("How many moons does the Greyhaven wind farm have?", None,
         "it answers with the farm's jobs and the fishermen's words: the story is about the farm, and the answer "
         "gate lets its likeliest sentences through"),
    miss("Who won the Westmarch governor election?", None,
         "the debate story previews the election, and it answers with the debate's opening sentence, which the "
         "answer gate lets through"),
    ("Which team won the League Cup semi-final at Millbrook Park?", "Rovers"),
    ("What did Angela Merkel say about the Greyhaven wind farm?", None),
    ("What did Peter Aalders say about the Greyhaven wind farm?", "Aalders"),  # his words never say 'wind farm'
    ("What did Priya Nandakumar say about batteries?", None),  # her words are on data centres' power
    ("What did Dr Nandakumar say about power?", "Nandakumar"),  # a title the article does not give her
    ("Who founded Quillon?", "Priya Nandakumar"),  # the article calls her its co-founder
    ("When did Jeff Bezos visit the Greyhaven wind farm site?", None),  # no passage names him
    miss("When did Peter Aalders speak about the Greyhaven wind farm?", "Aalders",
         "his words give no date, and it refuses: the likeliest sentences are the project's dates and the approval, "
         "and the answer gate refuses it (0.02 against 0.231)"),
]


@pytest.mark.parametrize("question, holds", SAMPLE_QUESTIONS)
def test_sample_questions_are_answered_or_refused(sample_assistant, question, holds):
    answer = sample_assistant.ask(question)
    if holds is None:
        assert answer.abstained and answer.citations == [] and answer.text == NOT_FOUND
        assert answer.note  # a refusal says why
    else:
        assert not answer.abstained and holds in answer.text and answer.citations


def test_a_part_the_articles_do_not_answer_is_said_to_be_unanswered(sample_assistant):
    answer = sample_assistant.ask("How many buses will Halbrook buy, and who painted the Mona Lisa?")
    assert not answer.abstained and "40" in answer.text and answer.citations
    assert answer.text.endswith("The articles don't say: who painted the Mona Lisa?")


def test_a_two_part_question_answered_in_full_says_nothing_is_missing(sample_assistant):
    both = sample_assistant.ask("How many buses will Halbrook buy, and when will they arrive?")
    assert not both.abstained and "40" in both.text and "don't say" not in both.text


def test_the_chunk_after_a_retrieved_one_is_read_too(sample_assistant):
    from assistant.retrieve.hybrid import RetrievalConfig, Retriever

    retriever = Retriever(sample_assistant.store, sample_assistant.embedder, RetrievalConfig(chain=1))
    passages = retriever.retrieve("Greyhaven wind farm: how many turbines, and how many homes will it power?")
    last = {p.doc_id: max(c.start for c in sample_assistant.store.chunks_of(p.doc_id)) for p in passages}
    passages = [next(p for p in passages if p.start < last[p.doc_id])]  # a chunk with one after it
    more = retriever.with_next(passages, first=1)
    assert more[0] == passages[0] and len(more) == 2
    follower = more[1]
    assert follower.doc_id == passages[0].doc_id and follower.start >= passages[0].end
    body = sample_assistant.article_text(follower.doc_id)
    assert follower.text in body
    assert retriever.with_next(more, first=2)[:2] == more[:2]  # nothing twice
    assert len({p.chunk_id for p in retriever.with_next(more, first=2)}) == len(retriever.with_next(more, first=2))


def test_the_best_passage_is_read_on_for_a_few_chunks(sample_assistant):
    """A list or a long quote runs on: the best passage is followed by `chain` chunks, the others by one."""
    from assistant.retrieve.hybrid import RetrievalConfig, Retriever

    store = sample_assistant.store
    doc = max(sample_assistant.articles(), key=lambda a: len(store.chunks_of(a.doc_id)))
    rows = store.chunks_of(doc.doc_id)
    assert len(rows) >= 3
    first = next(p for p in sample_assistant.retrieve(doc.title, top_k=20) if p.chunk_id == rows[0].chunk_id)
    for chain in (1, 2):
        retriever = Retriever(store, sample_assistant.embedder, RetrievalConfig(chain=chain))
        read = retriever.with_next([first], first=1)
        assert [p.chunk_id for p in read] == [r.chunk_id for r in rows[:1 + chain]]
        assert all(p.doc_id == doc.doc_id and p.text == r.text for p, r in zip(read, rows))


@pytest.mark.parametrize("question", ["???", "...", "🙂", "☃☃☃", " - ! "])
def test_a_question_with_no_words_gets_a_message_not_an_answer(sample_assistant, question):
    with pytest.raises(QuestionError, match="no words to search for"):
        sample_assistant.ask(question)


def test_bracketed_numbers_in_an_article_never_become_citations(embedder, tmp_path):
    """A footnoted or scraped page ('born in 1962 [2]') cannot point the answer at other articles."""
    from assistant import Assistant

    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "bio.txt").write_text("Profile: Mara Quillon\n\nMara Quillon was born in Tessfield in 1962 [1] [2]. "
                                    "She founded the Quillon chip start-up on September 1 [3] [2].")
    for n in range(3):
        (folder / f"other{n}.txt").write_text(f"Other story {n}\n\nThe harbour of town {n} reopened after repairs.")
    qa = Assistant(index_dir=tmp_path / "idx", embedder=embedder, backend="extractive")
    qa.ingest([folder])
    result = qa.ask("When was Mara Quillon born, and when did she found her start-up?")
    assert "1962" in result.text
    assert {c.title for c in result.citations} == {"Profile: Mara Quillon"}
    assert [c.number for c in result.citations] == [1]


def test_a_question_the_articles_are_not_about_is_refused_as_such(sample_assistant):
    answer = sample_assistant.ask("Why do cats purr?")
    assert answer.abstained and answer.citations == []
    assert "the articles are not about it" in answer.note and "an answer needs" in answer.note
