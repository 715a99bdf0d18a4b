"""Budget forcing: the continued-cache decode loop equals re-encoding, the Wait / budget logic, sampling, errors."""

from __future__ import annotations

import pytest
import torch

from longthink.s1.budget_forcing import (
    BudgetForcingError,
    ForcingSettings,
    HFBackend,
    answer_text,
    chat_prompts,
)
from longthink.s1.backends import make_backend

QUESTIONS = ["Mix 3: a+4,b*3,c-2.", "Tally 1: a+2.", "Drift 7: a-3,b*7,c-1,d*9,e-5."]


@pytest.fixture(scope="module")
def tok():
    from longthink.tokenizer import build_tokenizer

    corpus = [q + "\n<|im_start|>think\na:3+4=7\nWait, a:3+4=7\n<|im_start|>answer\nAnswer: 7 Final Answer:" for q in
              QUESTIONS] * 10
    return build_tokenizer(corpus, vocab_size=320)


@pytest.fixture(scope="module")
def model(tok):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    cfg = Qwen2Config(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=True,
                      eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, max_position_embeddings=512)
    return Qwen2ForCausalLM(cfg).eval()


class Scripted(torch.nn.Module):
    """Wraps a real model (so the cache is real) but overrides its logits with a script over the text so far:
    think ``x`` three times, then try to end thinking; in the answer, write ``7`` then stop."""

    def __init__(self, inner, tok, n_x: int = 3):
        super().__init__()
        self.inner, self.tok, self.n_x = inner, tok, n_x
        self.config = inner.config
        self.history = None
        self.x = tok.encode("x", add_special_tokens=False)[0]
        self.seven = tok.encode("7", add_special_tokens=False)[0]

    def forward(self, input_ids, past_key_values=None, **kw):
        out = self.inner(input_ids=input_ids, past_key_values=past_key_values, **kw)
        self.history = input_ids if past_key_values.get_seq_length() == input_ids.shape[1] else torch.cat(
            [self.history, input_ids], 1)
        logits = torch.full_like(out.logits[:, -1:, :], -1e4)
        for r in range(input_ids.shape[0]):
            text = self.tok.decode(self.history[r], skip_special_tokens=False).rsplit("think", 1)[-1]
            if "answer" in text:
                nxt = self.tok.eos_token_id if text.rstrip().endswith("7") else self.seven
            else:
                tail = text.rsplit("Wait", 1)[-1]
                nxt = self.x if tail.count("x") < self.n_x else self.tok.convert_tokens_to_ids("<|im_start|>")
            logits[r, 0, nxt] = 0
        out.logits = logits
        return out


def reference_greedy(model, tok, prompt: str, settings: ForcingSettings) -> list[int]:
    """No cache, no batching: re-encode the whole text at every step (only budget + natural end, no Waits)."""
    ids = tok.encode(prompt + settings.think_prefix, add_special_tokens=False)
    delim, stop = tok.convert_tokens_to_ids("<|im_start|>"), tok.eos_token_id
    new, think, phase = [], 0, "think"
    budget_ids = tok.encode(settings.answer_prefix + "\n" + settings.final_answer, add_special_tokens=False)
    end_ids = tok.encode(settings.answer_prefix, add_special_tokens=False)
    forced: list[int] = []
    budget = settings.thinking_budget(reserve=len(budget_ids) + 1)
    answer_n = 0
    for _ in range(settings.max_new_tokens):
        with torch.no_grad():
            nxt = int(model(torch.tensor([ids + new])).logits[0, -1].argmax())
        if forced:
            nxt = forced.pop(0)
        elif phase == "think" and think >= budget:
            nl = tok.decode(new).endswith("\n") if new else True
            seq = ([] if nl else tok.encode("\n", add_special_tokens=False)) + budget_ids
            nxt, forced, phase = seq[0], seq[1:], "answer"
        elif phase == "think" and nxt in (delim, stop):
            nxt, forced, phase = end_ids[0], end_ids[1:], "answer"
        elif phase == "answer":
            answer_n += 1
        new.append(nxt)
        think += phase == "think"
        if phase == "answer" and not forced and (nxt == stop or answer_n >= settings.max_answer_tokens):
            break
    return new


