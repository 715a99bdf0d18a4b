"""Batched generation: left padding, greedy = one-by-one, token counts, stop tokens, sampling seeds."""

from __future__ import annotations

import pytest

from longthink.generation import generate, render_prompts


@pytest.fixture(scope="module")
def model_and_tok(tiny_model_dir):
    from longthink.models import load_causal_lm

    return load_causal_lm(str(tiny_model_dir))


def test_render_prompts_uses_chat_template(tiny_tokenizer):
    (text,) = render_prompts(tiny_tokenizer, ["Mix 3:a+4."], prefill="<|im_start|>think\n")
    assert text == "<|im_start|>user\nMix 3:a+4.<|im_end|>\n<|im_start|>assistant\n<|im_start|>think\n"
    assert render_prompts(tiny_tokenizer, ["raw text"], raw=True) == ["raw text"]


def test_batched_greedy_equals_single(model_and_tok):
    model, tok = model_and_tok
    prompts = ["a = 3 + 4", "What is a? a much longer question than the first one", "x"]
    batched = generate(model, tok, prompts, max_new_tokens=6, batch_size=3)
    single = [generate(model, tok, [p], max_new_tokens=6).texts[0] for p in prompts]
    assert batched.texts == single
    assert all(1 <= n <= 6 for n in batched.num_tokens)
    assert tok.padding_side == "left"


def test_stop_tokens_cut_and_count(model_and_tok):
    model, tok = model_and_tok
    full = generate(model, tok, ["a = 3"], max_new_tokens=8, stop_token_ids=[-1])
    ids = tok(full.texts[0], add_special_tokens=False)["input_ids"]
    assert full.num_tokens[0] == 8 and not full.stopped[0]
    stop = ids[2] if len(ids) > 2 else ids[0]
    cut = generate(model, tok, ["a = 3"], max_new_tokens=8, stop_token_ids=[stop])
    assert cut.stopped[0] and cut.num_tokens[0] <= 3


def test_sampling_is_seeded(model_and_tok):
    model, tok = model_and_tok
    a = generate(model, tok, ["a"] * 4, max_new_tokens=5, do_sample=True, seed=1)
    b = generate(model, tok, ["a"] * 4, max_new_tokens=5, do_sample=True, seed=1)
    assert a.texts == b.texts


@pytest.mark.parametrize("kwargs, message", [({"max_new_tokens": 0}, "max_new_tokens"),
                                             ({"batch_size": 0}, "batch_size"),
                                             ({"do_sample": True, "temperature": 0}, "temperature")])
def test_bad_arguments(model_and_tok, kwargs, message):
    model, tok = model_and_tok
    with pytest.raises(ValueError, match=message):
        generate(model, tok, ["a"], **kwargs)


def test_sample_token_greedy_seeded_and_top_p():
    import torch

    from longthink.generation import sample_token

    logits = torch.tensor([[0.0, 3.0, 1.0, 2.5], [5.0, 0.0, 0.0, 0.0]])
    assert sample_token(logits, temperature=0).tolist() == [1, 0]
    draws = [sample_token(logits, temperature=1.0, generator=torch.Generator().manual_seed(3)).tolist() for _ in range(2)]
    assert draws[0] == draws[1]
    # a top-p this small keeps only the most likely token, whatever the temperature
    assert sample_token(logits, temperature=5.0, top_p=0.01, generator=torch.Generator().manual_seed(0)).tolist() == [1, 0]
