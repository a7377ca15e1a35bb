"""The offline answerer's pure parts: reading retrieved chunks of one article as one text."""
import numpy as np

from assistant.answering.extractive import candidates, reading_order
from assistant.types import Passage

ARTICLE = ('Savers in Argentina are angry. "The situation is bad for savers," said Carla Ruiz, who leads the savers\' '
           'association. "Most of them invested in good faith." ')
NEXT = '"People keep money in banks only because crime is so high at home." The central bank declined to comment.'


def _passage(text, start, doc="a", speakers=()):
    return Passage(doc_id=doc, title="Savers", source="x.txt", text=text, score=1.0, start=start,
                   end=start + len(text), speakers=speakers)


def _answer_text(embedder, text, question, cfg=None, speakers=()):
    """The extractive answer's sentences for a question over one passage that is the whole of `text`."""
    from assistant.answering.extractive import ExtractiveConfig, select

    passages = [_passage(text, 0, speakers=speakers)]
    cands = candidates(passages)
    picked = select(question, cands, embedder.embed([c.text for c in cands]), embedder.embed_query(question),
                    passages, cfg or ExtractiveConfig(), embed=embedder.embed, article_text=lambda doc: text)
    return " ".join(cands[i].text for i in picked)


def test_a_quote_that_goes_on_in_the_next_retrieved_chunk_keeps_its_speaker():
    first = _passage(ARTICLE.strip(), 0, speakers=("Carla Ruiz",))
    second = _passage(NEXT, len(ARTICLE))  # the next chunk; retrieved first, and knowing no speaker itself
    cands = candidates([second, first])
    crime = next(c for c in cands if "crime" in c.text)
    assert crime.speakers == ("Carla Ruiz",)
    assert crime.previous.startswith('"Most of them invested')  # the sentence before, across the boundary
    good_faith = next(c for c in cands if "good faith" in c.text)
    assert (crime.run, crime.order) == (good_faith.run, good_faith.order + 1)  # neighbours across chunks
    # read in the article's order, even though the later chunk ranked first
    picked = [cands.index(crime), cands.index(good_faith)]
    assert [cands[i].text[:5] for i in reading_order(cands, picked)] == ['"Most', '"Peop']


def test_chunks_of_different_articles_or_with_a_gap_are_not_joined():
    first = _passage(ARTICLE.strip(), 0, speakers=("Carla Ruiz",))
    elsewhere = _passage(NEXT, len(ARTICLE), doc="b")
    later = _passage(NEXT, len(ARTICLE) + 500)
    for other in (elsewhere, later):
        crime = next(c for c in candidates([first, other]) if "crime" in c.text)
        assert crime.speakers == () and crime.previous == ""


def test_a_short_answer_goes_on_with_the_next_sentence_of_the_same_story():
    import numpy as np

    from assistant.answering.extractive import ExtractiveConfig, choose

    text = ("Gordon Freeman is the scientist who starred in the original game. He is back in City 17, a bleak "
            "metropolis. Reviewers liked the physics puzzles. The crowbar returns as well.")
    passages = [_passage(text, 0)]
    cands = candidates(passages)
    scores = [1.0, 0.3, 0.2, 0.1]
    vectors = np.eye(len(cands), dtype=np.float32)
    picked = choose(cands, scores, vectors, "In what metropolis does Gordon Freeman find himself?", passages,
                    ExtractiveConfig())
    assert [cands[i].text[:9] for i in picked] == ["Gordon Fr", "He is bac"]
    short = choose(cands, scores, vectors, "In what metropolis does Gordon Freeman find himself?", passages,
                   ExtractiveConfig(follow_words=12))
    assert len(short) == 1  # the budget decides


