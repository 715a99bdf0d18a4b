"""What each agent reads and learns to write, and the answers the systems give."""

import pytest

from longthink.insight_v import prompts
from longthink.insight_v.agents import rows_for, summary_messages, summary_text
from longthink.insight_v.inference import extract_answer
from longthink.insight_v.schema import SFTStage
from longthink.insight_v.steps import FINAL, Path, step

QUESTIONS = {"a": {"id": "a", "question": "How many red circles?", "answer": "2"}}
STEPS = [step("Look at the scene", "a1 lrc a2 lrc"), step("Count", "count 3"), step("Final answer", "3", FINAL)]


def _settings(**kw):
    return SFTStage(**kw)


def test_reason_rows_hold_the_chain_without_an_answer_after_it():
    p = Path("a", 0, STEPS, answer="3", correct=False)
    (row,) = rows_for("reason", [p], QUESTIONS, lambda q: "IMG", _settings(reason_suffix=" Think."))
    assert row["images"] == ["IMG"]
    assert row["prompt"] == [{"role": "user", "content": "How many red circles? Think."}]
    assert row["completion"][0]["content"] == ("<thoughts>\nLook at the scene: a1 lrc a2 lrc\nCount: count 3\n"
                                               "Final answer: 3\n</thoughts>")
    (short,) = rows_for("reason", [p], QUESTIONS, lambda q: "IMG", _settings(keep_answer_step=False))
    assert "Final answer" not in short["completion"][0]["content"]


def test_summary_rows_target_the_ground_truth_even_for_a_flawed_chain():
    flawed = Path("a", 1, STEPS, answer="3", correct=False)
    general = [{"id": "g", "question": "Describe the scene.", "reply": "a1 lrc a2 ."}]
    rows = rows_for("summary", [flawed], QUESTIONS, lambda q: q["id"], _settings(role="summary"), general=general)
    assert len(rows) == 2
    assert rows[0]["completion"][0]["content"] == "2"  # the gold answer, not the chain's 3
    text = rows[0]["prompt"][0]["content"]
    assert text.startswith(prompts.SUMMARY_INSTRUCTION + "\n\nQUESTION: How many red circles?\n\nREASON PROCESS: "
                           "<thoughts>\n")
    assert rows[1] == {"images": ["g"], "prompt": [{"role": "user", "content": "Describe the scene."}],
                       "completion": [{"role": "assistant", "content": "a1 lrc a2 ."}]}


def test_single_rows_hold_chain_then_answer_and_optionally_the_general_rows():
    good = Path("a", 0, STEPS[:1] + [step("Count", "count 2")], answer="2", correct=True)
    general = [{"id": "g", "question": "Describe.", "reply": "x"}]
    rows = rows_for("single", [good], QUESTIONS, lambda q: None, _settings(role="single"), general=general)
    assert rows[0]["completion"][0]["content"].endswith("</thoughts>\n2") and len(rows) == 2
    rows = rows_for("single", [good], QUESTIONS, lambda q: None, _settings(role="single", general_in_single=False),
                    general=general)
    assert len(rows) == 1


def test_answer_template_writes_the_summary_and_single_targets_in_the_base_models_surface():
    """The tiny world's agents answer as its base VLM does (``<answer> 2 </answer>``); the extracted answer is the
    same; a template without ``{answer}`` is refused, naming the value."""
    p = Path("a", 0, STEPS, answer="3", correct=False)
    tagged = _settings(role="summary", answer_template="<answer> {answer} </answer>")
    (row,) = rows_for("summary", [p], QUESTIONS, lambda q: None, tagged)
    assert row["completion"][0]["content"] == "<answer> 2 </answer>"
    assert extract_answer(row["completion"][0]["content"]) == "2"
    (row,) = rows_for("single", [p], QUESTIONS, lambda q: None,
                      _settings(role="single", answer_template="<answer> {answer} </answer>"))
    assert row["completion"][0]["content"].endswith("</thoughts>\n<answer> 2 </answer>")
    boxed = {"a": {**QUESTIONS["a"], "answer": "[2, 2, 25, 25]", "answer_text": "[ 7 , 7 , 21 , 21 ]"}}
    (row,) = rows_for("summary", [p], boxed, lambda q: None, tagged)  # the world's own surface, not the gold's
    assert row["completion"][0]["content"] == "<answer> [ 7 , 7 , 21 , 21 ] </answer>"
    with pytest.raises(ValueError, match="answer_template must contain '{answer}', got 'ANSWER'"):
        _settings(role="summary", answer_template="ANSWER")


def test_rows_are_capped_and_roles_checked():
    paths = [Path("a", i, STEPS) for i in range(5)]
    assert len(rows_for("reason", paths, QUESTIONS, lambda q: None, _settings(max_rows=2))) == 2
    with pytest.raises(ValueError, match="unknown role 'critic'"):
        rows_for("critic", paths, QUESTIONS, lambda q: None, _settings())


def test_summary_prompt_is_upstreams_template():
    msg = summary_messages("Q?", "<thoughts>\nx\n</thoughts>", "Judge.")
    assert msg == [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": summary_text(
        "Q?", "<thoughts>\nx\n</thoughts>", "Judge.")}]}]
    assert summary_text("Q?", "C", "Judge.") == "Judge.\n\nQUESTION: Q?\n\nREASON PROCESS: C"


@pytest.mark.parametrize("text, answer", [("<think> a1 lrc </think><answer> blue </answer>", "blue"),
                                          ("<think> x </think><answer> 3", "3"), ("  yes ", "yes"), ("", "")])
def test_extract_answer(text, answer):
    assert extract_answer(text) == answer
