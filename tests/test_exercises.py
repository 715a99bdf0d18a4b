"""Exercises: every checker passes the kit's own solution and fails deliberately wrong ones; verdicts never raise."""

from __future__ import annotations

import math

import pytest

from longthink import exercises
from longthink.exercises import ExerciseError


# ---------------------------------------------------------------------------------------- wrong solutions
def _rank_shortest_first(lengths):
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    return [0.5 ** order.index(i) for i in range(len(lengths))]


def _harmonic(lengths):
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    return [1 / (order.index(i) + 1) for i in range(len(lengths))]


def _ties_later_first(lengths):
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], -i))
    return [0.5 ** order.index(i) for i in range(len(lengths))]


def _wait_ignores_fit(thinking_tokens, wants_to_end, waits_left, min_thinking_tokens, budget, wait_tokens):
    if thinking_tokens >= budget:
        return "cut"
    if not wants_to_end:
        return "continue"
    return "wait" if waits_left > 0 or thinking_tokens < min_thinking_tokens else "end"


def _wait_ignores_minimum(thinking_tokens, wants_to_end, waits_left, min_thinking_tokens, budget, wait_tokens):
    if thinking_tokens >= budget:
        return "cut"
    if not wants_to_end:
        return "continue"
    return "wait" if waits_left > 0 and thinking_tokens + wait_tokens <= budget else "end"


def _wait_end_before_budget(thinking_tokens, wants_to_end, waits_left, min_thinking_tokens, budget, wait_tokens):
    if wants_to_end:
        fits = thinking_tokens + wait_tokens <= budget
        return "wait" if (waits_left > 0 or thinking_tokens < min_thinking_tokens) and fits else "end"
    return "cut" if thinking_tokens >= budget else "continue"


def _slopes(points, x, y, pairs):
    pts = sorted((x(t), y(a)) for t, a in points)
    slopes = [(fb - fa) / (xb - xa) for (xa, fa), (xb, fb) in pairs(pts) if xb - xa > 1e-12]
    return sum(slopes) / len(slopes) if slopes else None


def _all_pairs(pts):
    return [(p, q) for i, p in enumerate(pts) for q in pts[i + 1:]]


def _scaling_linear_tokens(points):
    return _slopes(points, float, lambda a: 100 * a, _all_pairs)


def _scaling_consecutive(points):
    return _slopes(points, math.log2, lambda a: 100 * a, lambda pts: list(zip(pts, pts[1:])))


def _scaling_fraction(points):
    return _slopes(points, math.log2, float, _all_pairs)


def _combine_no_warmup(T, G, B, alpha, warmup, step):
    n = min(len(T), len(G), len(B))
    return [t + alpha * (G[i] - B[i]) if i < n else t for i, t in enumerate(T)]


def _combine_truncated(T, G, B, alpha, warmup, step):
    a = 0.0 if step < warmup else alpha
    return [t + a * (g - b) for t, g, b in zip(T, G, B)]


def _combine_base_minus_guider(T, G, B, alpha, warmup, step):
    a = 0.0 if step < warmup else alpha
    n = min(len(T), len(G), len(B))
    return [t + a * (B[i] - G[i]) if i < n else t for i, t in enumerate(T)]


def _common_prefix(a, b):
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _pair_at_character(prompt, chosen, rejected):
    n = _common_prefix(chosen, rejected)
    return prompt + chosen[:n], chosen[n:], rejected[n:]


def _pair_without_newline(prompt, chosen, rejected):
    start = chosen.rfind("\n", 0, _common_prefix(chosen, rejected)) + 1
    end_c, end_r = chosen.find("\n", start), rejected.find("\n", start)
    return (prompt + chosen[:start], chosen[start:end_c if end_c >= 0 else None],
            rejected[start:end_r if end_r >= 0 else None])