def test_an_answer_that_starts_by_pointing_back_says_what_it_points_to():
    import numpy as np

    from assistant.answering.extractive import ExtractiveConfig, choose

    text = ("Thousands of hunt supporters rode out on the first day of the ban. They were greeted by big crowds, "
            "with the actor Jeremy Irons among them. Police made four arrests.")
    passages = [_passage(text, 0)]
    cands = candidates(passages)
    vectors = np.eye(len(cands), dtype=np.float32)
    question = "Who greeted the riders?"
    picked = choose(cands, [0.2, 1.0, 0.1], vectors, question, passages, ExtractiveConfig(follow_words=0))
    assert [cands[i].text[:9] for i in picked] == ["Thousands", "They were"]  # who "they" are, then the answer
    tight = choose(cands, [0.2, 1.0, 0.1], vectors, question, passages, ExtractiveConfig(follow_words=0, max_words=20))
    assert [cands[i].text[:9] for i in tight] == ["They were"]  # the budget decides


def test_the_kind_of_answer_a_question_asks_for():
    from assistant.answering.extractive import answer_kind, has_kind

    assert answer_kind("How much did Glazer pay for Manchester United?") == "money"
    assert answer_kind("What was the price of the shares at launch?") == "money"
    assert answer_kind("How much will Toyota's i-foot walking vehicle cost to buy?") == "money"  # far from "cost"
    assert answer_kind("How many people were killed in the floods?") == "amount"
    assert answer_kind("By how much did the central bank cut its rate?") == "amount"
    assert answer_kind("What did Brown say about the price of oil?") is None  # asks for words, not a sum
    assert answer_kind("Who won the match?") == "won"
    assert answer_kind("Which city won the vote to host the Games?") == "won"
    assert answer_kind("Who was appointed to replace the chief executive?") == "appointed"
    assert answer_kind("Has anyone been charged over the stabbing?") == "legal"
    assert answer_kind("What prison sentence was Ebbers given?") == "penalty"
    assert answer_kind("What sentences did the nine suppliers receive?") == "penalty"
    assert answer_kind("Who scored the winner?") is None
    assert answer_kind("How old is the Xiaomi founder?") == "age"
    assert answer_kind("What is the name of the system they are building?") == "name"
    assert answer_kind("What made-up name did she give her employer?") == "name"
    assert answer_kind("What did Lane say about the name?") is None
    assert has_kind('The power adaptor, nicknamed "energy vampires", wastes power.', "name")
    assert answer_kind("How cold is the cryotherapy chamber?") == "measure"
    assert answer_kind("How long was Knight jailed for?") == "penalty"  # an outcome before a measure
    assert answer_kind("What share of the bank did the government own?") == "amount"


def test_a_measure_is_a_number_with_the_unit_asked_for():
    from assistant.answering.extractive import measure_unit

    def gives(question, text):
        return bool(measure_unit(question).search(text))

    assert gives("How cold is the chamber?", "It is cooled to minus 160 degrees centigrade.")
    assert gives("How cold does it get at night?", "The wind chill takes temperatures down to minus 20C.")
    assert not gives("How cold is the chamber?", "He spent 20 days in the chamber.")
    assert gives("How quickly can viewers change channels?", "With IPTV, the speed is 15 milliseconds.")
    assert gives("How far out was the penalty?", "Five metres in from the touchline, 44 metres out, he kicked.")
    assert not gives("How far out was the penalty?", "Jones had missed three earlier shots at goal.")
    assert gives("How long could the trial last?", "The trial could last as long as a year.")
    assert gives("What share of the bank did the government own?", "The government owns 51.4% of KFB.")
    assert gives("What share of the royalties do they pay?", "They pay a quarter of the band's royalties.")
    assert gives("By how much has the number of tests fallen since 1997?", "There was a 29% drop in tests.")
    assert not gives("By how much did the economy grow?", "It followed four quarters of double-digit growth.")
    assert not gives("What share of the bank did the government own?", "It will spend $3.3bn to buy the bank.")
    assert measure_unit("How many people attended?") is None


