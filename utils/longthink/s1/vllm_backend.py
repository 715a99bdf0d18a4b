"""Budget forcing with vLLM, the way s1's harness does it (``eval/generate.py``, ``lm_eval`` fork).

Same interface as ``budget_forcing.HFBackend``: ``generate(prompts, settings, seed=) -> list[ForcedOutput]``.
vLLM is imported only when this backend is built; it is not a dependency of the kit (GPU nodes only).

Per pass: generate thinking with ``stop_token_ids`` = [delimiter, end-of-turn] and ``max_tokens`` = what is left
of the budget (the README loop decrements it, PR #120); if the pass stopped on the delimiter and ignores remain,
append ``Wait`` and continue with ``min_tokens=1``; then append the answer prefix (``Final Answer:`` after a cut)
and generate the answer. vLLM's prefix cache makes the re-submitted text cheap. Pitfalls from the card: vLLM's
``min_tokens`` blocks only stop *ids* (the delimiter must be one token), and sampled runs may emit ids past the
tokenizer (151665-152063 for Qwen2.5): those are dropped here with ``skip_special_tokens`` decoding.
"""

from __future__ import annotations

from collections.abc import Sequence

from longthink.s1.budget_forcing import ForcedOutput, ForcingSettings

INSTALL_HINT = (
    "the vLLM backend needs the `vllm` package, which the kit does not install (it needs a CUDA GPU): "
    "pip install vllm  (s1 used vllm==0.6.4.post1), or set `stages.evaluate.backend: hf` in the recipe"
)


def _import_vllm():
    try:
        import vllm  # noqa: F401
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return vllm


class VLLMBackend:
    """Budget forcing through ``vllm.LLM`` (multi-pass, re-submitting text with prefix caching)."""

    def __init__(self, model, tokenizer=None, *, batch_size: int = 0, tensor_parallel_size: int = 1,
                 dtype: str = "float32", **llm_kwargs):
        vllm = _import_vllm()
        self.vllm = vllm
        self.llm = vllm.LLM(model=str(model), tensor_parallel_size=tensor_parallel_size, dtype=dtype,
                            enable_prefix_caching=True, **llm_kwargs)
        self.tokenizer = tokenizer or self.llm.get_tokenizer()

    def _params(self, *, max_tokens: int, stop_ids: list[int], settings: ForcingSettings, seed: int,
                min_tokens: int = 0):
        return self.vllm.SamplingParams(max_tokens=max(1, max_tokens), min_tokens=min_tokens,
                                        stop_token_ids=stop_ids, temperature=settings.temperature,
                                        top_p=settings.top_p, seed=seed, skip_special_tokens=False)

    def generate(self, prompts: Sequence[str], settings: ForcingSettings, *, seed: int = 0) -> list[ForcedOutput]:
        tok = self.tokenizer
        delim = tok.convert_tokens_to_ids(settings.end_think)
        stop = tok.convert_tokens_to_ids(settings.stop)
        budget = settings.thinking_budget(reserve=len(tok.encode(settings.answer_prefix + "\n"
                                                                 + settings.final_answer)) + 1)
        texts = [p + settings.think_prefix for p in prompts]
        thinking = [""] * len(texts)
        used, waits, cut = [0] * len(texts), [0] * len(texts), [False] * len(texts)
        active = list(range(len(texts)))
        for pass_ in range(settings.num_ignore + 1):
            if not active:
                break
            params = [self._params(max_tokens=budget - used[i], stop_ids=[delim, stop], settings=settings,
                                   seed=seed, min_tokens=1 if pass_ else 0) for i in active]
            outs = self.llm.generate([texts[i] + thinking[i] for i in active], params)
            still = []
            for i, out in zip(active, outs):
                o = out.outputs[0]
                thinking[i] += o.text
                used[i] += len(o.token_ids)
                if o.finish_reason == "length" or used[i] >= budget:
                    cut[i] = True
                elif pass_ < settings.num_ignore and used[i] + 1 < budget:
                    thinking[i] += settings.ignore_string
                    used[i] += len(tok.encode(settings.ignore_string, add_special_tokens=False))
                    waits[i] += 1
                    still.append(i)
            active = still
        answers_in = []
        for i in range(len(texts)):
            if cut[i]:
                sep = "" if thinking[i].endswith("\n") else "\n"
                answers_in.append(sep + settings.answer_prefix + "\n" + settings.final_answer)
            else:
                answers_in.append(settings.answer_prefix)
        params = self._params(max_tokens=settings.max_answer_tokens, stop_ids=[stop], settings=settings, seed=seed)
        outs = self.llm.generate([t + th + a for t, th, a in zip(texts, thinking, answers_in)], params)
        results = []
        for i, out in enumerate(outs):
            answer = answers_in[i] + out.outputs[0].text
            results.append(ForcedOutput(
                thinking=thinking[i], answer=answer, thinking_tokens=used[i],
                answer_tokens=len(out.outputs[0].token_ids), waits=waits[i],
                ended_by="budget" if cut[i] else "delimiter", text=settings.think_prefix + thinking[i] + answer))
        return results
