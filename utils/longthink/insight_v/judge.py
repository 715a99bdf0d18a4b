"""The answer filter (card §2.2; upstream ``data_check.py``): is a path's final answer the ground truth?

A judge takes ``JudgeItem``s and returns one verdict each. Two implementations behind one interface:

* ``match`` (tiny profile, card §5): normalised exact match (case, spaces, a final full stop), a box at IoU > 0.5;
  the tiny world passes its own matcher (``world-vision:chains`` ``answers_match``), which knows its formats.
* ``llm`` (paper): a text LLM (Qwen2.5-72B-Instruct) with upstream's prompt and two shots, sampled at T 0.2,
  top-p 0.7, repetition penalty 1.05, 512 tokens; the reply is cut after its first ``]`` and read as JSON
  (``[1]`` correct, ``[0]`` wrong); anything unreadable counts as wrong, and so does a path whose final answer was
  not parsable (the judge sees upstream's ``No available answer``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence

from longthink.boxes import iou, parse_box
from longthink.insight_v import prompts


@dataclasses.dataclass(frozen=True)
class JudgeItem:
    question: str
    ground_truth: str
    response: str | None  # the FINAL ANSWER content; None when it was not parsable
    kind: str | None = None


def normalise(text: str) -> str:
    return " ".join(str(text).lower().strip().rstrip(".").split())


def normalised_match(answer: str | None, gold: str, *, kind: str | None = None) -> bool:
    """Normalised exact match; when the ground truth is a box ``[x1, y1, x2, y2]``, IoU > 0.5."""
    if answer is None:
        return False
    gold_box = parse_box(gold) if gold.strip().startswith("[") else None
    if gold_box is not None:
        pred = parse_box(answer)
        return pred is not None and iou(pred, gold_box) > 0.5
    return normalise(answer) == normalise(gold)


class MatchJudge:
    """Normalised exact match (``matcher(answer, gold, kind=...)``, by default :func:`normalised_match`)."""

    def __init__(self, matcher: Callable[..., bool] | None = None):
        self.matcher = matcher or normalised_match

    def judge(self, items: Sequence[JudgeItem]) -> list[bool]:
        return [bool(self.matcher(i.response, i.ground_truth, kind=i.kind)) for i in items]


def parse_verdict(text: str) -> bool:
    """Upstream's reading: cut after the first ``]``, ``json.loads``, ``[1]`` is correct; any error is wrong."""
    try:
        value = json.loads(text.split("]")[0] + "]")
    except (json.JSONDecodeError, TypeError, ValueError):
        return False
    return isinstance(value, list) and len(value) > 0 and value[0] == 1


def judge_messages(item: JudgeItem, prompt: str = prompts.JUDGE_PROMPT) -> list[dict[str, str]]:
    user = prompts.JUDGE_USER.format(question=item.question, ground_truth=item.ground_truth,
                                     response=item.response if item.response is not None else prompts.NO_ANSWER)
    return [{"role": "system", "content": prompts.JUDGE_SYSTEM.format(prompt=prompt)},
            {"role": "user", "content": user}]


class LLMJudge:
    """A text LLM judge; ``complete(list of messages) -> list of replies`` is a chat backend (:class:`HFChat`)."""

    def __init__(self, complete: Callable[[list[list[dict]]], list[str]], *, prompt: str = prompts.JUDGE_PROMPT,
                 batch_size: int = 32):
        self.complete, self.prompt, self.batch_size = complete, prompt, batch_size

    def judge(self, items: Sequence[JudgeItem]) -> list[bool]:
        out: list[bool] = []
        for i in range(0, len(items), self.batch_size):
            chunk = items[i: i + self.batch_size]
            replies = self.complete([judge_messages(it, self.prompt) for it in chunk])
            out += [parse_verdict(r) for r in replies]
        return out


class HFChat:
    """A causal LM as a chat backend (transformers; left-padded batches, the given sampling)."""

    def __init__(self, model_ref: str, *, temperature: float, top_p: float, repetition_penalty: float,
                 max_tokens: int, seed: int = 0, dtype: str = "float32", loaded: tuple | None = None):
        import torch

        from longthink.models import load_causal_lm

        self.model, self.tok = loaded if loaded is not None else load_causal_lm(model_ref, dtype=getattr(torch, dtype))
        self.tok.padding_side = "left"
        self.kwargs = {"max_new_tokens": max_tokens, "repetition_penalty": repetition_penalty}
        self.kwargs.update(dict(do_sample=True, temperature=temperature, top_p=top_p) if temperature > 0
                           else dict(do_sample=False))
        self.seed = seed

    def __call__(self, conversations: list[list[dict]]) -> list[str]:
        import torch

        texts = [self.tok.apply_chat_template(m, tokenize=False, add_generation_prompt=True) for m in conversations]
        batch = self.tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        torch.manual_seed(self.seed)
        with torch.no_grad():
            out = self.model.generate(**batch, **self.kwargs, pad_token_id=self.tok.pad_token_id)
        return self.tok.batch_decode(out[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)


def _vllm_chat(model_ref: str, *, temperature: float, top_p: float, repetition_penalty: float, max_tokens: int,
               seed: int = 0, **_) -> Callable[[list[list[dict]]], list[str]]:
    try:
        from vllm import LLM, SamplingParams
    except ImportError as exc:
        raise ImportError("assess.judge: llm at paper scale runs on vLLM (pip install vllm on GPU nodes)") from exc
    llm = LLM(model=model_ref, seed=seed)
    params = SamplingParams(temperature=temperature, top_p=top_p, repetition_penalty=repetition_penalty,
                            max_tokens=max_tokens)
    tok = llm.get_tokenizer()

    def complete(conversations: list[list[dict]]) -> list[str]:
        texts = [tok.apply_chat_template(m, tokenize=False, add_generation_prompt=True) for m in conversations]
        return [o.outputs[0].text for o in llm.generate(texts, params, use_tqdm=False)]

    return complete


def _llm(settings, *, backend: Callable | None = None, seed: int = 0, **_) -> LLMJudge:
    if backend is None:
        kwargs = dict(temperature=settings.judge_temperature, top_p=settings.judge_top_p,
                      repetition_penalty=settings.judge_repetition_penalty, max_tokens=settings.judge_max_tokens,
                      seed=seed)
        backend = _vllm_chat(settings.judge_model, **kwargs) if _has_gpu() else HFChat(settings.judge_model, **kwargs)
    return LLMJudge(backend, prompt=settings.judge_prompt, batch_size=settings.batch_size)


def _has_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


def _match(settings, *, matcher: Callable | None = None, **_) -> MatchJudge:
    return MatchJudge(matcher)


# assess.judge -> a builder ``(settings, *, matcher, backend, seed) -> judge``
JUDGES: dict[str, Callable[..., object]] = {"match": _match, "llm": _llm}


def make_judge(settings, **kwargs):
    if settings.judge not in JUDGES:
        raise ValueError(f"assess.judge: unknown judge {settings.judge!r}; known: {sorted(JUDGES)}")
    return JUDGES[settings.judge](settings, **kwargs)
