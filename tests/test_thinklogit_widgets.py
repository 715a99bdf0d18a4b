"""ThinkLogit's live controls: the alpha and warm-up sliders re-decode one question with the kit's decoder, and one
step is taken apart into T, G - B and z = T + alpha (G - B)."""

from __future__ import annotations

import pytest
import torch

from longthink.thinklogit.data import Question
from longthink.thinklogit.guided import Sampler, generate
from longthink.thinklogit.systems import Models
from longthink.thinklogit.widgets import GuidanceExplorer

CORPUS = ["Question: a = 3 + 4. What is a? Wait, check: 3 + 4 = 7. Answer: \\boxed{7}"] * 20
SAMPLER = Sampler(temperature=0.0, top_p=1.0, max_new_tokens=10, repeat_limit=0)


def _model(tok, *, hidden, layers, seed, extra_vocab=0):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(Qwen2Config(
        vocab_size=len(tok) + extra_vocab, hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
        num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=True, eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id, max_position_embeddings=256)).eval()
    with torch.no_grad():  # sharpen the random heads so greedy paths are well separated
        model.model.embed_tokens.weight.mul_(8.0)
    return model


@pytest.fixture(scope="module")
def models():
    from longthink.tokenizer import build_tokenizer

    tok = build_tokenizer(CORPUS, vocab_size=320)
    return Models(target=_model(tok, hidden=48, layers=2, seed=0, extra_vocab=8),  # a padded head
                  guider=_model(tok, hidden=32, layers=1, seed=1), base=_model(tok, hidden=32, layers=1, seed=2),
                  tokenizer=tok)


@pytest.fixture(scope="module")
def explorer(models):
    question = Question(id="q0", benchmark="world", question="What is a?", answer="7", prompt="Question: a = 3 + 4.")
    return GuidanceExplorer(models, question, sampler=SAMPLER)


def _target_alone(models, explorer):
    out, _ = generate(models.target, [explorer.prompt_ids], eos_ids=models.eos_ids, pad_id=models.tokenizer.pad_token_id,
                      sampler=explorer.sampler)
    return out[0].token_ids


def test_alpha_zero_is_the_target_alone(models, explorer):
    view = explorer.decode(alpha=0.0, warmup=0)
    ids = _target_alone(models, explorer)
    assert "".join(t for t, _ in view.tokens) == models.tokenizer.decode(ids, skip_special_tokens=False)
    assert view.n_steered == 0 and view.step is None and {m for _, m in view.tokens} == {"guided"}


def test_every_token_is_the_pick_of_z_and_steered_marks_where_z_overrules_t(explorer):
    steered = 0
    for alpha in (1.0, 2.0, 3.0):
        view = explorer.decode(alpha=alpha, warmup=0)
        for step, (text, mark) in zip(view.steps, view.tokens):
            assert explorer.models.tokenizer.decode([step.pick], skip_special_tokens=False) == text
            assert (mark == "steered") == (step.pick != step.target_pick)
        steered += view.n_steered
    assert steered > 0, "the guider never changed a pick: the test models are too alike"


def test_one_step_is_z_equals_t_plus_alpha_g_minus_b(explorer):
    step = explorer.step(alpha=2.0, warmup=0)
    assert step.steered or explorer.decode(2.0, 0).n_steered == 0
    v = step.vectors()
    common = min(len(v["T"]), len(v["G"]), len(v["B"]))
    assert len(v["T"]) == common + 8  # the target's padded columns get no delta
    expected = [t + 2.0 * (g - b) for t, g, b in zip(v["T"], v["G"], v["B"])] + v["T"][common:]
    assert torch.allclose(step.z, torch.tensor(expected), atol=1e-4)
    top = step.top()
    assert top.shape == (5, 6) and list(top.columns.get_level_values(0).unique()) == ["T", "G - B", "z"]
    rows = step.arithmetic()
    alpha_col = [c for c in rows.columns if c.startswith("alpha (G - B)")][0]
    assert ((rows["T"] + rows[alpha_col] - rows["z = T + alpha (G - B)"]).abs() < 2e-3).all()
    assert rows["token"].iloc[0] == top[("z", "token")].iloc[0]
    assert "alpha = 2" in step.sentence() and "<table" in step._repr_html_()
    assert step is explorer.step(alpha=2.0, warmup=0) and explorer.step(2.0, 0, step=0).step == 0
    with pytest.raises(IndexError, match="outside the"):
        explorer.step(2.0, 0, step=999)


def test_the_warmup_keeps_the_target_alone_for_its_first_tokens(models, explorer):
    alone = models.tokenizer.convert_ids_to_tokens(_target_alone(models, explorer))
    view = explorer.decode(alpha=3.0, warmup=3)
    assert [m for _, m in view.tokens[:3]] == ["warmup"] * 3 and "warmup" not in [m for _, m in view.tokens[3:]]
    assert [s.pick for s in view.steps[:3]] == models.tokenizer.convert_tokens_to_ids(alone[:3])
    assert view.step is None or view.step.step >= 3
    assert "{" in view.marked_text() and "warm-up 3" in view.summary()


def test_the_live_panel_redecodes_when_a_slider_moves(explorer):
    panel = explorer.show(alphas=[0.5, 2.0], warmups=[0, 4], display=False)
    alpha, warmup = panel.sliders
    assert 0.0 in alpha.options and 3.0 in alpha.options and alpha.static == (0.5, 2.0) and warmup.static == (4,)
    panel.build()
    panel._controls["alpha"].index = list(alpha.options).index(2.0)
    assert panel.current.alpha == 2.0 and panel.current is explorer.decode(2.0, 0)
    panel._controls["warmup"].index = list(warmup.options).index(4)
    assert panel.current.warmup == 4
    html = panel._output.outputs[-1]["data"]["text/html"]
    assert "warm-up 4" in html and "z = T + alpha (G - B)" in html


def test_a_warmup_past_the_output_shows_the_last_step_at_alpha_zero(explorer):
    step = explorer.step(alpha=3.0, warmup=999)
    assert step.alpha == 0 and not step.steered and "warm-up" in step.sentence()
    assert step.step == len(explorer.decode(3.0, 999).tokens) - 1


def test_the_telling_question_is_one_where_guidance_changes_the_output(models, explorer):
    from longthink.thinklogit.guided import Guidance
    from longthink.thinklogit.widgets import telling_question

    qs = [Question(id=f"q{i}", benchmark="world", question=p, answer="7", prompt=p)
          for i, p in enumerate(["What is a?", "Question: a = 3 + 4.", "Wait, check: 3 + 4 = 7."])]
    index = telling_question(models, qs, sampler=SAMPLER, guidance=Guidance(alpha=3.0, warmup=0))
    view = GuidanceExplorer(models, qs[index], sampler=SAMPLER).decode(alpha=3.0, warmup=0)
    alone = GuidanceExplorer(models, qs[index], sampler=SAMPLER).decode(alpha=0.0, warmup=0)
    assert view.tokens != alone.tokens
