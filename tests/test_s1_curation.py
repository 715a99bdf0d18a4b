"""s1K curation: 8-gram decontamination and dedup, the quality patterns, difficulty, 2^-rank diversity, ablations."""

from __future__ import annotations

from collections import Counter

import pytest

from longthink.s1.curation import (
    CurationError,
    curate,
    decontaminate,
    diversity_sample,
    quality_flags,
    word_ngrams,
)

LONG_EVAL = "Find the number of ordered pairs of positive integers whose product is a perfect square"


def test_word_ngrams_normalise_and_short_texts():
    assert word_ngrams("A  b\nC", 8) == {("a", "b", "c")}
    assert len(word_ngrams(" ".join(str(i) for i in range(10)), 8)) == 3
    assert word_ngrams("", 8) == set()


def test_decontamination_drops_overlap_and_later_duplicates():
    pool = [
        "Prove that " + LONG_EVAL.upper() + " holds.",  # shares an 8-gram with the eval question (case-insensitive)
        "Mix 3: a+4,b*3.",
        "mix   3: a+4,b*3.",  # a duplicate after normalisation: kept questions join the set
        "Tally 1: a+2.",
        "Mix 3: a+4,b*3,c-2.",  # a longer question sharing a prefix is not a duplicate (3 words < 8: whole text)
    ]
    keep, counts = decontaminate(pool, [LONG_EVAL, "Tally 1: a+2."], n=8)
    assert keep == [False, True, False, False, True]
    assert counts == {"contaminated": 2, "duplicate": 1}


@pytest.mark.parametrize("text,flag", [
    ("![Image](f.png) What is x?", "image"),
    ("Draw [asy]draw((0,0));[/asy]", "asy"),
    ("p12. Mix 3: a+4.", "p_label"),
    ("**Step**3 a:1+2=3", "bold_digit"),
    ("a:1+2=3\n**", "lone_bold"),
])
def test_quality_patterns(text, flag):
    row = {"question": text, "thinking_trajectories": ["a:1+2=3"], "attempt": "3", "source_type": "world/mix"}
    assert flag in quality_flags(row)


def test_quality_missing_fields_and_aime_asy_exemption():
    assert quality_flags({"question": "q", "thinking_trajectories": ["t"], "attempt": None}) == ["missing_attempt"]
    aime = {"question": "[asy]draw;[/asy] find x", "thinking_trajectories": ["t"], "attempt": "1",
            "source_type": "qq8933/AIME_1983_2024"}
    assert quality_flags(aime) == []
    assert quality_flags({"question": "Mix 3: a+4.", "thinking_trajectories": ["a:3+4=7"], "attempt": "7"}) == []


def test_diversity_sample_is_seeded_uniform_over_domains_and_prefers_long():
    rows = [{"domain": d, "trace_length": n} for d in "abcd" for n in range(50)]
    picks = diversity_sample(rows, 40, seed=42)
    assert picks == diversity_sample(rows, 40, seed=42) and len(set(picks)) == 40
    per_domain = Counter(rows[i]["domain"] for i in picks)
    assert min(per_domain.values()) >= 5  # a uniform domain choice
    assert sum(rows[i]["trace_length"] for i in picks) / 40 > 40  # 2^-rank: mostly the longest traces
    uniform = diversity_sample(rows, 40, seed=42, weighted=False)
    assert sum(rows[i]["trace_length"] for i in uniform) / 40 < 35
    with pytest.raises(CurationError, match="cannot pick 500"):
        diversity_sample(rows, 500, seed=0)


def test_diversity_drops_emptied_domains():
    rows = [{"domain": "small", "trace_length": 1}] + [{"domain": "big", "trace_length": i} for i in range(20)]
    assert len(diversity_sample(rows, 21, seed=0)) == 21


def _pool(n=120):
    import random

    from longthink.text_world.tasks import sample_problems
    from longthink.text_world.teacher import long_trace

    rng = random.Random(0)
    rows = []
    for i, p in enumerate(sample_problems(n, seed=3, difficulties=[1, 2, 3, 4])):
        t = long_trace(p, rng)
        rows.append({"question": p.question, "solution": f"\\boxed{{{p.answer}}}", "answer": p.answer,
                     "source_type": f"world/{p.domain}", "metadata": '{"subject": "%s"}' % p.domain,
                     "thinking_trajectories": [t["thinking"]], "attempt": t["attempt"], "difficulty": p.difficulty})
    rows[0]["attempt"] = None
    return rows


def test_curate_funnel_and_ablation_sets(tiny_tokenizer):
    pool = _pool()
    # difficulty results given (no generation in a unit test): "small" solves difficulty 1, "big" difficulty <= 2
    solved = {"small": [], "big": []}
    from longthink.s1.curation import decontaminate as dec

    keep, _ = dec([r["question"] for r in pool], [pool[5]["question"]])
    kept = [r for r, k in zip(pool, keep) if k and r["attempt"] is not None]
    solved = {"small": [r["difficulty"] <= 1 for r in kept], "big": [r["difficulty"] <= 2 for r in kept]}
    result = curate(pool, eval_questions=[pool[5]["question"]], difficulty_models=["small", "big"],
                    tokenizer=tiny_tokenizer, n_select=10, seed=42, solved=solved)
    names = [name for name, _ in result.funnel]
    assert names[0] == "pool" and names[-1] == "diversity (selected)"
    counts = dict(result.funnel)
    assert counts["pool"] == 120 and counts["quality"] == len(kept)
    assert all(r["difficulty"] >= 3 for r in result.sets["curated_1k"])  # neither model solves these
    assert {len(result.sets[k]) for k in ("curated_1k", "random_1k", "diverse_1k", "longest_1k")} == {10}
    assert len(result.sets["full_pool"]) == len(kept)
    longest = result.sets["longest_1k"]
    assert min(r["trace_length"] for r in longest) >= max(r["trace_length"] for r in result.sets["random_1k"]) - 100
    assert pool[5]["question"] not in {r["question"] for r in result.sets["full_pool"]}
    with pytest.raises(CurationError, match="difficulty results for 'small'"):
        curate(pool, eval_questions=[], difficulty_models=["small"], tokenizer=tiny_tokenizer, n_select=5, seed=0,
               solved={"small": [True]})
