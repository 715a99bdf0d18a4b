"""Insight-V's live controls: step through one reasoning chain and watch what the summary agent answers from it.

:class:`ChainExplorer` holds the trained summary agent and a few chains (:class:`ChainCase`): chains the reasoning
agent wrote for evaluation questions, and chains with one injected mistake (the world's chain teacher, as the
notebook's flawed-chain section uses). :meth:`ChainExplorer.view` is the view function of both sliders: it cuts the
chosen chain after its first ``steps`` steps, hands the cut chain with the question's image to the summary agent
(greedy, so only the chain changes between two positions), judges the answer, and returns a :class:`StepView`: the
steps shown, each marked against the world's faithful chain where there is one (agrees / first departure / after
it), the steps still hidden, the chain's own conclusion and the summary agent's answer and verdict. Zero steps is the
summary agent with an empty chain (what it sees in the image alone); the whole chain is what the two-agent system
answers. Tests call :meth:`view` directly; the notebook calls :meth:`ChainExplorer.show` (live sliders in JupyterLab,
a few fixed settings under papermill: ``longthink.widgets``).
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable, Sequence
from typing import Any

from longthink.insight_v.judge import JudgeItem, normalise
from longthink.insight_v.scorer import leading_agreement
from longthink.insight_v.steps import format_chain, steps_of_chain
from longthink.widgets import Panel, Slider, panel, spread

ALL = "all"  # the step slider's label for "the whole chain"

# step mark -> (background colour, what the legend says)
MARKS: dict[str, tuple[str, str]] = {
    "agrees": ("#c8e6c9", "agrees with the world's faithful chain"),
    "departs": ("#ef9a9a", "first step that departs from the faithful chain"),
    "after": ("#ffe0b2", "after the departure (follows from it)"),
    "unchecked": ("#eeeeee", "no faithful chain to compare with"),
}


@dataclasses.dataclass(frozen=True)
class ChainCase:
    """One chain to step through: the question row, the chain (``<thoughts>`` ... ``</thoughts>``), where it comes
    from, and the chain's own conclusion when it is known (a flawed chain's)."""

    label: str
    question: dict[str, Any]
    chain: str
    source: str
    chain_answer: str | None = None


@dataclasses.dataclass
class StepView:
    """The chain cut after ``shown`` of its steps, and the summary agent's answer to it."""

    case: ChainCase
    shown: int
    steps: list[dict[str, str]]
    marks: list[str]
    output: str
    answer: str
    correct: bool

    @property
    def total(self) -> int:
        return len(self.steps)

    @property
    def whole(self) -> bool:
        return self.shown == self.total

    @property
    def copies_chain(self) -> bool | None:
        """Whether the summary agent's answer is the chain's own conclusion (None when that is unknown)."""
        if self.case.chain_answer is None or not self.whole:
            return None
        return normalise(self.answer) == normalise(self.case.chain_answer)

    def summary(self) -> str:
        q = self.case.question
        verdict = "correct" if self.correct else "wrong"
        seen = "the whole chain" if self.whole else f"{self.shown} of {self.total} steps"
        text = (f"{self.case.label}: the summary agent read {seen} and answers {self.answer or '(nothing)'!r} "
                f"(gold {q['answer']!r}): {verdict}")
        if self.copies_chain is not None:
            text += (f"; the chain concludes {self.case.chain_answer!r}, so the agent "
                     f"{'copied it' if self.copies_chain else 'did not copy it'}")
        return text

    def step_lines(self) -> list[str]:
        return [f"{s['title']}: {s['content']}" if s.get("title") else s.get("content", "") for s in self.steps]

    def __str__(self) -> str:
        lines = self.step_lines()
        body = [f"{i + 1}. [{m}] {line}" for i, (m, line) in enumerate(zip(self.marks, lines[: self.shown]))]
        hidden = len(lines) - self.shown
        tail = [f"... {hidden} more step(s) not shown to the summary agent"] if hidden else []
        return "\n".join([self.summary(), self.case.question["question"], *body, *tail])

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        rows = []
        for i, line in enumerate(self.step_lines()):
            if i < self.shown:
                colour, meaning = MARKS[self.marks[i]]
                rows.append(f"<li style='background:{colour}' title='{html.escape(meaning)}'>{html.escape(line)}</li>")
            else:
                rows.append(f"<li style='color:#9e9e9e'>{html.escape(line)} <i>(not shown to the agent)</i></li>")
        legend = " ".join(f"<span style='background:{c};padding:0 4px'>{html.escape(m)}</span>"
                          for key, (c, m) in MARKS.items() if key in self.marks)
        colour = "#1b5e20" if self.correct else "#b71c1c"
        return (f"<div><b style='color:{colour}'>{html.escape(self.summary())}</b><br>"
                f"<code>{html.escape(self.case.question['question'])}</code> <small>({html.escape(self.case.source)})"
                f"</small><ol style='line-height:1.5'>{''.join(rows) or '<i>(an empty chain)</i>'}</ol>"
                f"<small>summary agent's raw output: <code>{html.escape(self.output)}</code><br>{legend}</small></div>")


