"""Reading a model's reply: every citation style models write becomes [n] on the claim it belongs to."""
import pytest

from assistant.answering.reply import read_reply

TITLES = ["Lei Jun's midnight message | 2025-03-01 | SCMP", "Xiaomi unveils Surge C1 chip", "Unitree at the symposium"]


@pytest.mark.parametrize("reply, claims, floating", [
    ("Lei said persistence pays [2].", [("Lei said persistence pays.", (2,))], []),
    ("Lei said X [1, 3].", [("Lei said X.", (1, 3))], []),
    ("Lei said X [1][3].", [("Lei said X.", (1, 3))], []),
    ("Lei said X [1-3].", [("Lei said X.", (1, 2, 3))], []),
    ("Lei said X【2】.", [("Lei said X.", (2,))], []),
    ("Lei said X [Passage 2].", [("Lei said X.", (2,))], []),
    ("Lei said X (passage 2).", [("Lei said X.", (2,))], []),
    ('Lei said X <passage number="2">.', [("Lei said X.", (2,))], []),
    ("According to passage 2, Lei said X.", [("Lei said X.", (2,))], []),
    ("Passage 3 says that Unitree grew.", [("Unitree grew.", (3,))], []),
    ("[4] Wang Xingxing runs Unitree.", [("Wang Xingxing runs Unitree.", (4,))], []),
    ("Lei said X.\nCited from [2]", [("Lei said X.", ())], [2]),
    ("Lei said X.\nSource: [2]", [("Lei said X.", ())], [2]),
    ("Lei said X.\nSources: [1], [2]", [("Lei said X.", ())], [1, 2]),
    ('Unitree\'s founder is 35. This is stated in the passage from <passage number="3">.',
     [("Unitree's founder is 35.", ())], [3]),
    ("Lei said X.\n\n[1] Lei Jun's midnight message\n[2] Xiaomi unveils Surge C1 chip", [("Lei said X.", ())], [1, 2]),
    ("Lei said X.\n[2] He also said the chip took four years.",
     [("Lei said X.", ()), ("He also said the chip took four years.", (2,))], []),
])
def test_citation_styles(reply, claims, floating):
    read = read_reply(reply, TITLES)
    assert [(c.text, c.cited) for c in read.claims] == claims
    assert read.floating == floating
    assert sum(read.styles.values()) >= 1


@pytest.mark.parametrize("sentence, refusal", [
    ("The articles don't say: this is not in the indexed articles.", True),
    ("The passages do not mention the price.", True),
    ("There is no information about the launch price.", True),
    ("I cannot find that in the articles.", True),
    ("This is not mentioned in any news article about the ferry fares.", True),
    ("The article does not specify when it opens.", True),
    ("Lei said the articles of association were changed.", False),
    ("Xiaomi does not sell phones in the US.", False),
])
def test_a_refusal_is_the_model_saying_so(sentence, refusal):
    assert read_reply(sentence).claims[0].refusal is refusal