def test_an_outcome_is_given_only_by_a_sentence_that_says_it_happened():
    from assistant.answering.extractive import answer_kind, answer_test, has_kind

    assert has_kind("Rovers beat Athletic 3-2 in the semi-final.", "won")
    assert has_kind("Meadows' Dead Man's Shoes picked up the best film award.", "won")
    assert not has_kind("Bez is now 2-1 favourite to win the show.", "won")  # a prospect
    assert not has_kind("An inspection team began a tour to assess London's bid for the Games.", "won")
    assert has_kind("Carlos Ghosn is to succeed Mr Schweitzer at the head of Renault.", "appointed")
    assert not has_kind("Doug has decided to stand aside and allow a new chief executive to take on the job.",
                        "appointed")
    assert answer_kind("What sentence did Alex Bell receive?") == "penalty"
    sentence = answer_test("What sentence did Alex Bell receive for his part in the network?", "penalty")
    assert sentence("Bell was jailed for 18 months at the Old Bailey.")
    assert not sentence("The longest jail sentence, 46 months, was handed down to Sankus.")  # someone else's
    given = answer_test("What prison sentence was Bernie Ebbers given?", "penalty")
    assert given("Ebbers was jailed for 25 years on Wednesday.")
    assert not given("Mr Ebbers could face a jail sentence of up to 85 years if convicted.")  # a prospect
    assert not given("Mr Sullivan will be sentenced following Mr Ebbers' trial.")
    assert has_kind("Rapper Young Buck has been charged after allegedly stabbing a man.", "legal")
    assert not has_kind("A reward has been offered for information leading to a conviction.", "legal")
    convicted = answer_test("Has anyone been convicted over the raid?", "legal")
    assert convicted("Two men were found guilty at the Old Bailey.")
    assert not convicted("Twenty eight people have been arrested.")  # an arrest is not a conviction ...
    arrested = answer_test("Has anyone been arrested over the raid?", "legal")
    assert arrested("Twenty eight people have been arrested.") and arrested("He was jailed for six years.")  # ... a
    # conviction follows an arrest


def test_a_sentence_gives_an_amount_only_if_it_is_not_a_date_a_time_or_a_name():
    from assistant.answering.extractive import has_kind

    assert has_kind("The club was sold for £790m.", "money")
    assert has_kind("It raised 15 million euros.", "money")
    assert not has_kind("Twelve people were hurt.", "money")
    assert has_kind("Twelve people were hurt.", "amount")
    assert has_kind("Sales rose 4.5% in March.", "amount")
    for no_amount in ("The game opened on 16 November 2004.", "Trading stopped at 14:30.",
                      "Fans queued for Halo 2 at midnight.", "He told BBC Radio 4 he was sorry."):
        assert not has_kind(no_amount, "amount"), no_amount
    assert has_kind("It will cost 4.6 billion euros.", "money") and has_kind("Tickets cost 50p.", "money")
    assert not has_kind("It will power 1.1 million homes.", "money")  # a count, not a sum
    for age in ("The 54-year-old billionaire posted.", "Isinbayeva, 22, has set 10 records.", "He left aged 16."):
        assert has_kind(age, "age"), age
    assert not has_kind("He has set 10 records in 22 years.", "age")
    for named in ("They are creating what they call the Alert Retrieval Cache.", "The name was changed to Anon Air."):
        assert has_kind(named, "name"), named
    assert not has_kind("The pair are building a system to collect texts.", "name")
    for name in ("Copies of Half Life 2 circulated online.", "Pel&#233; scored reams of goals."):
        assert not has_kind(name, "amount"), name  # a capitalised number word in a name, an HTML entity
    assert has_kind("Fifty-five statues were stolen.", "amount") and has_kind("Half the staff left.", "amount")


