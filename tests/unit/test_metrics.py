"""Every eval metric on small, hand-checked examples."""

from __future__ import annotations

import pytest

from rag.evaluation import metrics
from rag.text import split_sentences

pytestmark = pytest.mark.unit


# --- SQuAD normalization, exact match, F1 -----------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The NATO membership!", "nato membership"),
        ("  An   apple, a pear.  ", "apple pear"),
        ("Kofi Mensah [1][2].", "kofi mensah"),
        ("Theater", "theater"),  # "the" inside a word stays
        ("“Quoted” — dash…", "quoted dash"),
    ],
)
def test_normalize_answer(text: str, expected: str) -> None:
    assert metrics.normalize_answer(text) == expected


def test_exact_match_ignores_case_punctuation_articles_and_citations() -> None:
    assert metrics.exact_match("The Tern [3].", ["Tern"]) == 1.0
    assert metrics.exact_match("tern rover", ["Tern"]) == 0.0
    assert metrics.exact_match("Tern", ["Heron", "tern"]) == 1.0
    assert metrics.exact_match("anything", []) == 0.0


def test_f1_hand_computed() -> None:
    # prediction tokens: kofi mensah scored winner (4); gold: kofi mensah (2); overlap 2
    # precision 2/4, recall 2/2 -> F1 = 2 * 0.5 * 1 / 1.5 = 0.6667
    assert metrics.f1_score("Kofi Mensah scored the winner", ["Kofi Mensah"]) == pytest.approx(
        2 / 3
    )
    # best over several gold answers
    assert metrics.f1_score("Mensah", ["Kofi Mensah", "Mensah"]) == 1.0
    assert metrics.f1_score("Brandt", ["Kofi Mensah"]) == 0.0
    # repeated tokens count once per occurrence in both (SQuAD Counter semantics)
    # pred: no no troops (3), gold: no troops (2): overlap no x1 + troops = 2 -> P 2/3, R 1
    assert metrics.f1_score("no no troops", ["no troops"]) == pytest.approx(0.8)
    assert metrics.f1_score("", ["x"]) == 0.0


def test_contains_answer_is_word_bounded() -> None:
    assert metrics.contains_answer("It was Kofi Mensah, in extra time.", ["Kofi Mensah"]) == 1.0
    assert metrics.contains_answer("Mensahs", ["Mensah"]) == 0.0
    assert metrics.contains_answer("anything", []) == 0.0


# --- keywords ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3.75%", "3.75 percent"),
        ("3,400 residents", "3400 residents"),
        ("1,870,000", "1870000"),
        ("3.50 and 4.0", "3.5 and 4"),
        ("Engström", "engstrom"),
        ("3-2 after 3–2", "3 2 after 3 2"),
        ("end. Next", "end next"),
        ("U.S. troops", "u s troops"),
        ("rate [2] fell", "rate fell"),
    ],
)
def test_normalize_keywords(text: str, expected: str) -> None:
    assert metrics.normalize_keywords(text) == expected


def test_keyword_recall_with_alternatives() -> None:
    answer = "He ruled out NATO membership and said no US troops would go [1]."
    assert metrics.keyword_recall(answer, ["NATO", ["2014", "borders"]]) == 0.5
    assert metrics.keyword_recall(answer, ["troops", ["no", "not"]]) == 1.0
    assert metrics.keyword_recall(answer, []) is None
    # numbers match across formatting
    assert metrics.keyword_recall("about 3,400 people", ["3400"]) == 1.0
    assert metrics.keyword_recall("cut to 3.50%", ["3.5"]) == 1.0
    # whole words only: "no" is not found inside "not" or "nothing"
    assert metrics.keyword_recall("nothing was decided", ["no"]) == 0.0


# --- retrieval -----------------------------------------------------------------------------
def test_hit_at_k() -> None:
    retrieved = ["x", "y", "gold", "z"]
    assert metrics.hit_at_k(retrieved, ["gold"], k=3) == 1.0
    assert metrics.hit_at_k(retrieved, ["gold"], k=2) == 0.0
    assert metrics.hit_at_k(retrieved, [["nope", "z"]], k=4) == 1.0
    assert metrics.hit_at_k([], ["gold"], k=5) == 0.0


def test_recall_at_k_counts_each_required_article() -> None:
    retrieved = ["a", "a", "x", "c"]
    assert metrics.recall_at_k(retrieved, ["a", ["b", "c"]], k=4) == 1.0
    assert metrics.recall_at_k(retrieved, ["a", ["b", "c"]], k=3) == 0.5
    assert metrics.recall_at_k(retrieved, [], k=3) is None


def test_reciprocal_rank() -> None:
    assert metrics.reciprocal_rank(["g", "x"], ["g"]) == 1.0
    assert metrics.reciprocal_rank(["x", "y", "z", "g"], ["g"]) == 0.25
    assert metrics.reciprocal_rank(["x", "y"], ["g"]) == 0.0
    # MRR over three queries: ranks 1, 2, none -> (1 + 0.5 + 0) / 3
    rr = [metrics.reciprocal_rank(r, ["g"]) for r in (["g"], ["x", "g"], ["x"])]
    assert metrics.mean(rr) == pytest.approx(0.5)