def _route_with(paths, high, mid, per_question, *, keep, key, high_at=lambda s, h: s >= h):
    tiers = ["High" if high_at(p["score"], high) else "Mid" if p["score"] >= mid else "Low" for p in paths]
    groups = {}
    for p, t in zip(paths, tiers):
        groups.setdefault(p["question_id"], []).append((p, t))
    reasoning = []
    for group in groups.values():
        good = sorted((p for p, t in group if keep(p, t)), key=key)
        reasoning += [(p["question_id"], p["index"]) for p in good[:per_question]]
    return {"tiers": tiers, "reasoning": reasoning}


def _route_correct_only(paths, high, mid, per_question):  # forgets the tier: a lucky correct path gets in
    return _route_with(paths, high, mid, per_question, keep=lambda p, t: p["correct"],
                       key=lambda p: (-p["score"], p["index"]))


def _route_ties_later(paths, high, mid, per_question):
    return _route_with(paths, high, mid, per_question, keep=lambda p, t: p["correct"] and t == "High",
                       key=lambda p: (-p["score"], -p["index"]))


def _route_strict_cutoff(paths, high, mid, per_question):  # High above the cut-off, not at it
    return _route_with(paths, high, mid, per_question, keep=lambda p, t: p["correct"] and t == "High",
                       key=lambda p: (-p["score"], p["index"]), high_at=lambda s, h: s > h)


def _pairs_with(candidates, pairs_per_question, *, rejected_of, skip_same=True):
    groups = {}
    for c in candidates:
        groups.setdefault(c["question_id"], []).append(c)
    out = []
    for qid, group in groups.items():
        right = sorted((c for c in group if c["correct"]), key=lambda c: (-c["score"], c["sample"]))
        if not right:
            continue
        made = 0
        for chosen, rejected in zip(right, rejected_of(group, right)):
            if made >= pairs_per_question:
                break
            if skip_same and chosen["chain"] == rejected["chain"]:
                continue
            out.append((qid, chosen["chain"], rejected["chain"]))
            made += 1
    return out


def _wrong_then_lows(group, right):
    wrong = sorted((c for c in group if not c["correct"]), key=lambda c: (c["score"], c["sample"]))
    return wrong + sorted((c for c in right[1:] if c["score"] < right[0]["score"]), key=lambda c: (c["score"], c["sample"]))


def _pairs_lowest_regardless(candidates, pairs_per_question):  # rejects the lowest score, right or wrong
    return _pairs_with(candidates, pairs_per_question, rejected_of=lambda g, r: [
        c for c in sorted(g, key=lambda c: (c["score"], c["sample"])) if c is not r[0]])


def _pairs_keep_identical(candidates, pairs_per_question):
    return _pairs_with(candidates, pairs_per_question, rejected_of=_wrong_then_lows, skip_same=False)


def _pairs_equal_scores_contrast(candidates, pairs_per_question):  # all correct: pairs even an equal score
    return _pairs_with(candidates, pairs_per_question, rejected_of=lambda g, r: [
        *sorted((c for c in g if not c["correct"]), key=lambda c: (c["score"], c["sample"])),
        *sorted(r[1:], key=lambda c: (c["score"], c["sample"]))])


def _box_area(b):
    return max(0, b[2] - b[0]) * max(0, b[3] - b[1])


def _inter(a, b):
    return [max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])]


def _iou(a, b):
    i = _box_area(_inter(a, b))
    u = _box_area(a) + _box_area(b) - i
    return i / u if u else 0.0


def _tac_answer_gold_only(think_box, answer_box, gold):  # plain IoU: right answers pay whatever the reasoning
    return 0.0 if answer_box is None or think_box is None else _iou(answer_box, gold)


def _tac_hull_union(think_box, answer_box, gold):  # the union as the hull of the three boxes
    if answer_box is None or think_box is None:
        return 0.0
    boxes = (think_box, answer_box, gold)
    hull = [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]
    inter = _box_area(_inter(_inter(think_box, answer_box), gold))
    return inter / _box_area(hull) if _box_area(hull) else 0.0


