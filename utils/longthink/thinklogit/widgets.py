"""ThinkLogit's live controls: alpha and warm-up sliders on one question, and one decoding step taken apart.

:class:`GuidanceExplorer` holds the three models (target T, guider G, guider base B) and one question.
:meth:`GuidanceExplorer.decode` is the view function of both sliders: it decodes the question with the kit's own
decoder (``guided.generate``, greedy, so a slider's effect is not hidden by sampling noise) under
``Guidance(alpha, warmup)``, then reads the three models' logits at every generated position and marks each token:
written during the warm-up (alpha = 0), *steered* (z picked another token than T alone would have), or guided
but the same pick. :meth:`GuidanceExplorer.step` takes one step apart (:class:`StepView`): the top-5 tokens of T,
of G - B and of z = T + alpha (G - B), and for z's top-5 the arithmetic itself, computed by
``guided.combine_logits``. Tests call both methods directly; the notebook calls :meth:`GuidanceExplorer.show`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from longthink.thinklogit.guided import Guidance, Sampler, combine_logits, generate
from longthink.widgets import Panel, Slider, panel, spread

TOKEN_MARKS: dict[str, tuple[str, str]] = {
    "warmup": ("#e0e0e0", "warm-up: alpha = 0, the target alone"),
    "steered": ("#ffb74d", "steered: z picked another token than the target alone would have"),
}


def token_label(tokenizer, token_id: int) -> str:
    """A token as readable text: newlines and spaces shown, ids outside the tokenizer as ``<id N>``."""
    if token_id >= len(tokenizer):
        return f"<id {token_id}>"
    text = tokenizer.decode([token_id], skip_special_tokens=False)
    return text.replace("\n", "⏎").replace(" ", "␣") or f"<id {token_id}>"


@dataclass
class StepView:
    """One decoding step: the logits of T, G and B after ``prefix``, alpha at this step, and what each picks."""

    step: int
    alpha: float
    prefix: str  # the generated text before this step
    target: object  # 1-D fp32 tensors
    guider: object
    base: object
    tokenizer: object = field(repr=False)
    k: int = 5

    @property
    def delta(self):
        """G - B on the columns all three heads share."""
        common = min(self.target.shape[-1], self.guider.shape[-1], self.base.shape[-1])
        return self.guider[:common] - self.base[:common]

    @property
    def z(self):
        return combine_logits(self.target, self.guider, self.base, alpha=self.alpha)

    @property
    def target_pick(self) -> int:
        return int(self.target.argmax())

    @property
    def pick(self) -> int:
        return int(self.z.argmax())

    @property
    def steered(self) -> bool:
        return self.pick != self.target_pick

    def vectors(self) -> dict[str, list[float]]:
        """The three logit vectors as lists (for computing z by hand: the exercise ``thinklogit.combine``)."""
        return {"T": self.target.tolist(), "G": self.guider.tolist(), "B": self.base.tolist()}

    def top(self):
        """Top-k tokens and values of T, G - B and z, side by side (a DataFrame, rank as index)."""
        import pandas as pd

        cols = {}
        for name, vec in (("T", self.target), ("G - B", self.delta), ("z", self.z)):
            values, ids = vec.topk(min(self.k, vec.shape[-1]))
            cols[(name, "token")] = [token_label(self.tokenizer, int(i)) for i in ids]
            cols[(name, "logit")] = [round(float(v), 3) for v in values]
        frame = pd.DataFrame(cols)
        frame.index.name = "rank"
        return frame

    def arithmetic(self):
        """For z's top-k tokens: T, G - B, alpha (G - B) and z = T + alpha (G - B) (a DataFrame)."""
        import pandas as pd

        z, delta = self.z, self.delta
        values, ids = z.topk(min(self.k, z.shape[-1]))
        rows = []
        for v, i in zip(values.tolist(), ids.tolist()):
            d = float(delta[i]) if i < delta.shape[-1] else 0.0
            rows.append({"token": token_label(self.tokenizer, i), "T": float(self.target[i]), "G - B": d,
                         f"alpha (G - B), alpha={self.alpha:g}": self.alpha * d, "z = T + alpha (G - B)": v})
        return pd.DataFrame(rows).round(3)

    def sentence(self) -> str:
        """What happened at this step, in words, from the numbers."""
        t, p = self.target_pick, self.pick
        name = lambda i: f"`{token_label(self.tokenizer, i)}`"  # noqa: E731
        head = f"Step {self.step} (alpha = {self.alpha:g}): alone, the target would write {name(t)} " \
               f"(T = {float(self.target[t]):.2f})"
        if self.alpha == 0:
            return head + "; alpha is 0 here (warm-up), so z = T and the target's pick stands."
        delta = self.delta
        favoured = int(delta.argmax())
        mid = f"; the guider's change G - B favours {name(favoured)} (+{float(delta[favoured]):.2f})"
        if self.steered:
            return head + mid + (f"; z = T + {self.alpha:g} (G - B) picks {name(p)} (z = {float(self.z[p]):.2f} "
                                 f"against {float(self.z[t]):.2f} for {name(t)}): the guider steered this step.")
        return head + mid + f"; z still picks {name(p)} (z = {float(self.z[p]):.2f}): guided, not steered."

    def __str__(self) -> str:
        return f"{self.sentence()}\n{self.top().to_string()}\n{self.arithmetic().to_string(index=False)}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return (f"<p>{html.escape(self.sentence())}</p><p>after: <code>{html.escape(self.prefix[-120:])}</code></p>"
                f"<b>top-{self.k} of T, G - B and z</b>{self.top().to_html()}"
                f"<b>z = T + alpha (G - B) for z's top-{self.k}</b>{self.arithmetic().to_html(index=False)}")