# --- abstention and citations ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("abstained", "answerable", "expected"),
    [(True, False, 1.0), (False, True, 1.0), (True, True, 0.0), (False, False, 0.0)],
)
def test_abstention_correct(abstained: bool, answerable: bool, expected: float) -> None:
    assert metrics.abstention_correct(abstained, answerable) == expected


@pytest.mark.parametrize(
    ("abstained", "answerable", "expected"),
    [(True, False, (1.0, None)), (False, False, (0.0, None)), (True, True, (None, 1.0))],
)
def test_refusals_split_abstention_into_two_rates(
    abstained: bool, answerable: bool, expected: tuple[float | None, float | None]
) -> None:
    assert metrics.refusals(abstained, answerable) == expected
    assert metrics.refusals(False, True) == (None, 0.0)


def test_random_retrieval_floor_hand_computed() -> None:
    counts = {"gold": 2, "other": 8}  # 10 chunks, 2 of them gold
    scores = metrics.random_retrieval_scores(counts, ["gold"], k=3)
    # P(miss) = 8/10 * 7/9 * 6/8 = 336/720 -> hit = 384/720
    assert scores["hit_at_k"] == pytest.approx(384 / 720)
    # first gold at rank 1: 2/10; rank 2: 8/10 * 2/9; rank 3: 8/10 * 7/9 * 2/8
    expected_mrr = 2 / 10 + (8 / 10 * 2 / 9) / 2 + (8 / 10 * 7 / 9 * 2 / 8) / 3
    assert scores["mrr"] == pytest.approx(expected_mrr)
    assert scores["recall_at_k"] == pytest.approx(384 / 720)
    # two required articles: recall averages each one's hit probability
    both = metrics.random_retrieval_scores({"a": 1, "b": 1, "c": 2}, ["a", "b"], k=1)
    assert both["recall_at_k"] == 0.25 and both["hit_at_k"] == 0.5
    # alternatives pool their chunks; k at least the collection size always hits
    assert metrics.random_retrieval_scores(counts, [["gold", "other"]], k=1)["hit_at_k"] == 1.0
    assert metrics.random_retrieval_scores(counts, ["gold"], k=50)["hit_at_k"] == 1.0
    assert metrics.random_retrieval_scores(counts, [], k=3)["hit_at_k"] is None
    assert metrics.random_retrieval_scores({}, ["gold"], k=3)["mrr"] is None


def test_citation_validity() -> None:
    evidence = ["Hegseth ruled out NATO membership for Ukraine as part of any settlement."]
    good = ("munich", "Also on February 12, Hegseth ruled out NATO membership for Ukraine as part")
    wrong_article = ("floods", "Hegseth ruled out NATO membership for Ukraine as part of any")
    unrelated_chunk = ("munich", "Vance gave a speech about free speech in Europe.")
    answer_in_chunk = ("munich", "He said: no American troops will be deployed to Ukraine.")
    gold = ["munich"]
    assert metrics.citation_validity([good], gold, evidence) == 1.0
    assert metrics.citation_validity([wrong_article], gold, evidence) == 0.0
    assert metrics.citation_validity([unrelated_chunk], gold, evidence) == 0.0
    assert metrics.citation_validity([good, unrelated_chunk], gold, evidence) == 0.5
    assert (
        metrics.citation_validity(
            [answer_in_chunk], gold, [], ["no American troops will be deployed"]
        )
        == 1.0
    )
    assert metrics.citation_validity([], gold, evidence) == 0.0


def test_evidence_recall_tolerates_cut_sentences() -> None:
    chunk = "ruled out NATO membership for Ukraine"
    sentence = "Hegseth ruled out NATO membership for Ukraine"
    assert metrics.evidence_recall(chunk, sentence) == pytest.approx(6 / 7)


# --- summaries ---------------------------------------------------------------------------------
FACTS = [
    {"fact": "cut to 3.75%", "keywords": ["3.75"]},
    {"fact": "6-3 vote", "keywords": [["6 3", "six to three"]]},
    {"fact": "governor named", "keywords": ["Elena", "Marsh"]},
]


def test_key_fact_coverage() -> None:
    coverage, covered = metrics.key_fact_coverage(
        "The bank cut its rate to 3.75% in a six to three vote, Marsh said.", FACTS
    )
    assert covered == [True, True, False]  # "Elena" missing: every keyword is required
    assert coverage == pytest.approx(2 / 3)
    assert metrics.key_fact_coverage("anything", []) == (None, [])


def test_forbidden_violations_keywords_and_patterns() -> None:
    forbidden = [
        {"claim": "wrong rate", "keywords": ["3.5 percent"]},
        {"claim": "US troops sent", "pattern": r"(?<!no )\bus troops (will|would) be deployed"},
    ]
    assert metrics.forbidden_violations("It cut to 3.50%.", forbidden) == ["wrong rate"]
    assert metrics.forbidden_violations("US troops will be deployed.", forbidden) == [
        "US troops sent"
    ]
    assert metrics.forbidden_violations("He said no US troops would be deployed.", forbidden) == []


