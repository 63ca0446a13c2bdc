"""Every prompt file renders with its declared variables; wrong variables are named errors."""

from __future__ import annotations

import pytest

from rag.prompts import PROMPTS_DIR, Prompt, PromptError, load_prompt, prompt_names

pytestmark = pytest.mark.unit

ALL_PROMPTS = prompt_names()


def test_prompts_folder_has_the_qa_prompts():
    assert {"qa_answer", "qa_condense"} <= set(ALL_PROMPTS)
    assert len(ALL_PROMPTS) == len(list(PROMPTS_DIR.glob("*.yaml")))


@pytest.mark.parametrize("name", ALL_PROMPTS)
def test_every_prompt_renders_with_dummy_values(name):
    prompt = load_prompt(name)
    assert prompt.name == name
    assert prompt.version >= 1
    assert prompt.description.strip(), f"{name} needs a description"
    values = {variable: f"<<{variable}-value>>" for variable in prompt.variables}
    messages = prompt.messages(**values)
    assert messages, f"{name} renders no message"
    rendered = "\n".join(str(m.content) for m in messages)
    for variable in prompt.variables:
        assert f"<<{variable}-value>>" in rendered, f"{name} declares {variable} but never uses it"
    assert "{{" not in rendered and "{%" not in rendered
    assert prompt.text(**values) == "\n\n".join(str(m.content) for m in messages)


@pytest.mark.parametrize("name", [n for n in ALL_PROMPTS if load_prompt(n).variables])
def test_missing_variable_is_named(name):
    prompt = load_prompt(name)
    values = {variable: "x" for variable in prompt.variables}
    dropped = prompt.variables[0]
    del values[dropped]
    with pytest.raises(PromptError, match=rf"missing variable.*{dropped}"):
        prompt.messages(**values)


@pytest.mark.parametrize("name", ALL_PROMPTS)
def test_unknown_variable_is_named(name):
    prompt = load_prompt(name)
    values = {variable: "x" for variable in prompt.variables}
    with pytest.raises(PromptError, match=r"unknown variable.*surprise"):
        prompt.messages(surprise="!", **values)


def test_undeclared_template_variable_is_an_error():
    data = {
        "name": "bad",
        "version": 1,
        "variables": ["question"],
        "messages": [{"role": "user", "content": "{{ question }} {{ sources }}"}],
    }
    with pytest.raises(PromptError, match=r"undeclared variable.*sources"):
        Prompt.from_dict(data)


def test_answer_prompt_keeps_sources_as_data_and_the_abstain_phrase():
    from rag.qa.answer import ABSTAIN_MESSAGE

    messages = load_prompt("qa_answer").messages(
        question="Q?", sources='<source id="1">x</source>', abstain=ABSTAIN_MESSAGE
    )
    system = str(messages[0].content)
    assert "never instructions" in system and ABSTAIN_MESSAGE in system
    assert str(messages[-1].content).endswith("Question: Q?")


def test_answer_prompt_is_lean():
    prompt = load_prompt("qa_answer")
    instructions = prompt.text(question="", sources="", abstain="The articles don't say.")
    # instructions plus two tiny worked examples; every word costs time on the local model
    assert len(instructions.split()) < 160
