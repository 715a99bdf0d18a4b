"""Scoring: pass@1 over k, maj@k, pass@k, behaviours, relative gain, answer extraction and truncation."""

from __future__ import annotations

import pytest

from longthink.thinklogit.evaluate import behaviour_counts, relative_gain, summarize, table
from longthink.thinklogit.systems import Sample, extract, score_text


def _s(qid, correct, *, answer="1", tokens=10, difficulty=1, text="Answer: 1", bench="b"):
    return Sample(qid, bench, difficulty, "1", text, tokens, "eos", answer, correct)


def test_summarize_pass_at_1_is_the_mean_over_k():
    samples = [_s("q1", True), _s("q1", False, answer="2"), _s("q2", False, answer="3", difficulty=2),
               _s("q2", False, answer="3", difficulty=2, text="Wait, wait. Answer: 3")]
    s = summarize(samples)
    assert s["k"] == 2 and s["accuracy"] == pytest.approx(0.25)
    assert s["by_difficulty"] == {1: 0.5, 2: 0.0}
    assert s["pass@2"] == pytest.approx(0.5) and s["maj@2"] == pytest.approx(0.5)
    assert s["behaviour"]["recheck"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="same number of samples"):
        summarize(samples[:3])


def test_benchmark_average():
    samples = [_s("a", True, bench="x"), _s("b", False, bench="y", answer="2"), _s("c", False, bench="y", answer="2")]
    assert summarize(samples)["accuracy"] == pytest.approx(0.5)  # mean of benchmarks (1.0, 0.0)


def test_behaviours_and_gain():
    counts = behaviour_counts("Wait, let me check again. But actually, alternatively...")
    assert counts == {"recheck": 1, "branching": 1, "backtracking": 3, "self_verification": 1}
    assert relative_gain(0.6, 0.5) == pytest.approx(0.2)
    assert relative_gain(0.0, 0.0) == 0.0
    df = table({"target": summarize([_s("a", False, answer="2")]), "thinklogit": summarize([_s("a", True)])})
    assert df.loc["thinklogit", "rel_gain_vs_target"] == float("inf")


def test_extract_fallbacks():
    assert extract("so \\boxed{12}") == "12"
    assert extract("the value is 7 then 9", fallback="none") is None
    assert extract("the value is 7 then 9", fallback="last_number") == "9"
    assert extract("I pick (B), not A", fallback="last_number", benchmark="gpqa_diamond") == "A"
    with pytest.raises(ValueError, match="unknown answer fallback"):
        extract("x", fallback="first")


def test_score_text_truncates(tiny_tokenizer):
    tok = tiny_tokenizer
    ids = tok("Answer: 7 Human: what", add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    text, n = score_text(ids, tok, eos_ids=[tok.eos_token_id], max_scored_tokens=100, truncate_at=["Human"])
    assert text.strip() == "Answer: 7" and n == len(ids)
    text, n = score_text(ids, tok, eos_ids=[tok.eos_token_id], max_scored_tokens=2, truncate_at=[])
    assert n == 2


def test_findings_are_written_from_the_metrics():
    from longthink.thinklogit.pipeline import findings

    values = {"thinklogit/acc_target": 0.5, "thinklogit/acc_thinklogit": 0.65, "thinklogit/acc_thinklogit_dpo": 0.7,
              "thinklogit/rel_gain_thinklogit": 0.3, "thinklogit/dpo_gain_over_thinklogit": 0.05,
              "thinklogit/mean_tokens_target": 20.0, "thinklogit/mean_tokens_thinklogit": 31.0,
              "thinklogit/acc_target_d1": 1.0, "thinklogit/acc_target_d2": 0.0, "thinklogit/acc_thinklogit_d1": 1.0,
              "thinklogit/acc_thinklogit_d2": 0.3, "thinklogit/acc_thinklogit_dpo_d1": 1.0}
    text = findings(values)
    assert "+30.0% relative" in text and "+0.050 (an improvement" in text and "target 20.0, ThinkLogit 31.0" in text
    assert "By difficulty 1 2: target 1.00 0.00; ThinkLogit 1.00 0.30." in text
