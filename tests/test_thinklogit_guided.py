"""Guided decoding (ThinkLogit's logit arithmetic) on tiny random Qwen2 models built here with the world tokenizer."""

from __future__ import annotations

import warnings

import pytest
import torch

from longthink.generation import top_p_filter

from longthink.thinklogit.guided import (
    Guidance,
    Sampler,
    VocabularyMismatch,
    check_shared_tokenizer,
    combine_logits,
    generate,
    generate_all,
)

CORPUS = ["Question: a = 3 + 4. What is a? Wait, check: 3 + 4 = 7. Answer: \\boxed{7}"] * 20
GREEDY = Sampler(temperature=0.0, top_p=1.0, max_new_tokens=12, repeat_limit=0)


@pytest.fixture(scope="module")
def tok():
    from longthink.tokenizer import build_tokenizer

    return build_tokenizer(CORPUS, vocab_size=320)


def _model(tok, *, hidden, layers, seed, extra_vocab=0):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(tok) + extra_vocab, hidden_size=hidden, intermediate_size=2 * hidden,
        num_hidden_layers=layers, num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=True,
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, max_position_embeddings=256,
    )
    model = Qwen2ForCausalLM(config).eval()
    with torch.no_grad():  # random heads are nearly flat; sharpen them so greedy paths are well separated
        model.lm_head.weight.mul_(8.0) if not config.tie_word_embeddings else model.model.embed_tokens.weight.mul_(8.0)
    return model


@pytest.fixture(scope="module")
def models(tok):
    return {
        "target": _model(tok, hidden=64, layers=2, seed=0, extra_vocab=16),  # padded head, like Qwen2.5-32B
        "guider": _model(tok, hidden=32, layers=1, seed=1),
        "base": _model(tok, hidden=32, layers=1, seed=2),
    }


@pytest.fixture(scope="module")
def prompts(tok):
    texts = ["Question: a = 3 + 4.", "What is a?", "Wait, check: 3 + 4 = 7. Answer:"]
    return [tok(t)["input_ids"] for t in texts]


def _kw(tok):
    return {"eos_ids": [tok.eos_token_id, tok.pad_token_id], "pad_id": tok.pad_token_id}


def _ids(outputs):
    return [o.token_ids for o in outputs]


def test_target_alone_matches_hf_generate_per_prompt(tok, models, prompts):
    target = models["target"]
    ours, _ = generate(target, prompts, sampler=GREEDY, **_kw(tok))
    for prompt, out in zip(prompts, ours):
        ref = target.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                              max_new_tokens=GREEDY.max_new_tokens, do_sample=False,
                              eos_token_id=[tok.eos_token_id, tok.pad_token_id], pad_token_id=tok.pad_token_id)
        ref = ref[0, len(prompt):].tolist()
        assert out.token_ids == ref[: len(out.token_ids)]


@pytest.mark.parametrize("guided", [False, True])
def test_left_padded_batch_equals_one_prompt_at_a_time(tok, models, prompts, guided):
    extra = {"guider": models["guider"], "base": models["base"], "guidance": Guidance(alpha=1.0, warmup=2)} if guided else {}
    batched, _ = generate(models["target"], prompts, sampler=GREEDY, **extra, **_kw(tok))
    single = [generate(models["target"], [p], sampler=GREEDY, **extra, **_kw(tok))[0][0] for p in prompts]
    assert _ids(batched) == _ids(single)


def test_naive_recompute_equals_cached(tok, models, prompts):
    extra = {"guider": models["guider"], "base": models["base"], "guidance": Guidance(alpha=1.0, warmup=3)}
    cached, _ = generate(models["target"], prompts, sampler=GREEDY, **extra, **_kw(tok))
    naive, _ = generate(models["target"], prompts, sampler=GREEDY, use_cache=False, **extra, **_kw(tok))
    assert _ids(cached) == _ids(naive)