@dataclass
class GuidedView:
    """One guided decode: the generated tokens with their marks, the graded answer, and one step taken apart."""

    question: str
    gold: str
    alpha: float
    warmup: int
    tokens: list[tuple[str, str]]  # (token text, mark: "warmup" | "steered" | "guided")
    text: str
    answer: str | None
    correct: bool
    stop: str
    step: StepView | None  # the step shown: the first steered one, else the first with alpha > 0
    steps: list = field(default_factory=list, repr=False)  # every step, for GuidanceExplorer.step

    @property
    def n_steered(self) -> int:
        return sum(mark == "steered" for _, mark in self.tokens)

    def summary(self) -> str:
        verdict = "correct" if self.correct else "wrong"
        return (f"alpha {self.alpha:g}, warm-up {self.warmup}: {len(self.tokens)} tokens ({self.stop}), "
                f"{self.n_steered} steered by the guider; answer {self.answer or '(none)'} (gold {self.gold}): "
                f"{verdict}")

    def marked_text(self) -> str:
        """The output with steered tokens in double brackets and warm-up tokens in braces."""
        wrap = {"steered": "⟦{}⟧", "warmup": "{{{}}}", "guided": "{}"}
        return "".join(wrap[mark].format(text) for text, mark in self.tokens)

    def __str__(self) -> str:
        step = f"\n{self.step}" if self.step is not None else ""
        return f"{self.summary()}\n{self.question}\n{self.marked_text()}{step}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        spans = []
        for text, mark in self.tokens:
            text = html.escape(text)
            if mark in TOKEN_MARKS:
                colour, meaning = TOKEN_MARKS[mark]
                spans.append(f"<span style='background:{colour}' title='{html.escape(meaning)}'>{text}</span>")
            else:
                spans.append(text)
        legend = " ".join(f"<span style='background:{c};padding:0 4px'>{html.escape(m)}</span>"
                          for c, m in TOKEN_MARKS.values())
        colour = "#1b5e20" if self.correct else "#b71c1c"
        step = self.step._repr_html_() if self.step is not None else "<p>(no step to show)</p>"
        return (f"<div><b style='color:{colour}'>{html.escape(self.summary())}</b><br>"
                f"<code>{html.escape(self.question)}</code>"
                f"<pre style='white-space:pre-wrap;line-height:1.35'>{''.join(spans)}</pre>"
                f"<small>marked: {legend}</small><hr>{step}</div>")