def _tac_mean_pairwise(think_box, answer_box, gold):
    if answer_box is None or think_box is None:
        return 0.0
    return (_iou(think_box, answer_box) + _iou(answer_box, gold) + _iou(think_box, gold)) / 3


def _ads_rank(mean_rewards, p_lo, p_hi, w_min):  # ECDF as "share at or below": ties at their top rank
    n = len(mean_rewards)
    return [1.0 if p_lo <= sum(v <= r for v in mean_rewards) / n <= p_hi else w_min for r in mean_rewards]


def _ads_open_band(mean_rewards, p_lo, p_hi, w_min):
    n = len(mean_rewards)
    pos = [(sum(v < r for v in mean_rewards) + 0.5 * sum(v == r for v in mean_rewards)) / n for r in mean_rewards]
    return [1.0 if p_lo < p < p_hi else w_min for p in pos]


def _ads_favours_extremes(mean_rewards, p_lo, p_hi, w_min):
    n = len(mean_rewards)
    pos = [(sum(v < r for v in mean_rewards) + 0.5 * sum(v == r for v in mean_rewards)) / n for r in mean_rewards]
    return [w_min if p_lo <= p <= p_hi else 1.0 for p in pos]


def _given(original, max_pixels, *, rounding=round):
    w, h = original
    hb, wb = max(28, rounding(h / 28) * 28), max(28, rounding(w / 28) * 28)
    if hb * wb > max_pixels:
        beta = math.sqrt(h * w / max_pixels)
        hb, wb = max(28, math.floor(h / beta / 28) * 28), max(28, math.floor(w / beta / 28) * 28)
    return wb, hb


def _map_swapped(box, original, max_pixels):  # x scaled by the heights
    wb, hb = _given(original, max_pixels)
    w, h = original
    return [box[0] * h / hb, box[1] * w / wb, box[2] * h / hb, box[3] * w / wb]


def _map_unchanged(box, original, max_pixels):  # forgets the resize
    return [float(v) for v in box]


def _map_floor_always(box, original, max_pixels):  # floors where smart_resize rounds
    wb, hb = _given(original, max_pixels, rounding=math.floor)
    w, h = original
    return [box[0] * w / wb, box[1] * h / hb, box[2] * w / wb, box[3] * h / hb]


WRONG = {
    "s1.diversity": [_rank_shortest_first, _harmonic, _ties_later_first],
    "s1.wait_rule": [_wait_ignores_fit, _wait_ignores_minimum, _wait_end_before_budget],
    "s1.scaling": [_scaling_linear_tokens, _scaling_consecutive, _scaling_fraction],
    "thinklogit.combine": [_combine_no_warmup, _combine_truncated, _combine_base_minus_guider],
    "thinklogit.step_pair": [_pair_at_character, _pair_without_newline],
    "insight_v.route": [_route_correct_only, _route_ties_later, _route_strict_cutoff],
    "insight_v.dpo_pair": [_pairs_lowest_regardless, _pairs_keep_identical, _pairs_equal_scores_contrast],
    "taco.triple_iou": [_tac_answer_gold_only, _tac_hull_union, _tac_mean_pairwise],
    "taco.ads_weights": [_ads_rank, _ads_open_band, _ads_favours_extremes],
    "taco.map_back": [_map_swapped, _map_unchanged, _map_floor_always],
}


# ----------------------------------------------------------------------------------------------------- tests
@pytest.mark.parametrize("paper", ["s1", "thinklogit", "insight_v", "taco"])
def test_every_paper_notebook_has_at_least_two_exercises(paper):
    assert len(exercises.names(paper)) >= 2


def test_every_exercise_has_wrong_solutions_here():
    assert set(exercises.names()) <= set(WRONG), f"add deliberately wrong solutions for {set(exercises.names()) - set(WRONG)}"


@pytest.mark.parametrize("name", exercises.names())
def test_the_reference_solution_passes(name):
    verdict = exercises.check(name, exercises.solution(name))
    assert verdict.passed and verdict.status == "correct" and verdict.n_failed == 0, str(verdict)
    assert verdict.n_cases >= 20
    assert exercises.check(name, exercises.solution(name), strict=True)