def test_a_count_must_count_the_thing_asked(embedder):
    from assistant.answering.extractive import answer_test

    people = answer_test("How many people attended the show in Las Vegas?", "amount", embedder.embed)
    assert not people("The show is a geek's paradise with more than 50,000 new gadgets launched in four days.")
    assert people("More than 120,000 people attended the show.")
    assert people("The plant employs 2,000 staff.")  # a word for people
    vehicles = answer_test("How many vehicles a year does the Saab plant turn out?", "amount", embedder.embed)
    assert vehicles("The Saab factory produces fewer than 130,000 cars per year.")  # by meaning
    assert not vehicles("The Saab factory has lost money for 15 quarters.")
    assert not answer_test("How many vehicles a year does the plant turn out?", "amount")("It makes 130,000 cars.")
    # the thing counted is named beside a number, not anywhere in the sentence
    copies = answer_test("How many copies did the game sell?", "amount")
    assert copies("The game has sold more than five million copies worldwide.")
    assert copies("Copies sold reached 2 million by March.")
    assert not copies("Half Life 2 was released on 16 November, but gamers had to authenticate their copy online.")


def test_a_sum_put_in_is_not_answered_by_a_sum_spent(embedder):
    text = ("Media Lab Europe is to close. According to its latest accounts, Media Lab Europe spent 8.16 million euros "
            "in 2003 and raised just 2.56 million euros.")
    assert _answer_text(embedder, text, "How much money had the Irish government put into Media Lab Europe?") == ""
    bought = "Malcolm Glazer bought Manchester United for £790m after a long fight. Fans protested at Old Trafford."
    assert "£790m" in _answer_text(embedder, bought, "How much did Glazer pay for Manchester United?")


def test_a_sum_must_be_the_sum_asked_for():
    from assistant.answering.extractive import answer_test

    pay = answer_test("How much did Ken Bates pay for his stake in Leeds United?", "money")
    assert not pay("When we took over Leeds United, the club had a debt of £103m.")
    assert pay("Bates paid £10m for the stake.")
    assert answer_test("How much money did the budget pledge?", "money")("It pledged $2.3bn.")
    pocket = answer_test("How much does Isinbayeva pocket every time she breaks the record?", "money")
    assert pocket("Every time she breaks the record she gets $30,000.")  # the same sum in other words
    assert not pocket("The meeting cost organisers $30,000.")


def test_what_how_many_counts():
    from assistant.answering.extractive import counted_things

    assert counted_things("How many moons does Jupiter have?") == ["moon"]
    assert counted_things("How many copies did the album sell?") == ["cop(?:y|ie)"]
    assert counted_things("How many of his previous matches against Santoro had he won?") == ["previou", "matche"]
    assert counted_things("How many times has she won?") == [] and counted_things("Who won?") == []


def test_scoring_does_not_depend_on_the_hash_seed():
    # Answers once changed between processes: words were taken from a set "in order". Each seed is a process.
    import os
    import subprocess
    import sys

    code = ("from assistant.answering.extractive import _number_near, term_weights\n"
            "print(_number_near('The plant employs 2,000 staff making cordless phones', {'staff'}),"
            " list(term_weights('How many cordless phones do staff at the Siemens plant make?', [], None)))")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout for seed in range(8)}
    assert len(runs) == 1 and runs.pop().startswith("True")


def test_the_shortlist_keeps_a_sum_that_shares_no_word_with_a_how_much_question():
    from assistant.answering.extractive import ExtractiveConfig, shortlist

    text = ("The NevoSL controller won two awards at the show. The NevoSL controller plays photos. "
            "The NevoSL controller works with home networks. The NevoSL controller has wireless. "
            "The gadget goes on sale in summer and will set buyers back $799.")
    cands = candidates([_passage(text, 0)])
    question = "What is the expected price of the NevoSL controller?"
    kept = shortlist(question, cands, ExtractiveConfig(shortlist=2))
    assert any("$799" in c.text for c in kept)
    assert not any("$799" in c.text for c in shortlist("What does the NevoSL controller do?", cands,
                                                         ExtractiveConfig(shortlist=2)))


def test_the_shortlist_keeps_a_measure_that_shares_no_word_with_a_how_question():
    from assistant.answering.extractive import ExtractiveConfig, shortlist

    text = ("Microsoft thinks IPTV is the future of television. Microsoft started thinking about IPTV long ago. "
            "Microsoft is not the only IPTV player. Flicking between channels on satellite TV takes two seconds. "
            "With IPTV, the speed is 15 milliseconds.")
    cands = candidates([_passage(text, 0)])
    kept = shortlist("According to Microsoft, how quickly can viewers flick between channels on IPTV?", cands,
                     ExtractiveConfig(shortlist=2))
    assert any("15 milliseconds" in c.text for c in kept)


