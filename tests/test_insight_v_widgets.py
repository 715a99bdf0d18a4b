"""Insight-V's live controls: the step slider cuts a chain, the summary agent answers the cut chain, the steps are
marked against the faithful chain, and the live sliders re-run the agent."""

from __future__ import annotations

import pytest

from insight_v_helpers import image, tiny_processor, tiny_qwen2vl, tiny_tokenizer

from longthink.insight_v.judge import MatchJudge
from longthink.insight_v.steps import format_chain, step, steps_of_chain
from longthink.insight_v.widgets import ChainCase, ChainExplorer, pick_cases, step_marks

QUESTION = {"id": "q1", "question": "How many red circles are there?", "answer": "2", "kind": "count_cond"}
FAITHFUL = [step("Look", "a1 red circle . a2 red circle"), step("Count", "count 2")]
GOOD = format_chain(FAITHFUL)
FLAWED = format_chain([step("Look", "a1 red circle . a2 blue circle"), step("Count", "count 1")])


def last_word(question: dict, chain: str) -> str:
    """A scripted summary agent that copies the chain's last word (and says 0 to an empty chain)."""
    steps = steps_of_chain(chain)
    return steps[-1]["content"].split()[-1] if steps else "0"


@pytest.fixture
def explorer():
    calls = []

    def answer(question, chain):
        calls.append(chain)
        return last_word(question, chain)

    cases = [ChainCase("good", QUESTION, GOOD, "agent"),
             ChainCase("flawed", QUESTION, FLAWED, "flawed chain: misread", chain_answer="1")]
    ex = ChainExplorer(cases, answer, MatchJudge(), gold_of=lambda q: FAITHFUL)
    ex.calls = calls
    return ex


def test_the_step_slider_cuts_the_chain_the_agent_reads(explorer):
    whole = explorer.view(case=0, steps=None)
    assert whole.whole and whole.shown == 2 and whole.answer == "2" and whole.correct
    assert explorer.calls[-1] == GOOD
    one = explorer.view(case=0, steps=1)
    assert explorer.calls[-1] == format_chain(FAITHFUL[:1]) and one.answer == "circle" and not one.correct
    none = explorer.view(case=0, steps=0)
    assert none.shown == 0 and explorer.calls[-1] == format_chain([]) and none.answer == "0"
    assert "1 of 2 steps" in one.summary() and "(not shown to the agent)" in one._repr_html_()
    assert explorer.view(case=0, steps=9).whole  # beyond the chain: the whole chain


def test_steps_are_marked_against_the_faithful_chain(explorer):
    assert explorer.view(case=0).marks == ["agrees", "agrees"]
    flawed = explorer.view(case=1)
    assert flawed.marks == ["departs", "after"]
    assert flawed.copies_chain is True and "copied it" in flawed.summary() and not flawed.correct
    assert "[departs] Look: a1 red circle . a2 blue circle" in str(flawed)
    assert step_marks(FAITHFUL, None) == ["unchecked", "unchecked"]
    assert step_marks([*FAITHFUL, step("Extra", "x")], FAITHFUL) == ["agrees", "agrees", "departs"]


def test_answers_are_kept_per_setting_and_arguments_checked(explorer):
    explorer.view(case=1, steps=1)
    n = len(explorer.calls)
    assert explorer.view(case=1, steps=1) is explorer.view(case=1, steps=1) and len(explorer.calls) == n
    with pytest.raises(IndexError, match="chain 5 is not one of the 2 chains"):
        explorer.view(case=5)
    with pytest.raises(ValueError, match="steps shown must be >= 0"):
        explorer.view(steps=-1)
    with pytest.raises(ValueError, match="at least one chain"):
        ChainExplorer([], last_word, MatchJudge())


def test_the_live_panel_reruns_the_agent_when_a_slider_moves(explorer):
    case, steps = explorer.sliders()
    assert case.options == (("good", 0), ("flawed", 1)) and case.static == (1,)
    assert steps.options[-1] == ("all", None) and steps.static == (0, 1)
    panel = explorer.show(display=False)
    panel.build()
    assert panel.current.whole and panel.current.case.label == "good"
    panel._controls["steps"].index = 1  # what dragging the slider does
    assert panel.current.shown == 1 and "1 of 2 steps" in panel._output.outputs[-1]["data"]["text/plain"]
    panel._controls["case"].index = 1
    assert panel.current.case.label == "flawed" and panel.current.shown == 1
    settings = panel.static_settings()
    assert settings[0] == {"case": 0, "steps": None} and {"case": 1, "steps": None} in settings


def test_pick_cases_takes_a_right_and_a_wrong_agent_chain_then_a_wrong_flawed_one():
    from longthink.insight_v.inference import Answer

    questions = {f"q{i}": dict(QUESTION, id=f"q{i}") for i in range(4)}
    questions["q3"]["kind"] = "colour_of"
    answers = [Answer("q0", "two_agents", "1", "1", chain=FLAWED, correct=False),
               Answer("q1", "base", "2", "2", correct=True),
               Answer("q3", "two_agents", "2", "2", chain=GOOD, correct=True),  # not a reasoning kind
               Answer("q2", "two_agents", "2", "2", chain=GOOD, correct=True)]
    flawed = [{"question_id": "q1", "chain": GOOD, "chain_answer": "2", "chain_correct": True, "error": "none"},
              {"question_id": "q2", "chain": FLAWED, "chain_answer": "1", "chain_correct": False, "error": "misread"}]
    cases = pick_cases(answers, questions, flawed, kinds=["count_cond"], n_agent=2, n_flawed=1)
    assert [c.question["id"] for c in cases] == ["q2", "q0", "q2"]
    assert cases[-1].chain_answer == "1" and "misread" in cases[-1].label


def test_a_real_tiny_summary_agent_drives_the_explorer():
    """The explorer with the kit's own ``summarise`` on a tiny Qwen2-VL built here (untrained: its answers are
    noise, but every step count reaches the model and comes back judged)."""
    from longthink.insight_v.inference import summarise
    from longthink.insight_v.vlm import Sampling

    tok = tiny_tokenizer()
    model, processor = tiny_qwen2vl(tok), tiny_processor(tok)
    processor.tokenizer.padding_side = "left"

    def answer(question, chain):
        return summarise(model, processor, [question], [chain], lambda q: image(0), instruction="Check the reasoning",
                         sampling=Sampling(max_new_tokens=6), batch_size=1, seed=0)[0]

    ex = ChainExplorer([ChainCase("good", QUESTION, GOOD, "agent")], answer, MatchJudge(), gold_of=lambda q: FAITHFUL)
    views = [ex.view(steps=k) for k in (0, 1, None)]
    assert [v.shown for v in views] == [0, 1, 2]
    assert all(isinstance(v.output, str) and isinstance(v.correct, bool) for v in views)
    assert views[-1].marks == ["agrees", "agrees"] and "<ol" in views[-1]._repr_html_()