def test_identical_guider_and_base_change_nothing(tok, models, prompts):
    alone, _ = generate(models["target"], prompts, sampler=GREEDY, **_kw(tok))
    same, stats = generate(models["target"], prompts, guider=models["base"], base=models["base"],
                           guidance=Guidance(alpha=3.0, warmup=0), sampler=GREEDY, **_kw(tok))
    assert _ids(alone) == _ids(same)
    assert stats.forwards["guider"] == stats.forwards["target"] == stats.forwards["base"]


def test_guidance_changes_the_output(tok, models, prompts):
    alone, _ = generate(models["target"], prompts, sampler=GREEDY, **_kw(tok))
    guided, _ = generate(models["target"], prompts, guider=models["guider"], base=models["base"],
                         guidance=Guidance(alpha=4.0, warmup=0), sampler=GREEDY, **_kw(tok))
    assert _ids(alone) != _ids(guided)


def test_warmup_as_long_as_the_output_equals_the_target_alone_but_still_runs_g_and_b(tok, models, prompts):
    alone, _ = generate(models["target"], prompts, sampler=GREEDY, **_kw(tok))
    warm, stats = generate(models["target"], prompts, guider=models["guider"], base=models["base"],
                           guidance=Guidance(alpha=4.0, warmup=GREEDY.max_new_tokens), sampler=GREEDY, **_kw(tok))
    assert _ids(alone) == _ids(warm)
    assert stats.forwards["guider"] == stats.forwards["base"] == stats.forwards["target"] == stats.steps


class _Pushy(torch.nn.Module):
    """A guider = base + a large bonus on one token: its delta pushes that token at every step."""

    def __init__(self, base, token_id, bonus=100.0):
        super().__init__()
        self.inner, self.config, self.token_id, self.bonus = base, base.config, token_id, bonus

    def forward(self, **kwargs):
        out = self.inner(**kwargs)
        out.logits[..., self.token_id] += self.bonus
        return out


def test_warmup_boundary_and_repetition_guard(tok, models, prompts):
    alone, _ = generate(models["target"], prompts[:1], sampler=GREEDY, **_kw(tok))
    first3 = alone[0].token_ids[:3]
    push = next(i for i in range(10, len(tok)) if i not in first3 and i not in (tok.eos_token_id, tok.pad_token_id))
    sampler = Sampler(temperature=0.0, top_p=1.0, max_new_tokens=30, repeat_limit=10)
    out, _ = generate(models["target"], prompts[:1], guider=_Pushy(models["base"], push), base=models["base"],
                      guidance=Guidance(alpha=1.0, warmup=3), sampler=sampler, **_kw(tok))
    ids = out[0].token_ids
    assert alone[0].stop == "length"  # the random target runs to the length cap here
    assert ids[:3] == first3  # alpha = 0 for the first 3 generated tokens
    assert ids[3:12] == [push] * 9  # then the guider's token, 9 times...
    assert ids[12] == tok.eos_token_id and out[0].stop == "repeat"  # ...and the 10th repeat becomes EOS
    assert len(ids) == 13


def test_delta_only_on_shared_columns():
    target = torch.zeros(2, 10)
    guider = torch.arange(8.0).expand(2, 8)
    base = torch.ones(2, 8, dtype=torch.bfloat16)
    z = combine_logits(target, guider, base, alpha=0.5)
    assert z.dtype == torch.float32
    assert torch.allclose(z[:, :8], 0.5 * (torch.arange(8.0) - 1))
    assert torch.equal(z[:, 8:], torch.zeros(2, 2))  # columns beyond the smallest head get no delta
    assert torch.equal(combine_logits(target, guider, base, alpha=0.0), target)


def test_top_p_keeps_the_smallest_nucleus():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    kept = torch.isfinite(top_p_filter(logits, 0.7))
    assert kept.tolist() == [[True, True, False, False]]
    assert torch.isfinite(top_p_filter(logits, 0.01)).sum() == 1
    assert torch.equal(top_p_filter(logits, 1.0), logits)