ARTICLE = (
    "WESTFIELD — Ana Ruiz won the mayoral race with 54.2% of the vote, beating Tom Hale. "
    'Turnout was 61 percent, three points up. "We did this together," Ruiz told supporters '
    "at the Grand Hall.\n\nThe Ukrainian community backed her."
)


@pytest.mark.parametrize(
    "summary",
    [
        "Ana Ruiz won with 54.2% of the vote against Tom Hale.",
        'Ruiz said: "we did this together" at the Grand Hall [1].',
        "Turnout rose 3 points to 61%.",  # "three" in the article counts as 3
        "- Ruiz beat Hale.\n- Turnout was 61 percent.",  # bullets open their own lines
        "Westfield elected Ruiz; the Ukrainian community backed her.",
        "Hale's defeat was clear.",  # a possessive is the name
    ],
)
def test_unsupported_claims_accepts_what_the_article_says(summary: str) -> None:
    assert metrics.unsupported_claims(summary, ARTICLE) == []


@pytest.mark.parametrize(
    ("summary", "problems"),
    [
        ("Ruiz won with 55% of the vote.", ["number: 55"]),
        ('Ruiz said "we won this together".', ["quote: we won this together"]),
        ("Ruiz beat Tom Baker.", ["name: Baker"]),
        ("Ruiz thanked Ukraine's community.", ["name: Ukraine"]),  # no inflection allowance
        ("", ["empty summary"]),
        ("  [1] ", ["empty summary"]),
    ],
)
def test_unsupported_claims_flags_numbers_quotes_names_and_empty_text(
    summary: str, problems: list[str]
) -> None:
    assert metrics.unsupported_claims(summary, ARTICLE) == problems


def test_unsupported_claims_is_independent_of_the_summarizer_check() -> None:
    """The summarizer's check allows inflections; the grading check does not."""
    from rag.summaries.faithfulness import check_faithfulness

    summary = "Ruiz thanked the Ukraine community."
    assert check_faithfulness(summary, ARTICLE).ok
    assert metrics.unsupported_claims(summary, ARTICLE) == ["name: Ukraine"]


def test_lead_words_cuts_the_lead_at_a_summary_length() -> None:
    text = "## Heading\n\nOne two three. Four five six.\n\nSeven eight."
    assert metrics.lead_words(text, 5) == "One two three. Four five"
    assert metrics.lead_words(text, 0) == ""
    assert metrics.lead_words(text, 100) == "One two three. Four five six. Seven eight."


def test_rouge_wiring_matches_hand_computed_unigram_f() -> None:
    scores = metrics.rouge_scores("the bank cut rates [1]", "the bank raised rates today")
    # unigrams: pred {the, bank, cut, rate} (stemmed), ref {the, bank, rais, rate, today}
    # overlap 3 -> P 3/4, R 3/5 -> F = 2*0.75*0.6/1.35 = 0.6667
    assert scores["rouge1"] == pytest.approx(2 / 3)
    # bigrams: pred (the bank)(bank cut)(cut rate), ref (the bank)(bank rais)(rais rate)(rate
    # today): overlap 1 -> P 1/3, R 1/4 -> F = 2/7
    assert scores["rouge2"] == pytest.approx(2 / 7)
    assert set(scores) == {"rouge1", "rouge2", "rougeL"}
    assert metrics.rouge_scores("same words", "same words")["rougeL"] == 1.0


def test_split_sentences_and_lead3() -> None:
    text = (
        'KESSLER FALLS — Rain fell. Dr. Brandt said it was rare. "It moved fast," '
        "she said. Later, crews left.\n\n## Damage\n\nCosts rose."
    )
    sentences = split_sentences(text)
    assert sentences[:3] == [
        "KESSLER FALLS — Rain fell.",
        "Dr. Brandt said it was rare.",
        '"It moved fast," she said.',
    ]
    assert metrics.lead_n(text, 3) == " ".join(sentences[:3])
    assert "## Damage" not in metrics.lead_n(text, 10)


# --- aggregates ---------------------------------------------------------------------------------
def test_percentiles_match_numpy_linear() -> None:
    values = [0.5, 2.0, 1.0, 4.0, 3.0]
    assert metrics.percentile(values, 50) == 2.0
    assert metrics.percentile(values, 95) == pytest.approx(3.8)
    assert metrics.percentile([7.0], 95) == 7.0
    assert metrics.percentile([], 50) is None
    assert metrics.percentile([1.0, None, 3.0], 50) == 2.0
    with pytest.raises(ValueError):
        metrics.percentile([1.0], 101)


def test_mean_skips_missing() -> None:
    assert metrics.mean([1.0, None, 0.0]) == 0.5
    assert metrics.mean([None]) is None
