"""s1's exercises (``longthink.exercises``): the 2^-rank diversity draw, the budget-forcing rule for when to
append Wait, and the Scaling metric. Each is checked against the function the kit itself runs."""

from __future__ import annotations

import random

from longthink.exercises import Exercise, close, exact, proportional
from longthink.s1.budget_forcing import ACTIONS, forcing_action
from longthink.s1.curation import rank_weights
from longthink.s1.metrics import RunPoint, scaling


# ----------------------------------------------------------------------------------------------- diversity
def _diversity_cases(rng: random.Random) -> list[tuple]:
    edge = [([5, 9, 2],), ([7],), ([3, 9],), ([9, 3],), ([4, 4, 4],), ([2, 9, 9, 4],), ([1, 2, 3, 4, 5, 6],)]
    rand = [([rng.randint(1, 12) for _ in range(rng.randint(1, 9))],) for _ in range(60)]
    return edge + rand


# ---------------------------------------------------------------------------------------------- wait rule
def _decide(thinking_tokens, wants_to_end, waits_left, min_thinking_tokens, budget, wait_tokens) -> str:
    return forcing_action(thinking_tokens=thinking_tokens, wants_to_end=wants_to_end, waits_left=waits_left,
                          min_thinking_tokens=min_thinking_tokens, budget=budget, wait_tokens=wait_tokens)


def _wait_cases(rng: random.Random) -> list[tuple]:
    # (thinking_tokens, wants_to_end, waits_left, min_thinking_tokens, budget, wait_tokens)
    edge = [
        (10, True, 2, 0, 100, 1),   # a Wait is left: append it
        (10, False, 2, 0, 100, 1),  # the model goes on: nothing to force
        (10, True, 0, 0, 100, 1),   # no Wait left: let it end
        (10, True, 0, 20, 100, 1),  # below the minimum: Wait even with none left
        (100, False, 0, 0, 100, 1),  # the budget is spent: cut, whatever the model wants
        (100, True, 3, 0, 100, 1),
        (98, True, 1, 0, 100, 2),   # the Wait just fits
        (99, True, 1, 0, 100, 2),   # the Wait would overrun the budget: end instead
        (0, True, 0, 0, 0, 1),      # a zero budget cuts at once
    ]
    rand = []
    for _ in range(80):
        budget = rng.randint(0, 40)
        rand.append((rng.randint(0, budget + 2), rng.random() < 0.6, rng.randint(0, 3), rng.choice([0, 0, 5, 20]),
                     budget, rng.randint(1, 3)))
    return edge + rand


# ------------------------------------------------------------------------------------------------ scaling
def _scaling(points) -> float | None:
    return scaling([RunPoint("method", str(i), float(tokens), float(acc)) for i, (tokens, acc) in enumerate(points)])


def _scaling_cases(rng: random.Random) -> list[tuple]:
    edge = [
        ([(100, 0.3), (200, 0.5)],),            # one doubling, +20 points
        ([(100, 0.5)],),                        # one run: no slope
        ([(64, 0.4), (64, 0.6)],),              # same tokens: no slope
        ([(400, 0.6), (100, 0.2), (200, 0.5)],),  # unordered input
        ([(100, 0.6), (800, 0.3)],),            # inverse scaling: negative
        ([(50, 0.1), (100, 0.3), (100, 0.2), (400, 0.4)],),
    ]
    rand = []
    for _ in range(40):
        n = rng.randint(2, 6)
        rand.append(([(rng.choice([8, 16, 24, 32, 48, 64, 96, 128, 200]), round(rng.random(), 3)) for _ in range(n)],))
    return edge + rand


EXERCISES: dict[str, Exercise] = {
    "s1.diversity": Exercise(
        name="s1.diversity",
        signature="diversity_weights(lengths)",
        task=("lengths[i] is the thinking-trace length (in tokens) of question i of one domain. Return the weight with "
              "which s1's diversity step draws each question: rank the questions by length, longest first (rank 0; "
              "of two equal lengths the earlier question ranks first) and give rank r the weight 2^-r. Any common "
              "scale is accepted: the draw normalises the weights."),
        reference=rank_weights,
        cases=_diversity_cases,
        compare=proportional(),
        hint="sort the positions by (-length, position); the position at rank r gets 0.5 ** r.",
        solution=(rank_weights,),
    ),
    "s1.wait_rule": Exercise(
        name="s1.wait_rule",
        signature="decide(thinking_tokens, wants_to_end, waits_left, min_thinking_tokens, budget, wait_tokens)",
        task=("Budget forcing looks at every token the model proposes while it thinks. Return what the decoder does, "
              f"one of {list(ACTIONS)}: 'cut' once the thinking has used its budget (force the answer), 'continue' "
              "while the model goes on thinking, and when the model tries to end its thinking (wants_to_end): 'wait' "
              "if Waits are left to force or it has thought less than min_thinking_tokens, as long as the Wait "
              "(wait_tokens long) still fits in the budget; otherwise 'end'."),
        reference=_decide,
        cases=_wait_cases,
        compare=exact,
        hint="check the budget first, then whether the model wants to stop, then whether a Wait is owed and fits.",
        solution=(forcing_action,),
    ),
    "s1.scaling": Exercise(
        name="s1.scaling",
        signature="scaling(points)",
        task=("points is a list of (average thinking tokens, accuracy in 0..1), one per evaluation run of a method. "
              "Return s1's Scaling metric: over every pair of runs a, b with fewer tokens in a than in b, the slope "
              "(accuracy_b - accuracy_a) / (log2 tokens_b - log2 tokens_a) with accuracy in points (0-100), averaged "
              "over the pairs; None when no pair has different token counts."),
        reference=_scaling,
        cases=_scaling_cases,
        compare=close(1e-6),
        hint="sort by tokens; x = log2(tokens), y = 100 * accuracy; skip pairs with equal x; mean of the slopes.",
        solution=(scaling,),
    ),
}