@pytest.mark.parametrize("budget", [0, 3, 7, None])
def test_batched_cache_matches_reencoding(model, tok, budget):
    """Left-padded batches with a continued cache give the same greedy tokens as re-encoding each prompt."""
    settings = ForcingSettings(max_thinking_tokens=budget, max_new_tokens=24, max_answer_tokens=4)
    prompts = chat_prompts(tok, QUESTIONS)
    outs = HFBackend(model, tok, batch_size=3).generate(prompts, settings)
    for prompt, out in zip(prompts, outs):
        ref = tok.decode(reference_greedy(model, tok, prompt, settings), skip_special_tokens=False)
        assert out.text == settings.think_prefix + ref.removesuffix("<|im_end|>")
        if budget is not None:
            assert out.thinking_tokens <= budget


def test_wait_replaces_delimiter_k_times(model, tok):
    scripted = Scripted(model, tok)
    backend = HFBackend(scripted, tok, batch_size=2)
    prompts = chat_prompts(tok, QUESTIONS[:2])
    for k in (0, 1, 2):
        outs = backend.generate(prompts, ForcingSettings(num_ignore=k, max_new_tokens=64, max_answer_tokens=4))
        for o in outs:
            assert o.waits == k
            assert o.thinking == "xxx" + "Waitxxx" * k  # literal "Wait", no space or newline (eval/generate.py)
            assert o.ended_by == "delimiter"
            assert o.answer.startswith("<|im_start|>answer") and answer_text(o).strip() == "7"


def test_budget_forces_final_answer(model, tok):
    backend = HFBackend(Scripted(model, tok, n_x=50), tok)
    out = backend.generate(chat_prompts(tok, QUESTIONS[:1]), ForcingSettings(max_thinking_tokens=5,
                                                                             max_new_tokens=64))[0]
    assert out.thinking_tokens == 5 and out.ended_by == "budget"
    assert out.answer.startswith("\n<|im_start|>answer\nFinal Answer:")  # newline first: "xxxxx" has none


def test_min_thinking_tokens_appends_wait(model, tok):
    backend = HFBackend(Scripted(model, tok), tok)
    out = backend.generate(chat_prompts(tok, QUESTIONS[:1]), ForcingSettings(min_thinking_tokens=5,
                                                                             max_new_tokens=64))[0]
    assert out.waits == 1 and out.thinking.startswith("xxxWait")


def test_wait_never_overruns_budget(model, tok):
    backend = HFBackend(Scripted(model, tok), tok)
    out = backend.generate(chat_prompts(tok, QUESTIONS[:1]), ForcingSettings(max_thinking_tokens=4, num_ignore=3,
                                                                             max_new_tokens=64))[0]
    assert out.thinking_tokens <= 4


def test_sampling_is_seeded(model, tok):
    backend = HFBackend(model, tok, batch_size=2)
    s = ForcingSettings(max_thinking_tokens=6, temperature=1.0, top_p=0.9, max_new_tokens=20, max_answer_tokens=4)
    a = [o.text for o in backend.generate(chat_prompts(tok, QUESTIONS), s, seed=1)]
    b = [o.text for o in backend.generate(chat_prompts(tok, QUESTIONS), s, seed=1)]
    assert a == b


def test_bad_settings_and_backends(model, tok):
    with pytest.raises(BudgetForcingError, match="num_ignore"):
        ForcingSettings(num_ignore=-1)
    with pytest.raises(BudgetForcingError, match="unknown budget-forcing backend 'tgi'"):
        make_backend("tgi", model, tok)
    with pytest.raises(BudgetForcingError, match="one token"):
        HFBackend(model, tok).generate(["q"], ForcingSettings(end_think="<|im_start|>x y"))


def test_vllm_backend_import_error_is_clear(model, tok):
    import importlib.util

    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is installed here")
    with pytest.raises(ImportError, match="pip install vllm"):
        make_backend("vllm", "some/model", None)