@pytest.mark.parametrize("name,wrong", [(n, w) for n, ws in WRONG.items() for w in ws],
                         ids=lambda x: getattr(x, "__name__", x))
def test_a_wrong_solution_fails_with_a_readable_verdict(name, wrong):
    verdict = exercises.check(name, wrong)
    assert not verdict.passed and verdict.status == "wrong" and verdict.n_failed > 0
    text = str(verdict)
    assert text.startswith(f"[wrong] {name}") and "the kit's answer is" in text and "returned" in text
    with pytest.raises(AssertionError, match=r"\[wrong\]"):
        exercises.check(name, wrong, strict=True)


@pytest.mark.parametrize("name", exercises.names())
def test_the_stub_reports_not_attempted_with_the_task_and_an_example(name):
    verdict = exercises.check(name, exercises.stub(name))
    assert verdict.status == "not attempted" and not verdict
    text = str(verdict)
    exercise = exercises.get(name)
    assert exercise.signature in text and "Example:" in text and "solution_source" in text
    assert "<pre" in verdict._repr_html_()


def test_a_function_that_raises_is_an_error_verdict_not_a_crash():
    verdict = exercises.check("s1.diversity", lambda lengths: 1 / 0)
    assert verdict.status == "error" and verdict.n_failed == verdict.n_cases
    assert "ZeroDivisionError" in str(verdict) and "Hint:" in str(verdict)
    verdict = exercises.check("s1.diversity", lambda: None)  # wrong arity
    assert verdict.status == "error" and "TypeError" in str(verdict)


def test_the_student_cannot_change_the_cases_the_reference_sees():
    def mutating(lengths):
        answer = exercises.solution("s1.diversity")(lengths)
        lengths.clear()
        return answer

    assert exercises.check("s1.diversity", mutating).passed


def test_results_as_numpy_or_torch_are_accepted():
    import numpy as np
    import torch

    ref = exercises.solution("thinklogit.combine")
    assert exercises.check("thinklogit.combine", lambda *a: np.array(ref(*a))).passed
    assert exercises.check("thinklogit.combine", lambda *a: torch.tensor(ref(*a))).passed


def test_bad_names_and_arguments_name_the_problem():
    with pytest.raises(ExerciseError, match=r"unknown exercise 's1.nope'; known exercises: .*s1.diversity"):
        exercises.check("s1.nope", print)
    with pytest.raises(ExerciseError, match="needs a function, got int"):
        exercises.check("s1.diversity", 3)


def test_help_texts():
    assert "2^-r" in str(exercises.show("s1.diversity"))
    assert "def rank_weights" in str(exercises.solution_source("s1.diversity"))
    assert "def forcing_action" in str(exercises.solution_source("s1.wait_rule"))
    assert "def route" in str(exercises.solution_source("insight_v.route"))
    assert "def build_pairs" in str(exercises.solution_source("insight_v.dpo_pair"))
    assert "def triple_iou" in str(exercises.solution_source("taco.triple_iou"))
    assert "def ecdf_midrank" in str(exercises.solution_source("taco.ads_weights"))
    assert str(exercises.hint("thinklogit.combine"))
    assert len(exercises.cases("s1.scaling")) == exercises.check("s1.scaling", exercises.solution("s1.scaling")).n_cases


def test_rank_weights_is_what_the_diversity_draw_uses():
    from longthink.s1.curation import diversity_sample, rank_weights

    assert rank_weights([5, 9, 2, 9]) == [0.25, 1.0, 0.125, 0.5]
    # one domain: the draw follows the weights (longest first with weight 1/2 of the total, ...)
    rows = [{"domain": "d", "trace_length": n} for n in (5, 9, 2, 9)]
    firsts = [diversity_sample(rows, 1, seed=s)[0] for s in range(400)]
    share = {i: firsts.count(i) / len(firsts) for i in range(4)}
    assert share[1] > share[3] > share[0] > share[2]