class GuidanceExplorer:
    """One question decoded by ThinkLogit under any alpha and warm-up (results kept per setting)."""

    def __init__(self, models, question, *, sampler: Sampler, settings=None, seed: int = 0):
        """``models``: a :class:`~longthink.thinklogit.systems.Models`; ``question``: a ``data.Question``;
        ``settings``: the eval stage's settings (answer extraction and scoring), or None for the defaults."""
        self.models, self.question, self.seed = models, question, seed
        self.sampler = Sampler(temperature=0.0, top_p=1.0, max_new_tokens=sampler.max_new_tokens,
                               repeat_limit=sampler.repeat_limit)
        self.settings = settings
        self.prompt_ids = models.tokenizer(question.prompt, add_special_tokens=False)["input_ids"]
        self._seen: dict[tuple, GuidedView] = {}

    def _decode_ids(self, guidance: Guidance) -> tuple[list[int], str]:
        m = self.models
        outputs, _ = generate(m.target, [self.prompt_ids], eos_ids=m.eos_ids, pad_id=m.tokenizer.pad_token_id,
                              guider=m.guider, base=m.base, guidance=guidance, sampler=self.sampler, seed=self.seed)
        return outputs[0].token_ids, outputs[0].stop

    def _logits(self, model, generated: list[int]):
        """fp32 next-token logits of ``model`` at every generated position (one forward over prompt + output)."""
        import torch

        ids = torch.tensor([self.prompt_ids + generated[:-1]])
        device = next(model.parameters()).device
        with torch.inference_mode():
            logits = model(input_ids=ids.to(device)).logits[0].float().cpu()
        start = len(self.prompt_ids) - 1
        return logits[start:start + len(generated)]

    def _score(self, generated: list[int]) -> tuple[str, str | None, bool]:
        from longthink.grading import grade
        from longthink.thinklogit.systems import extract, score_text

        tok, eos = self.models.tokenizer, self.models.eos_ids
        s = self.settings
        text, _ = score_text(generated, tok, eos_ids=eos, max_scored_tokens=s.max_scored_tokens if s else len(generated),
                             truncate_at=list(s.truncate_at) if s else [])
        answer = extract(text, fallback=s.answer_fallback if s else "none", benchmark=self.question.benchmark)
        return text, answer, answer is not None and bool(grade(answer, self.question.answer))

    def decode(self, alpha: float = 1.0, warmup: int = 0) -> GuidedView:
        """The question decoded under ``Guidance(alpha, warmup)``, every token marked, the first steered step (else
        the first guided one) taken apart: the view function of both sliders."""
        key = (float(alpha), int(warmup))
        if key in self._seen:
            return self._seen[key]
        guidance = Guidance(alpha=float(alpha), warmup=int(warmup))
        generated, stop = self._decode_ids(guidance)
        m, tok = self.models, self.models.tokenizer
        T, G, B = (self._logits(model, generated) for model in (m.target, m.guider, m.base))
        tokens, steps = [], []
        for t, token in enumerate(generated):
            a = guidance.alpha_at(t)
            step = StepView(t, a, tok.decode(generated[:t], skip_special_tokens=False), T[t], G[t], B[t], tok)
            steps.append(step)
            mark = "warmup" if t < warmup else ("steered" if step.steered else "guided")
            tokens.append((tok.decode([token], skip_special_tokens=False), mark))
        shown = next((s for s in steps if s.alpha != 0 and s.steered), None) or next(
            (s for s in steps if s.alpha != 0), None)
        text, answer, correct = self._score(generated)
        view = GuidedView(self.question.question, str(self.question.answer), float(alpha), int(warmup), tokens, text,
                          answer, correct, stop, shown, steps)
        self._seen[key] = view
        return view

    def step(self, alpha: float = 1.0, warmup: int = 0, step: int | None = None) -> StepView:
        """Generated token number ``step`` of the decode under (alpha, warmup), taken apart; None: the step
        :meth:`decode` shows (the first steered one; the last token when the warm-up covers them all)."""
        view = self.decode(alpha, warmup)
        if step is None:  # no token past the warm-up: the last one (its sentence says alpha is 0 there)
            return view.step if view.step is not None else view.steps[-1]
        if not 0 <= step < len(view.steps):
            raise IndexError(f"step {step} is outside the {len(view.steps)} generated tokens")
        return view.steps[step]

    def sliders(self, *, alphas: list[float] | None = None, warmups: list[int] | None = None,
                alpha: float = 1.0, warmup: int = 0) -> list[Slider]:
        """alpha from 0 to 3 in quarters (plus ``alphas``) and warm-up 0 to 16 (plus ``warmups``); the static
        fallback shows three of ``alphas`` and two of ``warmups`` (the recipe's sweep), besides the start."""
        alpha_opts = sorted({round(0.25 * i, 2) for i in range(13)} | {float(a) for a in alphas or []} | {alpha})
        warm_opts = sorted(set(range(17)) | {int(w) for w in warmups or []} | {warmup})
        return [Slider("alpha", "alpha", tuple(alpha_opts), float(alpha),
                       static=spread([float(a) for a in alphas or [] if a != alpha])),
                Slider("warmup", "warm-up tokens", tuple(warm_opts), int(warmup),
                       static=spread([int(w) for w in warmups or [] if w != warmup], 2))]

    def show(self, *, alphas: list[float] | None = None, warmups: list[int] | None = None, alpha: float = 1.0,
             warmup: int = 0, display: bool = True) -> Panel:
        """The alpha and warm-up sliders over :meth:`decode` (live in JupyterLab; fixed settings under papermill)."""
        return panel(self.decode, self.sliders(alphas=alphas, warmups=warmups, alpha=alpha, warmup=warmup),
                     title="ThinkLogit on one question: z = T + alpha (G - B)", show=display)