def step_marks(steps: Sequence[dict[str, str]], gold: Sequence[dict[str, str]] | None) -> list[str]:
    """One mark per step: ``agrees`` up to the first step that differs from ``gold`` (the scorer's reading),
    ``departs`` for that step, ``after`` for the rest; ``unchecked`` everywhere when there is no gold chain."""
    if gold is None:
        return ["unchecked"] * len(steps)
    agree = leading_agreement(steps, gold)
    return ["agrees" if i < agree else "departs" if i == agree else "after" for i in range(len(steps))]


class ChainExplorer:
    """The summary agent on a few chains, each cut after any number of steps (answers kept per setting).

    ``answer_fn(question, chain) -> raw output`` asks the summary agent (with the question's image);
    ``judge`` has the assessment's ``judge([JudgeItem]) -> [bool]``; ``gold_of(question)`` gives the world's faithful
    steps (None: no marks).
    """

    def __init__(self, cases: Sequence[ChainCase], answer_fn: Callable[[dict, str], str], judge, *,
                 gold_of: Callable[[dict], Sequence[dict]] | None = None):
        if not cases:
            raise ValueError("ChainExplorer needs at least one chain to step through")
        self.cases, self.answer_fn, self.judge, self.gold_of = list(cases), answer_fn, judge, gold_of
        self._steps = [steps_of_chain(c.chain) for c in self.cases]
        self._seen: dict[tuple[int, int], StepView] = {}

    @property
    def max_steps(self) -> int:
        return max(len(s) for s in self._steps)

    def view(self, case: int = 0, steps: int | None = None) -> StepView:
        """Chain ``case`` cut after ``steps`` steps (None: the whole chain; more than it has: the whole chain),
        answered by the summary agent and judged: the view function of both sliders."""
        if not 0 <= case < len(self.cases):
            raise IndexError(f"chain {case} is not one of the {len(self.cases)} chains (0..{len(self.cases) - 1})")
        all_steps = self._steps[case]
        if steps is not None and steps < 0:
            raise ValueError(f"the number of steps shown must be >= 0 (or None for the whole chain), got {steps}")
        shown = len(all_steps) if steps is None else min(steps, len(all_steps))
        key = (case, shown)
        if key not in self._seen:
            c = self.cases[case]
            from longthink.insight_v.inference import extract_answer

            output = self.answer_fn(c.question, format_chain(all_steps[:shown]))
            answer = extract_answer(output)
            q = c.question
            ok = self.judge.judge([JudgeItem(q["question"], q["answer"], answer, q.get("kind"))])[0]
            gold = self.gold_of(q) if self.gold_of is not None else None
            self._seen[key] = StepView(c, shown, all_steps, step_marks(all_steps, gold)[:shown], output, answer,
                                       bool(ok))
        return self._seen[key]

    def sliders(self) -> list[Slider]:
        """A chain slider (the cases by label) and a step slider (0 to the longest chain, then *all*). The static
        fallback shows every chain whole, and the first chain after none, half and all of its steps."""
        cases = tuple((c.label, i) for i, c in enumerate(self.cases))
        first = len(self._steps[0])
        options = tuple([*range(self.max_steps + 1), (ALL, None)])
        static = tuple(s for s in spread(range(first + 1)) if s != first)
        return [Slider("case", "chain", cases, 0, static=tuple(range(1, len(self.cases)))),
                Slider("steps", "steps shown", options, None, static=static)]

    def show(self, *, display: bool = True) -> Panel:
        """The two sliders over :meth:`view` (live in JupyterLab; a few fixed settings under papermill)."""
        return panel(self.view, self.sliders(), title="Insight-V: the summary agent on a chain, step by step",
                     show=display)