def test_the_second_part_of_a_question_that_points_back_is_answered_from_the_same_story(embedder):
    from assistant.answering.extractive import ExtractiveConfig, select

    match = _passage("Wales were leading 12-10 when Haden dived at a line-out. Referee Roger Quittenton was fooled "
                     "and gave a penalty. New Zealand won 13-12.", 0, doc="a")
    other = _passage("The final score was 1-1 after extra time. The final score stood, said the coach.", 0, doc="b")
    passages = [match, other]
    cands = candidates(passages)
    vectors = embedder.embed([c.text for c in cands])
    question = "Which referee was fooled by Haden's dive, and what was the final score?"
    picked = select(question, cands, vectors, embedder.embed_query(question), passages, ExtractiveConfig(),
                    embed=embedder.embed)
    assert {passages[cands[i].passage].doc_id for i in picked} == {"a"}
    assert any("13-12" in cands[i].text for i in picked)


def test_a_year_asked_about_must_be_the_articles_unless_it_names_an_event():
    from assistant.answering.extractive import missing_specifics

    article = "xiaomi spent $1.4bn on research in 2023, up from 2022."
    assert missing_specifics("How much did Xiaomi spend on research in 2024?", article) == ["2024"]
    assert missing_specifics("How much did Xiaomi spend on research in 2023?", article) == []
    # "the Australian Open" in the article is the 2005 Australian Open of the question
    assert missing_specifics("How many matches had he won before the 2005 Australian Open?", article) == []


def test_the_asked_speakers_quote_is_given_whole_beyond_the_usual_length(embedder):
    from assistant.answering.extractive import ExtractiveConfig

    text = ("US Customs claimed Mr Griffiths was one of the group's leaders, but his lawyer, Antony Townsden, told the "
            "BBC it was a laughable suggestion and added: \"He was living on welfare and had such an old computer "
            "that he couldn't even download software. The allegation that he was the group's co-leader is illusory. "
            "He had the least technical skills of anyone, and he has only been called a leader because he was a "
            "loudmouth who wrote a lot on their message board.\" Mr Griffiths expects to hear the outcome of his "
            "appeal this week.")
    question = "What did lawyer Antony Townsden say about claims that Griffiths was a leader of the group?"

    def answer(cfg):
        return _answer_text(embedder, text, question, cfg, speakers=("Antony Townsden",))

    assert "loudmouth" in answer(ExtractiveConfig())
    assert "loudmouth" not in answer(ExtractiveConfig(quote_words=80))  # the quote runs past 80 words
    assert "appeal" not in answer(ExtractiveConfig())  # ... and stops where the quote does


def test_a_quote_from_its_middle_is_read_from_where_the_speaker_is_named():
    from assistant.answering.extractive import _complete_quotes

    text = ('Andrew Marr said: "This is enormously damaging. Gordon Brown knows it as well as Tony Blair. '
            '"I think the relationship is very poor indeed." Ministers met on Monday.')
    cands = candidates([_passage(text, 0, speakers=("Andrew Marr",))])
    where = {c.key: i for i, c in enumerate(cands)}
    middle = next(i for i, c in enumerate(cands) if c.text.startswith("Gordon"))
    picked = [middle]
    _complete_quotes(cands, where, picked, ["Andrew Marr"], cands[middle].words, 120)
    said = " ".join(cands[i].text for i in sorted(picked))
    assert said.startswith("Andrew Marr said") and "very poor" in said and "Ministers" not in said


