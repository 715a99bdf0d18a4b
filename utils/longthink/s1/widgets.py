"""s1's live controls: one question re-decoded with budget forcing as the thinking budget and the Wait count move.

:class:`TraceExplorer` holds the s1 model (an :class:`~longthink.s1.budget_forcing.HFBackend`) and one chosen
question. :meth:`TraceExplorer.decode` is the view function both sliders call: it decodes the question greedily
with the maximum thinking budget and the number of forced Waits given, and returns a :class:`TraceView`, the
trace with every token the decoder forced marked (a forced ``Wait``, the answer forced when the budget ran out,
the answer header written after the model ended its thinking itself). Greedy, so what changes between two
slider positions is the forcing, not sampling noise. Tests call :meth:`decode` directly; the notebook calls
:meth:`TraceExplorer.show` (live sliders in JupyterLab, a few fixed settings under papermill: ``longthink.widgets``).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, replace

from longthink.s1.budget_forcing import ForcedOutput, ForcingSettings, HFBackend, answer_text, chat_prompts
from longthink.widgets import Panel, Slider, panel, spread

# source -> (background colour, what the legend says); "model" tokens are not marked
MARKS: dict[str, tuple[str, str]] = {
    "wait": ("#ffd54f", "Wait forced by the decoder (the model had tried to end its thinking)"),
    "budget": ("#ef9a9a", "answer forced: the thinking budget was spent"),
    "end": ("#c5e1a5", "answer header written by the decoder after the model ended its thinking"),
}
AUTO = "auto"  # the budget slider's label for "no maximum: all that fits"


@dataclass
class TraceView:
    """One decoded trace: the settings, the completion (``output.pieces`` labels who wrote each run of tokens)
    and how it was graded."""

    question: str
    gold: str
    budget: int | None
    waits: int
    output: ForcedOutput
    answer: str
    correct: bool

    @property
    def forced(self) -> list[tuple[str, str]]:
        """The forced pieces in order: ``[(text, source), ...]``."""
        return [(text, source) for text, source in self.output.pieces if source != "model"]

    def summary(self) -> str:
        o = self.output
        budget = AUTO if self.budget is None else self.budget
        verdict = "correct" if self.correct else "wrong"
        return (f"budget {budget}, Wait x{self.waits}: {o.thinking_tokens} thinking tokens, {o.waits} Wait(s) forced, "
                f"thinking ended by {o.ended_by}; answer {self.answer.strip() or '(none)'} "
                f"(gold {self.gold}): {verdict}")

    def marked_text(self) -> str:
        """The completion with every forced piece in double brackets (the text form of the marks)."""
        return "".join(text if source == "model" else f"⟦{text}⟧" for text, source in self.output.pieces)

    def __str__(self) -> str:
        return f"{self.summary()}\n{self.question}\n{self.output.pieces and self.marked_text() or self.output.text}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        spans = []
        for text, source in self.output.pieces:
            if source == "model":
                spans.append(html.escape(text))
            else:
                colour, meaning = MARKS[source]
                spans.append(f"<span style='background:{colour};font-weight:bold' title='{html.escape(meaning)}'>"
                             f"{html.escape(text)}</span>")
        legend = " ".join(f"<span style='background:{c};padding:0 4px'>{html.escape(m)}</span>"
                          for c, m in MARKS.values())
        colour = "#1b5e20" if self.correct else "#b71c1c"
        return (f"<div><b style='color:{colour}'>{html.escape(self.summary())}</b><br>"
                f"<code>{html.escape(self.question)}</code>"
                f"<pre style='white-space:pre-wrap;line-height:1.35'>{''.join(spans)}</pre>"
                f"<small>marked: {legend}</small></div>")


class TraceExplorer:
    """One question decoded with budget forcing under any budget and Wait count (results kept per setting)."""

    def __init__(self, backend: HFBackend, question: str, gold: str, settings: ForcingSettings, *, seed: int = 0,
                 budgets: tuple[int, ...] = (), max_waits: int = 4):
        self.backend, self.question, self.gold = backend, question, str(gold)
        self.settings, self.seed = settings, seed
        self.budgets, self.max_waits = tuple(budgets), max_waits  # the sliders' marks (the recipe's sweeps)
        self.prompt = chat_prompts(backend.tokenizer, [question])[0]
        self._seen: dict[tuple, TraceView] = {}

    @property
    def max_budget(self) -> int:
        """The largest thinking budget that fits in ``max_new_tokens`` (the "auto" budget)."""
        return self.backend.thinking_budget(replace(self.settings, max_thinking_tokens=None))

    def decode(self, budget: int | None = None, waits: int = 0) -> TraceView:
        """The question decoded greedily with at most ``budget`` thinking tokens (None: auto) and ``waits`` forced
        Waits: the view function of both sliders."""
        from longthink.grading import grade

        if budget is not None and budget < 0:
            raise ValueError(f"the thinking budget must be >= 0 (or None for auto), got {budget}")
        if waits < 0:
            raise ValueError(f"the number of Waits must be >= 0, got {waits}")
        key = (budget, waits)
        if key not in self._seen:
            settings = replace(self.settings, max_thinking_tokens=budget, num_ignore=waits, temperature=0.0)
            out = self.backend.generate([self.prompt], settings, seed=self.seed)[0]
            answer = answer_text(out)
            self._seen[key] = TraceView(self.question, self.gold, budget, waits, out, answer,
                                        bool(grade(answer, self.gold)))
        return self._seen[key]

    def sliders(self, *, budgets: list[int] | None = None, max_waits: int | None = None) -> list[Slider]:
        """A budget slider (every 4 tokens up to the auto budget, plus ``budgets`` and auto) and a Wait slider (0 to
        ``max_waits``). The static fallback shows three of ``budgets`` (smallest, middle, largest) and the most Waits
        (defaults: the recipe's)."""
        budgets = list(self.budgets) if budgets is None else budgets
        max_waits = self.max_waits if max_waits is None else max_waits
        top = self.max_budget
        steps = sorted({b for b in (budgets or []) if 0 <= b < top} | set(range(0, top, 4)))
        options = tuple([*steps, (AUTO, None)])
        static = spread([b for b in budgets if b in steps])
        return [Slider("budget", "thinking budget", options, None, static=static),
                Slider("waits", "Waits forced", tuple(range(max_waits + 1)), 0, static=(max_waits,))]

    def show(self, *, budgets: list[int] | None = None, max_waits: int | None = None, display: bool = True) -> Panel:
        """The two sliders over :meth:`decode` (live in JupyterLab; a few fixed settings under papermill)."""
        return panel(self.decode, self.sliders(budgets=budgets, max_waits=max_waits),
                     title="s1 budget forcing on one question", show=display)


def telling_question(backend: HFBackend, questions: list[str], golds: list[str], settings: ForcingSettings, *,
                     small_budget: int, seed: int = 0) -> int:
    """The first question the model answers right with all the thinking it wants and wrong when cut to
    ``small_budget``: one on which the budget slider shows something (0 when there is none)."""
    from longthink.s1.baselines import score

    prompts = chat_prompts(backend.tokenizer, questions)
    free = score(backend.generate(prompts, replace(settings, max_thinking_tokens=None, temperature=0.0), seed=seed),
                 golds)
    cut = score(backend.generate(prompts, replace(settings, max_thinking_tokens=small_budget, temperature=0.0),
                                 seed=seed), golds)
    return next((i for i, (f, c) in enumerate(zip(free, cut)) if f and not c), 0)


def trace_explorer(ctx, model, *, question: int | None = None, search: int = 32) -> TraceExplorer:
    """A :class:`TraceExplorer` for the trained s1 model (a ``train`` stage's artefact) on question number
    ``question`` of the run's evaluation set (None: :func:`telling_question` among the first ``search``), with the
    evaluation's forcing settings and its budgets and Wait counts as the sliders' marks."""
    from longthink.models import load_causal_lm
    from longthink.s1.pipeline import eval_rows, forcing_settings, model_dir

    kit = ctx.settings("evaluate").kit
    rows = eval_rows(ctx, kit.eval_set)
    lm, tokenizer = load_causal_lm(model_dir(model))
    backend, settings = HFBackend(lm, tokenizer, batch_size=max(1, search)), forcing_settings(kit)
    if question is None:
        head = rows[:search]
        question = telling_question(backend, [r["question"] for r in head], [r["answer"] for r in head], settings,
                                    small_budget=min(kit.budgets, default=0), seed=ctx.seed)
    if not 0 <= question < len(rows):
        raise IndexError(f"question {question} is not in the evaluation set {kit.eval_set!r} ({len(rows)} questions)")
    return TraceExplorer(backend, rows[question]["question"], rows[question]["answer"], settings, seed=ctx.seed,
                         budgets=tuple(kit.budgets), max_waits=max(kit.waits, default=4))