# ------------------------------------------------------------------------------------------------ from a run
def pick_cases(answers: Sequence, questions: dict[str, dict], flawed: Sequence[dict] = (), *,
               kinds: Sequence[str] | None = None, n_agent: int = 2, n_flawed: int = 2) -> list[ChainCase]:
    """Chains worth stepping through: up to ``n_agent`` two-agent answers (a right one first, then a wrong one) on
    questions of ``kinds``, and up to ``n_flawed`` flawed chains (a wrong chain first)."""
    agent = [a for a in answers if a.system == "two_agents" and a.chain
             and (kinds is None or questions[a.question_id]["kind"] in kinds)]
    right, wrong = [a for a in agent if a.correct], [a for a in agent if not a.correct]
    picked = right[:1] + wrong[:1]
    picked = (picked + [a for a in agent if a not in picked])[:n_agent]
    cases = [ChainCase(f"agent chain, {questions[a.question_id]['kind']} ({a.question_id})",
                       questions[a.question_id], a.chain, "written by the reasoning agent") for a in picked]
    ordered = sorted(flawed, key=lambda f: bool(f["chain_correct"]))
    cases += [ChainCase(f"flawed chain, {f['error']} ({f['question_id']})", questions[f["question_id"]], f["chain"],
                        f"the world's chain with one injected mistake: {f['error']}", str(f["chain_answer"]))
              for f in ordered[:n_flawed]]
    return cases


def chain_explorer(ctx, questions: dict, evaluation: dict, summary: dict, *, n_agent: int = 2,
                   n_flawed: int = 2) -> ChainExplorer:
    """A :class:`ChainExplorer` for a run: the trained summary agent (``agents["summary"]``), two of the evaluation's
    two-agent chains on reasoning kinds and, in the world, two chains with one injected mistake; greedy decoding, the
    run's judge, and the world's faithful chains for the step marks."""
    from longthink.insight_v import pipeline
    from longthink.insight_v.evaluate import flawed_chains
    from longthink.insight_v.inference import summarise
    from longthink.insight_v.questions import REASONING, kind_groups

    ev, summ = ctx.settings("eval").kit, ctx.settings("summary_sft").kit
    scenes, chains = questions["modules"].get("scenes"), questions["modules"].get("chains")
    kinds = kind_groups(scenes)[REASONING] if scenes is not None else None
    flawed = []
    if chains is not None and n_flawed:
        qs = [q for q in questions["splits"]["eval"] if kinds is None or q["kind"] in kinds]
        flawed = flawed_chains(qs, chains, per_kind=1, seed=ctx.seed, keep_answer_step=summ.keep_answer_step,
                               plan_step=ctx.settings("generate").kit.plan_step)
    cases = pick_cases(evaluation["answers"], questions["by_id"], flawed, kinds=kinds, n_agent=n_agent,
                       n_flawed=n_flawed)
    with pipeline._threads(ctx):
        model, processor = pipeline._load(summary["path"], ctx)
    sampling = dataclasses.replace(pipeline._sampling(ev, "summary"), temperature=0.0)

    def answer(question: dict, chain: str) -> str:
        with pipeline._threads(ctx):
            return summarise(model, processor, [question], [chain], questions["image_fn"],
                             instruction=summ.summary_instruction, sampling=sampling, batch_size=1, seed=ctx.seed)[0]

    scorer = pipeline._scorer(ctx, questions, keep_answer_step=summ.keep_answer_step)
    return ChainExplorer(cases, answer, pipeline._judge(ctx, questions), gold_of=getattr(scorer, "gold", None))
