"""Budget forcing (s1 §3.1): cap or stretch the thinking phase of a reasoning model at decode time.

* **Maximum**: once the thinking phase has used ``max_thinking_tokens``, force the end-of-thinking delimiter and the
  answer prefix (``<|im_start|>answer`` NL ``Final Answer:``, a newline first if needed), so the model answers now.
* **Minimum**: the first ``num_ignore`` times the model tries to end its thinking (it emits the delimiter
  ``<|im_start|>`` or ``<|im_end|>``), drop that token and append the literal ``Wait`` instead (no space or newline,
  as ``eval/generate.py`` does); ``min_thinking_tokens`` does the same until that many thinking tokens exist.

This backend is one batched decode loop over a ``DynamicCache``: every row advances one token per step, forced
tokens (``Wait``, the answer prefix) are fed through the same step as sampled ones, and the cache is *continued*,
never re-encoded, so forcing costs what plain generation of the same number of tokens costs
(``benchmarks/bench_budget_forcing.py`` measures the ratio). The paper's harness instead re-submits the whole
text to vLLM after each ``Wait`` (prefix caching hides most of that); ``vllm_backend.py`` follows the harness.

Budget semantics (a kit choice the card leaves open): every thinking token, including the forced ``Wait`` tokens,
counts against ``max_thinking_tokens``, as in the README loop that decrements the budget (PR #120), so a run can
never exceed its budget (Control = 100% by construction).

The rule deciding what happens to a thinking-phase token is one pure function, :func:`forcing_action`, which the
decode loop calls for every row that reaches its budget or tries to end its thinking; the notebook's exercise
``s1.wait_rule`` checks a student's version against it. Every generated token is labelled with who wrote it
(:data:`SOURCES`: the model, a forced ``Wait``, the forced answer at the budget, the answer header after a natural
end), so a trace can be shown with its forced tokens marked (``ForcedOutput.pieces``, ``longthink.s1.widgets``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from longthink.formats import ANSWER_PREFIX, END_THINK, FINAL_ANSWER, STOP, THINK_PREFIX, WAIT

THINK, ANSWER, DONE = 0, 1, 2

# Who wrote a generated token: the model, or the decoder forcing a Wait, the answer at the budget, or the answer
# header after the model ended its thinking itself.
SOURCES = ("model", "wait", "budget", "end")
MODEL, FORCED_WAIT, FORCED_BUDGET, FORCED_END = range(len(SOURCES))

# What the decoder does with a thinking-phase token (forcing_action)
CONTINUE, WAIT_ACTION, END_ACTION, CUT_ACTION = "continue", "wait", "end", "cut"
ACTIONS = (CONTINUE, WAIT_ACTION, END_ACTION, CUT_ACTION)


class BudgetForcingError(ValueError):
    """Bad budget-forcing settings or a tokenizer that cannot express the delimiters."""


@dataclass(frozen=True)
class ForcingSettings:
    """One decoding configuration. ``max_thinking_tokens=None`` = the "auto" budget (all that fits)."""

    max_thinking_tokens: int | None = None
    min_thinking_tokens: int = 0
    num_ignore: int = 0
    ignore_string: str = WAIT
    max_new_tokens: int = 256  # thinking + answer, like max_gen_toks
    max_answer_tokens: int = 32
    temperature: float = 0.0  # 0 = greedy
    top_p: float = 1.0
    think_prefix: str = THINK_PREFIX
    end_think: str = END_THINK
    answer_prefix: str = ANSWER_PREFIX
    final_answer: str = FINAL_ANSWER
    stop: str = STOP

    def __post_init__(self):
        checks = {
            "max_thinking_tokens": self.max_thinking_tokens is None or self.max_thinking_tokens >= 0,
            "min_thinking_tokens": self.min_thinking_tokens >= 0,
            "num_ignore": self.num_ignore >= 0,
            "max_new_tokens": self.max_new_tokens >= 1,
            "max_answer_tokens": self.max_answer_tokens >= 1,
            "temperature": self.temperature >= 0,
            "top_p": 0 < self.top_p <= 1,
        }
        for key, ok in checks.items():
            if not ok:
                raise BudgetForcingError(f"ForcingSettings.{key} is out of range: {getattr(self, key)!r}")

    def thinking_budget(self, reserve: int) -> int:
        """The effective cap: the given budget, or "auto" = max_new_tokens minus ``reserve`` and the answer room
        (the card's auto = max_gen_toks - prompt - delimiter strings - 100), never more than auto."""
        auto = max(0, self.max_new_tokens - self.max_answer_tokens - reserve)
        return auto if self.max_thinking_tokens is None else min(self.max_thinking_tokens, auto)


def forcing_action(*, thinking_tokens: int, wants_to_end: bool, waits_left: int, min_thinking_tokens: int,
                   budget: int, wait_tokens: int) -> str:
    """What budget forcing does with the model's next thinking token (s1 §3.1), one of :data:`ACTIONS`.

    * ``cut``: the thinking has used its ``budget``; drop the token and force the answer (the maximum).
    * ``continue``: the model goes on thinking; keep its token.
    * ``wait``: the model tries to end its thinking (it emitted the delimiter) but Waits are left to force
      (``waits_left > 0``) or it has thought less than ``min_thinking_tokens``: drop the delimiter and append
      ``Wait`` (``wait_tokens`` long), unless that Wait would overrun the budget.
    * ``end``: the model ends its thinking; the decoder writes the answer header.
    """
    if thinking_tokens >= budget:
        return CUT_ACTION
    if not wants_to_end:
        return CONTINUE
    if (waits_left > 0 or thinking_tokens < min_thinking_tokens) and thinking_tokens + wait_tokens <= budget:
        return WAIT_ACTION
    return END_ACTION


@dataclass
class ForcedOutput:
    """One completion: the thinking and answer text, token counts and how the thinking ended.

    ``pieces`` is the generated text (thinking and answer) as runs of ``(text, source)``, ``source`` one of
    :data:`SOURCES`: joined, the texts give ``thinking + answer`` as decoded together.
    """

    thinking: str
    answer: str
    thinking_tokens: int
    answer_tokens: int
    waits: int
    ended_by: str  # "delimiter" | "budget" | "length"
    text: str = field(default="")
    pieces: list = field(default_factory=list, repr=False)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def chat_prompts(tokenizer, questions: Sequence[str], *, suffix: str = "", system: str | None = None) -> list[str]:
    """Chat-formatted prompts ending with the assistant header (the paper's user turn = the raw question)."""
    prompts = []
    for q in questions:
        messages = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": q + suffix}
        ]
        prompts.append(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
    return prompts


def _single_token(tokenizer, text: str, what: str) -> int:
    ids = tokenizer.encode(text, add_special_tokens=False)
    if len(ids) != 1:
        raise BudgetForcingError(f"{what} {text!r} must be one token for budget forcing, got ids {ids}")
    return ids[0]


class HFBackend:
    """Budget forcing with a transformers causal LM: batched, greedy or sampled, one continued KV cache."""

    def __init__(self, model, tokenizer, *, batch_size: int = 64, show_progress: bool = False):
        self.model, self.tokenizer = model, tokenizer
        self.batch_size = batch_size
        self.show_progress = show_progress
        if tokenizer.pad_token_id is None:
            raise BudgetForcingError("the tokenizer needs a pad token for batched generation")

    # ------------------------------------------------------------------------------------------------ public
    def generate(self, prompts: Sequence[str], settings: ForcingSettings, *, seed: int = 0) -> list[ForcedOutput]:
        """Budget-forced completions for chat-formatted ``prompts`` (each ends with the assistant header)."""
        import torch

        outputs: list[ForcedOutput] = []
        generator = torch.Generator().manual_seed(seed)
        starts = range(0, len(prompts), self.batch_size)
        if self.show_progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="budget forcing", unit="batch")
        for start in starts:
            outputs += self._generate_batch(list(prompts[start : start + self.batch_size]), settings, generator)
        return outputs

    def thinking_budget(self, settings: ForcingSettings) -> int:
        """The thinking cap this decoder applies for ``settings``: the budget given, or "auto" (all that fits)."""
        reserve = len(self._ids(settings.answer_prefix + "\n" + settings.final_answer)) + len(self._ids("\n"))
        return settings.thinking_budget(reserve=reserve)

    # ------------------------------------------------------------------------------------------------ decode
    def _ids(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False) if text else []

    def _generate_batch(self, prompts: list[str], s: ForcingSettings, generator) -> list[ForcedOutput]:
        import torch
        from transformers import DynamicCache

        tok, model = self.tokenizer, self.model
        device = next(model.parameters()).device
        delim = _single_token(tok, s.end_think, "the end-of-thinking delimiter")
        stop = _single_token(tok, s.stop, "the stop token")
        wait_ids = self._ids(s.ignore_string)
        end_ids = self._ids(s.answer_prefix)  # natural end of thinking: the delimiter then "answer"
        budget_ids = self._ids(s.answer_prefix + "\n" + s.final_answer)
        newline = self._ids("\n")
        if not wait_ids or not end_ids or end_ids[0] != delim:
            raise BudgetForcingError(f"answer_prefix {s.answer_prefix!r} must start with {s.end_think!r}")
        budget = self.thinking_budget(s)

        enc = tok([p + s.think_prefix for p in prompts], return_tensors="pt", padding=True, add_special_tokens=False)
        if tok.padding_side != "left" and bool((enc["attention_mask"][:, -1] == 0).any()):
            raise BudgetForcingError("batched generation needs tokenizer.padding_side == 'left'")
        ids, mask = enc["input_ids"].to(device), enc["attention_mask"].to(device)
        n = ids.shape[0]
        rows = torch.arange(n, device=device)
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        cache = DynamicCache()
        phase = torch.full((n,), THINK, dtype=torch.long, device=device)
        think_n = torch.zeros(n, dtype=torch.long, device=device)
        answer_n = torch.zeros(n, dtype=torch.long, device=device)  # model-chosen answer tokens
        waits_left = torch.full((n,), s.num_ignore, dtype=torch.long, device=device)
        waits = [0] * n
        ended_by = ["length"] * n
        fmax = max(len(wait_ids), len(budget_ids) + len(newline), len(end_ids))
        forced = torch.zeros((n, fmax), dtype=torch.long, device=device)
        fpos = torch.zeros(n, dtype=torch.long, device=device)
        flen = torch.zeros(n, dtype=torch.long, device=device)
        fkind = torch.zeros(n, dtype=torch.long, device=device)  # the SOURCES index of the queued tokens
        last_nl = torch.ones(n, dtype=torch.bool, device=device)  # does the thinking so far end with a newline?
        nl_mask = self._newline_mask(device)
        new_tokens, segments, sources = [], [], []

        def queue(row: int, seq: list[int], kind: int) -> int:
            forced[row, : len(seq) - 1] = torch.tensor(seq[1:], dtype=torch.long)
            fpos[row], flen[row], fkind[row] = 0, len(seq) - 1, kind
            source[row] = kind
            return seq[0]

        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask, position_ids=pos, past_key_values=cache,
                           use_cache=True, logits_to_keep=1).logits[:, -1, :]
            next_pos = pos[:, -1] + 1
            for _ in range(s.max_new_tokens):
                choice = self._choose(logits, s, generator)
                is_forced = fpos < flen
                token = torch.where(is_forced, forced[rows, fpos.clamp(max=fmax - 1)], choice)
                source = torch.where(is_forced, fkind, torch.full_like(fkind, MODEL))
                fpos = fpos + is_forced.long()
                free = ~is_forced
                thinking = phase == THINK
                # events: the thinking budget is spent, or the model tries to end its thinking
                over = thinking & free & (think_n >= budget)
                tries_end = thinking & free & ~over & ((token == delim) | (token == stop))
                for r in torch.nonzero(over | tries_end).flatten().tolist():
                    action = forcing_action(thinking_tokens=int(think_n[r]), wants_to_end=bool(tries_end[r]),
                                            waits_left=int(waits_left[r]), min_thinking_tokens=s.min_thinking_tokens,
                                            budget=budget, wait_tokens=len(wait_ids))
                    if action == CUT_ACTION:
                        seq = (newline if not bool(last_nl[r]) else []) + budget_ids
                        token[r] = queue(r, seq, FORCED_BUDGET)
                        phase[r], ended_by[r] = ANSWER, "budget"
                    elif action == WAIT_ACTION:
                        token[r] = queue(r, wait_ids, FORCED_WAIT)
                        waits_left[r] = (waits_left[r] - 1).clamp(min=0)
                        waits[r] += 1
                    else:
                        token[r] = queue(r, end_ids, FORCED_END)
                        phase[r], ended_by[r] = ANSWER, "delimiter"
                segment = phase.clone()
                think_n += (phase == THINK).long()
                last_nl = torch.where(phase == THINK, nl_mask[token], last_nl)
                answering = (phase == ANSWER) & free & ~over & ~tries_end
                answer_n += answering.long()
                finished = answering & ((token == stop) | (answer_n >= s.max_answer_tokens))
                token = torch.where(phase == DONE, torch.full_like(token, tok.pad_token_id), token)
                segment = torch.where(phase == DONE, torch.full_like(segment, DONE), segment)
                phase = torch.where(finished, torch.full_like(phase, DONE), phase)
                new_tokens.append(token)
                segments.append(segment)
                sources.append(source.clone())
                if bool((phase == DONE).all()):
                    break
                mask = torch.cat([mask, torch.ones((n, 1), dtype=mask.dtype, device=device)], dim=1)
                logits = model(input_ids=token[:, None], attention_mask=mask, position_ids=next_pos[:, None],
                               past_key_values=cache, use_cache=True, logits_to_keep=1).logits[:, -1, :]
                next_pos = next_pos + 1
        self.last_steps = len(new_tokens)  # decode steps of the last batch (for the overhead benchmark)
        return self._collect(torch.stack(new_tokens, 1), torch.stack(segments, 1), torch.stack(sources, 1), s, waits,
                             ended_by)

    def _newline_mask(self, device):
        """A bool per token id: does the token's text end with a newline (byte-level "Ċ" or a literal one)?"""
        import torch

        if getattr(self, "_nl_mask", None) is None:
            vocab = self.tokenizer.convert_ids_to_tokens(list(range(len(self.tokenizer))))
            size = max(len(vocab), int(self.model.config.get_text_config().vocab_size))
            mask = torch.zeros(size, dtype=torch.bool)
            mask[[i for i, t in enumerate(vocab) if t and (t.endswith("Ċ") or t.endswith("\n"))]] = True
            self._nl_mask = mask
        return self._nl_mask.to(device)

    @staticmethod
    def _choose(logits, s: ForcingSettings, generator):
        from longthink.generation import sample_token

        return sample_token(logits, temperature=s.temperature, top_p=s.top_p, generator=generator)

    def _collect(self, tokens, segments, sources, s: ForcingSettings, waits, ended_by) -> list[ForcedOutput]:
        out = []
        for r in range(tokens.shape[0]):
            t, g, src = tokens[r].tolist(), segments[r].tolist(), sources[r].tolist()
            think = [x for x, y in zip(t, g) if y == THINK]
            answer = [x for x, y in zip(t, g) if y == ANSWER]
            thinking = self.tokenizer.decode(think, skip_special_tokens=False)
            answer_text = self.tokenizer.decode(answer, skip_special_tokens=False)
            if answer_text.endswith(s.stop):
                answer_text = answer_text[: -len(s.stop)]
            kept = [(x, k) for x, y, k in zip(t, g, src) if y in (THINK, ANSWER)]
            out.append(ForcedOutput(
                thinking=thinking, answer=answer_text, thinking_tokens=len(think), answer_tokens=len(answer),
                waits=waits[r], ended_by=ended_by[r], text=s.think_prefix + thinking + answer_text,
                pieces=self._pieces(kept, s.stop),
            ))
        return out

    def _pieces(self, labelled: list[tuple[int, int]], stop: str) -> list[tuple[str, str]]:
        """Runs of consecutive tokens with one source, decoded: ``[(text, source name), ...]`` (final stop cut)."""
        runs: list[tuple[list[int], int]] = []
        for token, kind in labelled:
            if runs and runs[-1][1] == kind:
                runs[-1][0].append(token)
            else:
                runs.append(([token], kind))
        pieces = [(self.tokenizer.decode(ids, skip_special_tokens=False), SOURCES[kind]) for ids, kind in runs]
        if pieces and pieces[-1][0].endswith(stop):
            text, kind = pieces[-1]
            pieces[-1] = (text[: -len(stop)], kind)
            if not pieces[-1][0]:
                pieces.pop()
        return pieces


def answer_text(output: ForcedOutput, *, answer_prefix: str = ANSWER_PREFIX) -> str:
    """The text graded: what follows the last answer delimiter (the harness grades only that part)."""
    text = output.text
    return text.rsplit(answer_prefix, 1)[-1] if answer_prefix in text else output.answer