def test_sampling_is_seeded(tok, models, prompts):
    sampler = Sampler(temperature=1.0, top_p=0.95, max_new_tokens=10)
    extra = {"guider": models["guider"], "base": models["base"], "guidance": Guidance(alpha=1.0, warmup=0)}
    a, _ = generate(models["target"], prompts, sampler=sampler, seed=3, **extra, **_kw(tok))
    b, _ = generate(models["target"], prompts, sampler=sampler, seed=3, **extra, **_kw(tok))
    c, _ = generate(models["target"], prompts, sampler=sampler, seed=4, **extra, **_kw(tok))
    assert _ids(a) == _ids(b)
    assert _ids(a) != _ids(c)


def test_generate_all_batches_and_counts_tokens(tok, models, prompts):
    sampler = Sampler(temperature=0.0, top_p=1.0, max_new_tokens=8)
    out, stats = generate_all(models["target"], prompts * 3, batch_size=4, sampler=sampler, ignore_eos=True, **_kw(tok))
    assert len(out) == 9 and all(o.n_tokens == 8 for o in out)
    assert stats.generated_tokens == 72 and stats.seconds > 0


def test_tokenizer_check(tok):
    from transformers import AddedToken

    from longthink.tokenizer import build_tokenizer

    assert check_shared_tokenizer(tok, {"guider": tok, "guider base": tok}) == []
    other = build_tokenizer(["completely different text about cats and dogs"] * 20, vocab_size=320)
    with pytest.raises(VocabularyMismatch, match="guider base"):
        check_shared_tokenizer(tok, {"guider": tok, "guider base": other})
    renamed = build_tokenizer(CORPUS, vocab_size=320)
    renamed.add_tokens([AddedToken("<|special_guider|>", special=True)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        notes = check_shared_tokenizer(tok, {"guider": renamed})
    assert notes and "added token" in str(caught[0].message)
    with pytest.raises(VocabularyMismatch):
        check_shared_tokenizer(tok, {"guider": renamed}, strict_added=True)


def test_bad_input(tok, models, prompts):
    with pytest.raises(ValueError, match="both a guider and a guider base"):
        generate(models["target"], prompts, guider=models["guider"], **_kw(tok))
    with pytest.raises(ValueError, match="prompt 1 is empty"):
        generate(models["target"], [prompts[0], []], **_kw(tok))
    with pytest.raises(ValueError, match="top_p"):
        Sampler(top_p=0.0)
    with pytest.raises(ValueError, match="warmup"):
        Guidance(warmup=-1)


def test_paired_guider_and_base_give_the_same_logits_and_tokens(tok, models, prompts):
    from longthink.thinklogit.paired import pair_models

    pair = pair_models(models["guider"], models["base"])
    assert pair is not None
    ids = torch.tensor([prompts[0], prompts[0]])
    with torch.no_grad():
        both = pair(input_ids=torch.cat([ids, ids])).logits  # rows 0-1 -> guider, rows 2-3 -> base
        g = models["guider"](input_ids=ids).logits
        b = models["base"](input_ids=ids).logits
    assert torch.allclose(both[:2], g, atol=1e-5) and torch.allclose(both[2:], b, atol=1e-5)
    extra = {"guider": models["guider"], "base": models["base"], "guidance": Guidance(alpha=1.5, warmup=1)}
    sampler = Sampler(temperature=0.0, top_p=1.0, max_new_tokens=12, repeat_limit=10)
    together, stats = generate(models["target"], prompts, sampler=sampler, **extra, **_kw(tok))
    apart, _ = generate(models["target"], prompts, sampler=sampler, pair_guider=False, **extra, **_kw(tok))
    assert _ids(together) == _ids(apart)
    assert stats.forwards["guider"] == stats.forwards["base"] == stats.forwards["target"]


def test_models_of_different_shapes_are_not_paired(models):
    from longthink.thinklogit.paired import pair_models

    assert pair_models(models["guider"], models["target"]) is None


def test_parallel_guider_thread_gives_the_same_tokens(tok, models, prompts):
    extra = {"guider": models["guider"], "base": models["base"], "guidance": Guidance(alpha=1.0, warmup=2)}
    seq, _ = generate(models["target"], prompts, sampler=GREEDY, **extra, **_kw(tok))
    par, _ = generate(models["target"], prompts, sampler=GREEDY, parallel=True, **extra, **_kw(tok))
    assert _ids(seq) == _ids(par)