def telling_question(models, questions: list, *, sampler: Sampler, guidance: Guidance, settings=None) -> int:
    """The first question ThinkLogit answers right and the target alone wrong (greedy), else the first on which
    their outputs differ, else 0: one on which the sliders show something."""
    from longthink.grading import grade
    from longthink.thinklogit.systems import extract, score_text

    m, tok = models, models.tokenizer
    greedy = Sampler(temperature=0.0, top_p=1.0, max_new_tokens=sampler.max_new_tokens,
                     repeat_limit=sampler.repeat_limit)
    prompts = [tok(q.prompt, add_special_tokens=False)["input_ids"] for q in questions]
    common = dict(eos_ids=m.eos_ids, pad_id=tok.pad_token_id, sampler=greedy)
    alone, _ = generate(m.target, prompts, **common)
    guided, _ = generate(m.target, prompts, guider=m.guider, base=m.base, guidance=guidance, **common)

    def right(out, q) -> bool:
        text, _ = score_text(out.token_ids, tok, eos_ids=m.eos_ids,
                             max_scored_tokens=settings.max_scored_tokens if settings else len(out.token_ids),
                             truncate_at=list(settings.truncate_at) if settings else [])
        answer = extract(text, fallback=settings.answer_fallback if settings else "none", benchmark=q.benchmark)
        return answer is not None and bool(grade(answer, q.answer))

    gains = [i for i, (a, g, q) in enumerate(zip(alone, guided, questions)) if right(g, q) and not right(a, q)]
    differ = [i for i, (a, g) in enumerate(zip(alone, guided)) if a.token_ids != g.token_ids]
    return (gains or differ or [0])[0]


def guidance_explorer(ctx, data: dict, models, *, question: int | None = None, difficulty: int | None = None,
                      search: int = 32) -> GuidanceExplorer:
    """A :class:`GuidanceExplorer` on question number ``question`` of the evaluation set (of one ``difficulty`` if
    given; None: :func:`telling_question` among the first ``search``), with the eval stage's decoding length,
    guidance and scoring."""
    ev = ctx.settings("eval").kit
    pool = [q for qs in data["eval"].values() for q in qs if difficulty is None or q.difficulty == difficulty]
    sampler = Sampler(temperature=0.0, top_p=1.0, max_new_tokens=ev.max_new_tokens, repeat_limit=ev.repeat_limit)
    if question is None:
        question = telling_question(models, pool[:search], sampler=sampler,
                                    guidance=Guidance(alpha=ev.alpha, warmup=ev.warmup), settings=ev)
    if not 0 <= question < len(pool):
        where = "the evaluation set" if difficulty is None else f"difficulty {difficulty} of the evaluation set"
        raise IndexError(f"question {question} is not in {where} ({len(pool)} questions)")
    return GuidanceExplorer(models, pool[question], sampler=sampler, settings=ev, seed=ctx.seed)
