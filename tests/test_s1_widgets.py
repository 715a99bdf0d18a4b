"""s1's live controls: the budget and Wait sliders re-decode one question, and the forced tokens are marked."""

from __future__ import annotations

import pytest
import torch

from longthink.s1.budget_forcing import ForcingSettings, HFBackend
from longthink.s1.widgets import TraceExplorer

QUESTION = "Mix 3: a+4,b*3."


@pytest.fixture(scope="module")
def tok():
    from longthink.tokenizer import build_tokenizer

    corpus = [QUESTION + "\n<|im_start|>think\nxxx\nWait\nxxx\n<|im_start|>answer\nAnswer: 7 Final Answer:"] * 10
    return build_tokenizer(corpus, vocab_size=300)


class Scripted(torch.nn.Module):
    """A real tiny Qwen2 (so the KV cache is real) whose logits follow a script over the text so far: think ``x``
    four times after the start or after each Wait, then try to end thinking; in the answer, write ``7`` (``3`` when
    the thinking was cut before four ``x``) and stop."""

    def __init__(self, tok):
        super().__init__()
        from transformers import Qwen2Config, Qwen2ForCausalLM

        torch.manual_seed(0)
        self.inner = Qwen2ForCausalLM(Qwen2Config(
            vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
            num_key_value_heads=1, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)).eval()
        self.config, self.tok, self.history = self.inner.config, tok, None
        self.x, self.seven, self.three = (tok.encode(t, add_special_tokens=False)[0] for t in ("x", "7", "3"))

    def forward(self, input_ids, past_key_values=None, **kw):
        out = self.inner(input_ids=input_ids, past_key_values=past_key_values, **kw)
        fresh = past_key_values.get_seq_length() == input_ids.shape[1]
        self.history = input_ids if fresh else torch.cat([self.history, input_ids], 1)
        logits = torch.full_like(out.logits[:, -1:, :], -1e4)
        for r in range(input_ids.shape[0]):
            text = self.tok.decode(self.history[r], skip_special_tokens=False).rsplit("think", 1)[-1]
            if "answer" in text:
                done = text.rstrip().endswith(("7", "3"))
                nxt = self.tok.eos_token_id if done else self.seven if text.count("x") >= 4 else self.three
            else:
                nxt = self.x if text.rsplit("Wait", 1)[-1].count("x") < 4 else self.tok.convert_tokens_to_ids(
                    "<|im_start|>")
            logits[r, 0, nxt] = 0
        out.logits = logits
        return out


@pytest.fixture(scope="module")
def explorer(tok):
    settings = ForcingSettings(max_new_tokens=64, max_answer_tokens=4)
    return TraceExplorer(HFBackend(Scripted(tok), tok, batch_size=1), QUESTION, "7", settings)


def test_the_wait_slider_forces_that_many_waits_and_marks_them(explorer):
    for k in (0, 1, 3):
        view = explorer.decode(budget=None, waits=k)
        assert view.output.waits == k and [s for _, s in view.forced].count("wait") == k
        assert [t for t, s in view.forced if s == "wait"] == ["Wait"] * k
        assert view.output.thinking == "xxxx" + "Waitxxxx" * k
        assert view.output.ended_by == "delimiter" and view.correct and view.answer.strip() == "7"
        assert view.marked_text().count("⟦Wait⟧") == k
        assert "".join(t for t, _ in view.output.pieces) == view.output.thinking + view.output.answer
        assert view._repr_html_().count("background:#ffd54f;font-weight:bold") == k


def test_the_budget_slider_cuts_the_thinking_and_marks_the_forced_answer(explorer):
    view = explorer.decode(budget=6, waits=1)
    assert view.output.thinking_tokens <= 6 and view.output.ended_by == "budget"
    budget_pieces = [t for t, s in view.forced if s == "budget"]
    assert budget_pieces and budget_pieces[0].lstrip("\n").startswith("<|im_start|>answer")
    assert "Final Answer:" in budget_pieces[0]
    assert "budget 6, Wait x1" in view.summary() and "ended by budget" in view.summary()
    free = explorer.decode(budget=None, waits=0)
    assert [s for _, s in free.forced] == ["end"]  # the model ended itself: only the answer header is forced


def test_decoding_is_kept_per_setting_and_checks_its_arguments(explorer):
    assert explorer.decode(budget=6, waits=1) is explorer.decode(budget=6, waits=1)
    with pytest.raises(ValueError, match="budget must be >= 0"):
        explorer.decode(budget=-1)
    with pytest.raises(ValueError, match="Waits must be >= 0"):
        explorer.decode(waits=-2)


def test_the_live_panel_redecodes_when_a_slider_moves(explorer):
    sliders = explorer.sliders(budgets=[6, 12], max_waits=3)
    budget, waits = sliders
    assert budget.options[-1] == ("auto", None) and 6 in budget.options and explorer.max_budget > 12
    assert budget.static == (6, 12) and waits.options == (0, 1, 2, 3) and waits.static == (3,)
    panel = explorer.show(budgets=[6, 12], max_waits=3, display=False)
    panel.build()
    assert panel.current.budget is None  # starts at "auto"
    panel._controls["waits"].index = 2  # what dragging the slider does
    assert panel.current.output.waits == 2
    panel._controls["budget"].index = list(budget.options).index(6)
    assert panel.current.output.ended_by == "budget" and panel.current.waits == 2
    assert "⟦" in panel._output.outputs[-1]["data"]["text/plain"]


def test_the_telling_question_is_right_with_room_and_wrong_when_cut(explorer, tok):
    from longthink.s1.widgets import telling_question

    # the scripted model answers 7 after four x, 3 when cut before: gold 7 tells "room" from "cut at 2 tokens"
    questions, golds = ["Mix 1: a+1.", QUESTION, "Mix 2: a+2."], ["3", "7", "7"]
    index = telling_question(explorer.backend, questions, golds, explorer.settings, small_budget=2)
    assert index == 1
    assert telling_question(explorer.backend, questions, ["1", "1", "1"], explorer.settings, small_budget=2) == 0