def test_a_question_naming_someone_is_answered_from_a_story_that_names_them(embedder):
    from assistant.answering.extractive import ExtractiveConfig, select

    other = _passage("Council tax bills will rise by 5% in April, the council said. Taxes on fuel rise too.", 0, doc="a")
    named = _passage("Jane Okafor, the mayor, spoke on Monday. She said council tax would rise by 4% in April.", 0,
                     doc="b")
    passages = [other, named]
    texts = {"a": other.text, "b": named.text}
    cands = candidates(passages)
    vectors = embedder.embed([c.text for c in cands])
    question = "By what percentage will council tax rise in April, according to Jane Okafor?"
    picked = select(question, cands, vectors, embedder.embed_query(question), passages, ExtractiveConfig(),
                    embed=embedder.embed, article_text=texts.__getitem__)
    assert picked and {passages[cands[i].passage].doc_id for i in picked} == {"b"}
    texts["b"] = "The mayor spoke on Monday."  # no story names her: not answered from the one that does not
    assert select(question, cands, vectors, embedder.embed_query(question), passages, ExtractiveConfig(),
                  embed=embedder.embed, article_text=texts.__getitem__) == []


def test_a_year_the_article_never_names_refuses_only_an_answer_that_names_another_year(embedder):
    def ask(question, text):
        return _answer_text(embedder, text, question)

    review = ("Ireland won their last Triple Crown in 1985. The coach is now in vertical take-off mode. The winning "
              "try was conceived in his mind. Munster went down 37-32 to eventual winners Wasps in the Heineken Cup "
              "semi-final.")  # a review of 2004 that never says 2004
    assert ask("By what score did Munster lose to Wasps in the Heineken Cup in 2004?", review)
    figures = "Xiaomi spent $1.4bn on research and development in 2023. Its phone sales rose."
    assert ask("How much did Xiaomi spend on research and development in 2024?", figures) == ""
    assert ask("How much did Xiaomi spend on research and development in 2023?", figures)
    growth = ("Singapore's economy grew by 8.1% in 2004, its best since 2000. The slowdown followed a boom after "
              "the Sars virus in 2003.")  # the article names 2003, but the figure is 2004's
    assert ask("By how much did Singapore's economy grow in 2003?", growth) == ""
    assert ask("By how much did Singapore's economy grow in 2004?", growth)
    shock = ('Oil prices rose through 2004. "This shock is much smaller than the shocks of 1973 and 1979," said '
             'Vincent Koen, an economist at the OECD.')  # words asked for, not a figure of a year
    assert ask("What did OECD economist Vincent Koen say about the scale of the 2004 oil shock?", shock)


def test_who_questions_prefer_a_sentence_naming_someone_the_question_does_not():
    from assistant.answering.extractive import ExtractiveConfig, score_candidates

    cands = candidates([_passage("Josh Lewsey was driven over the line near the end. Ireland flanker Johnny "
                                 "O'Connor knocked the ball away.", 0)])
    question = "Which Irish back-row forward knocked the ball away as Josh Lewsey was driven over the line?"
    plain = score_candidates(question, cands, np.zeros(len(cands)), ExtractiveConfig(who_bonus=0.0), {})
    bonus = score_candidates(question, cands, np.zeros(len(cands)), ExtractiveConfig(), {})
    assert bonus[0] == plain[0]  # names only Josh Lewsey, whom the question names
    assert bonus[1] > plain[1]


def test_what_did_x_say_keeps_more_of_their_quotes_from_the_story(embedder):
    text = ("Tony Blair's feud with Gordon Brown is damaging the way the UK is governed, Tory leader Michael Howard "
            "has claimed at prime minister's questions. Mr Howard asked: \"How can they fight crime when they are "
            "fighting each other?\" Mr Blair said people cared about the economy. The prime minister denied any "
            "deal. The Tory leader countered that such deals were struck at dinners. He declared: \"He is the deals "
            "on meals prime minister. No wonder the chancellor is not a happy eater.\"")
    question = "What did Michael Howard say about Tony Blair and the alleged dinner deals with Gordon Brown?"
    said = _answer_text(embedder, text, question, speakers=("Michael Howard",))
    assert "deals on meals" in said and "happy eater" in said
