"""ThinkLogit's exercises (``longthink.exercises``): one step of z = T + alpha (G - B) with the warm-up, and the
Step-DPO cut of a preference pair. Each is checked against the function the kit itself runs."""

from __future__ import annotations

import random

from longthink.exercises import Exercise, close, exact
from longthink.thinklogit.dpo import cut_first_step
from longthink.thinklogit.guided import Guidance, combine_logits


# ------------------------------------------------------------------------------------------------- combine
def _combine(T, G, B, alpha, warmup, step) -> list[float]:
    import torch

    a = Guidance(alpha=alpha, warmup=warmup).alpha_at(step)
    z = combine_logits(torch.tensor(T), torch.tensor(G), torch.tensor(B), alpha=a)  # fp32, as in decoding
    return [round(v, 4) for v in z.tolist()]


def _logits(rng: random.Random, n: int) -> list[float]:
    return [round(rng.uniform(-6, 6), 2) for _ in range(n)]


def _combine_cases(rng: random.Random) -> list[tuple]:
    # (T, G, B, alpha, warmup, step)
    edge = [
        ([2.0, 1.0, 0.5], [0.0, 3.0, 1.0], [0.5, 0.5, 1.0], 1.0, 0, 0),          # guided from the first token
        ([2.0, 1.0, 0.5], [0.0, 3.0, 1.0], [0.5, 0.5, 1.0], 1.0, 2, 1),          # still in the warm-up: z = T
        ([2.0, 1.0, 0.5], [0.0, 3.0, 1.0], [0.5, 0.5, 1.0], 0.5, 2, 2),          # the first guided token
        ([1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 1.0, 1.0], [0.0, 2.0, 1.0], 2.0, 0, 5),  # T's padded head: no delta there
        ([0.0, 0.0], [1.0, -1.0], [1.0, -1.0], 3.0, 0, 0),                       # G = B: nothing changes
    ]
    rand = []
    for _ in range(50):
        v = rng.randint(2, 8)
        rand.append((_logits(rng, v + rng.choice([0, 0, 1, 3])), _logits(rng, v), _logits(rng, v),
                     rng.choice([0.0, 0.25, 0.5, 1.0, 1.5, 2.0]), rng.randint(0, 4), rng.randint(0, 6)))
    return edge + rand


# ------------------------------------------------------------------------------------------------ pair cut
OPS = {"+": lambda v, d: (v + d) % 10, "-": lambda v, d: (v - d) % 10, "*": lambda v, d: (v * d) % 10}


def _chain(rng: random.Random, n: int) -> tuple[int, list[tuple[str, str, int]]]:
    start = rng.randint(0, 9)
    return start, [(chr(ord("a") + i), rng.choice("+-*"), rng.choice([1, 2, 3, 4, 7, 9])) for i in range(n)]


def _lines(start: int, steps, slip: int | None = None, slip_operand: int = 0) -> str:
    v, out = start, []
    for i, (label, op, d) in enumerate(steps):
        operand = slip_operand if i == slip else d  # a misread operand; later steps follow from it
        new = OPS[op](v, operand)
        out.append(f"{label}{op}{operand}:{v}={new}\n")
        v = new
    return "".join(out) + f"Answer: {v}"


def _pair_cases(rng: random.Random) -> list[tuple]:
    # (prompt, chosen, rejected)
    prompt = "<|im_start|>user\nMix 3: a+4,b*3.<|im_end|>\n<|im_start|>assistant\n"
    edge = [
        (prompt, "a+4:3=7\nb*3:7=1\nAnswer: 1", "a+4:3=7\nb*3:7=2\nAnswer: 2"),  # they part in the second line
        (prompt, "a+4:3=7\nb*3:7=1\nAnswer: 1", "a+5:3=8\nb*3:8=4\nAnswer: 4"),  # the first line already differs
        (prompt, "a+4:3=7\nAnswer: 7", "a+4:3=7\nAnswer: 8"),                    # only the last line (no newline)
    ]
    rand = []
    for _ in range(40):
        start, steps = _chain(rng, rng.randint(1, 5))
        slip = rng.randrange(len(steps))
        wrong = (steps[slip][2] + rng.randint(1, 8)) % 10
        q = f"<|im_start|>user\nQ {rng.randint(0, 999)}<|im_end|>\n<|im_start|>assistant\n"
        rand.append((q, _lines(start, steps), _lines(start, steps, slip, wrong)))
    return edge + [c for c in rand if c[1] != c[2]]


EXERCISES: dict[str, Exercise] = {
    "thinklogit.combine": Exercise(
        name="thinklogit.combine",
        signature="combine(T, G, B, alpha, warmup, step)",
        task=("T, G and B are the next-token logits (lists of floats) of the target, the guider and the guider base "
              "at generated token number step (0-based). Return ThinkLogit's combined logits z as a list as long as "
              "T: z = T + a (G - B) on the first min(len(T), len(G), len(B)) columns and z = T on any column beyond "
              "(a padded head gets no delta), where a = 0 during the warm-up (step < warmup) and alpha after it."),
        reference=_combine,
        cases=_combine_cases,
        compare=close(1e-4),
        hint="a = 0.0 if step < warmup else alpha; n = min of the three lengths; z = list(T); z[i] += a * (G[i] - B[i]).",
        solution=(combine_logits, Guidance.alpha_at),
    ),
    "thinklogit.step_pair": Exercise(
        name="thinklogit.step_pair",
        signature="first_step_pair(prompt, chosen, rejected)",
        task=("chosen and rejected are two rollouts for the same prompt, one right and one wrong, written one step per "
              "line. Return the Step-DPO pair (the kit's pair cut 'first_step', beside whole rollouts: a pair that says "
              "only 'this step, not that one'), as a tuple (prompt2, chosen_line, rejected_line): prompt2 is the prompt followed by every whole line the two rollouts share, and "
              "chosen_line / rejected_line are the first line where they part, each with its newline if it has one."),
        reference=cut_first_step,
        cases=_pair_cases,
        compare=exact,
        hint=("count the characters the two strings share from the start; go back to the start of that line "
              "(just after the last newline before it); the line runs to its newline included."),
        solution=(cut_first_step,),
    ),
}
