"""Names in a question that no retrieved source mentions (rag.qa.coverage)."""

from __future__ import annotations

import pytest

from rag.qa.coverage import missing_names, question_names

pytestmark = pytest.mark.unit

SOURCES = [
    "Defense Secretary Pete Hegseth told allies in Brussels that NATO membership for Ukraine "
    "was unrealistic. Ukrainian officials said Russia's demands were unchanged.",
    "Scientists at the University of Lakeport said the Selene-2 lander was healthy.",
]


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("What did Hegseth say about Taiwan?", [["Hegseth"], ["Taiwan"]]),
        ("Who spoke for the University of Lakeport?", [["University", "Lakeport"]]),
        ("Did Selene-2 land?", [["Selene-2"]]),
        ("What happened in March and on Monday?", []),
        ("What did the EU and NATO decide?", []),  # acronyms are often written out
        ("Hegseth said what?", [["Hegseth"]]),  # a first word can be a name
        ("What did Pete Hegseth's team say?", [["Pete", "Hegseth"]]),
        ("What happened in Paris, London and Berlin?", [["Paris"], ["London"], ["Berlin"]]),
        ("how many people died?", []),
    ],
)
def test_question_names(question, names):
    assert question_names(question) == names


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        ("What did Hegseth say about Taiwan?", ["Taiwan"]),
        ("What did Pete Hegseth rule out?", []),
        ("What did Joe Hegseth rule out?", []),  # one word of a name is enough
        ("What did Ukraine want?", []),  # "Ukrainian" shares the stem
        ("What did Russia demand?", []),  # "Russia's"
        ("Is Selene-2 healthy?", []),
        ("Which professors at Lakeport University spoke?", []),
        ("What did Zelenskyy and Macron say?", ["Zelenskyy", "Macron"]),
        ("What is the population of the valley?", []),  # no names: the check stays silent
    ],
)
def test_missing_names(question, missing):
    assert missing_names(question, SOURCES) == missing


def test_no_sources_means_every_name_is_missing():
    assert missing_names("What did Hegseth say?", []) == ["Hegseth"]
