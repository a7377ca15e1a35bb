from assistant.ingest.chunking import split_sentences
from assistant.text.quotes import any_speaks, attributed, mentions_person, person_names, sentence_speakers


def test_attribution_forms():
    assert attributed('"We will win," said Maria Okafor.') == ["Maria Okafor"]
    assert attributed("Okafor, the council's transport chair, told reporters the fares would fall.") == ["Okafor"]
    assert attributed("According to Tom Reyes the strike is over.") == ["Tom Reyes"]
    assert attributed("He added that revenue grew.") == ["he"]
    assert attributed('She posted a photo captioned "Adversity reveals strength".') == []


def test_the_speaker_after_said_is_the_name_not_the_role_before_it():
    assert attributed('"We need an inquiry," said director Kate Allen.') == ["Kate Allen"]
    assert attributed('"Yes," said Apple boss Steve Jobs.') == ["Steve Jobs"]
    assert attributed('"Fine," said Mr Brown yesterday.') == ["Brown"]
    assert attributed('"We will," said Microsoft in a statement.') == ["Microsoft"]
    assert attributed("Officials said Britain would win.") == []  # a country that does something, not a speaker
    assert attributed("He said there was a chance John Smith would win.") == ["he"]
    assert attributed('"That\'s just Kelly," explains Cram.') == ["Cram"]
    assert attributed('"Why?" asked Smith to nobody.') == []  # Smith may be asked, not asking
    assert attributed('But Houllier told BBC Sport: "He is a good coach."') == ["Houllier"]
    assert attributed("Ren told Xi that worries had eased, according to a report from the People's Daily.") == ["Ren"]
    assert attributed("Police claimed Mr Griffiths was a leader but his lawyer, Antony Townsden, told the BBC it was "
                      'a laughable suggestion and added: "He was living on welfare.') == ["Antony Townsden"]


def test_a_possessive_names_an_organisation_not_a_person():
    assert person_names("Screen International's US editor Mike Goodridge thinks so.") == ["Mike Goodridge"]


def test_a_quote_over_several_sentences_has_one_speaker():
    text = ('Gerrard added: "He is a great player. He scores goals in the league. "We would be getting a great '
            'player." The club said nothing. "It was good. It was fun," said Maria Okafor. "Really."')
    spans = split_sentences(text)
    assert sentence_speakers(text, spans) == [("Gerrard",)] * 3 + [()] + [("Maria Okafor",)] * 3


def test_surnames_and_pronouns_resolve_within_the_article():
    text = ('Xiaomi founder Lei Jun spoke on Friday. Lei, the chief executive, said "nothing cannot be overcome". '
            'He added that revenue grew. Wang Xingxing, founder of Unitree, told Xi the team was born in China.')
    spans = split_sentences(text)
    assert sentence_speakers(text, spans) == [(), ("Lei Jun",), ("Lei Jun",), ("Wang Xingxing",)]


def test_person_names_drop_titles():
    assert "Xi Jinping" in person_names("Chinese President Xi Jinping attends a symposium.")


def test_mentions_person():
    assert mentions_person("Lei", "Lei Jun") and mentions_person("Lei Jun", "Lei Jun")
    assert not mentions_person("Ren Zhengfei", "Lei Jun")
    assert any_speaks(["Ren Zhengfei", "Lei"], ["Wang Xingxing", "Lei Jun"])
    assert not any_speaks(["Ren Zhengfei"], ["Lei Jun"]) and not any_speaks([], ["Lei Jun"])


def test_a_quote_left_open_goes_on_in_the_next_sentence():
    from assistant.text.quotes import leaves_quote_open

    assert leaves_quote_open('Seaman told the Daily Mail: "Jens is a fantastic keeper.')
    assert leaves_quote_open("He said: “We will be back.")
    assert not leaves_quote_open('"Jens is a fantastic keeper," Seaman said.')
    assert not leaves_quote_open("Seaman believes Lehmann has been harshly treated.")
    # a quote over several sentences reopens each with a mark: "She's always been like that. "She enjoys ...
    assert leaves_quote_open('"She enjoys people trying to guess what she will do next.', inside=True)
    assert not leaves_quote_open('"She knows it is headline news," he said.', inside=True)
    # a text that lost a quote's opening mark: the mark after "them," closes it, and the next sentence is free
    assert not leaves_quote_open('Forces were already "buried" and little could reassure them," said Mr Davis.')
    text = ('Police forces were already "buried" under initiatives and there was little to reassure them," said '
            'Mr Davis. Earlier Lib Dem spokesman Mark Oaten said the government was right. "But these measures '
            'will only work if matched with a cut in paperwork."')
    assert sentence_speakers(text, split_sentences(text)) == [("Davis",), ("Mark Oaten",), ("Mark Oaten",)]


def test_a_quote_given_to_someone_else_titled_is_not_the_last_speakers():
    text = ('Carla Ferstman said the ruling was welcome. Prime Minister Tony Blair\'s official spokesman said: '
            '"We will study this judgment."')
    assert sentence_speakers(text, split_sentences(text)) == [("Carla Ferstman",), ()]


def test_a_place_or_employer_before_the_verb_is_not_the_speaker():
    from assistant.text.quotes import attributed

    assert attributed('Dr Erel Avineri, of the Centre for Transport at the University of the West of England in '
                      'Bristol said: "The design is not adjusted."') == []  # not Bristol
    assert attributed('"There is a whiff of a sweetener," Anais Faraj, an analyst at Nomura told the BBC.') == []
    assert attributed("The figures came after the Bank of England said lending fell.") == []
    assert attributed("A spokesman for Royal Mail said it was investigating.") == ["Royal Mail"]  # speaks for it


def test_where_the_words_were_said_after_the_verb_is_not_the_speaker():
    from assistant.text.quotes import attributed

    assert attributed('At 11pm he wrote on Weibo: "The world will not always belong to the strong."') == ["he"]
    assert attributed("He said in Leeds that prices would rise.") == ["he"]
    assert attributed('"We will win," said Tom Reyes in a statement.') == ["Tom Reyes"]


def test_a_quote_opened_after_a_colon_and_left_open_is_a_quote():
    from assistant.text.quotes import has_quote

    assert has_quote('He declared: "He is the deals on meals prime minister.')
    assert has_quote('"We lost," he said.')
    assert not has_quote("The Tory leader countered that deals had been struck.")


def test_a_name_inside_a_quote_that_goes_on_past_the_sentence_is_not_its_speaker():
    assert attributed('Ann Lee said: "Tonight the town has said it is tired.') == ["Ann Lee"]
    assert attributed('"Tonight Greyfallow has said it is tired.') == []
    assert attributed('It hurts," he said.') == ["he"]  # the mark closes a quote opened before
