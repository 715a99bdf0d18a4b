"""Accuracy by difficulty with longthink.grading, on a tiny model and on scripted completions."""

from __future__ import annotations

import pytest

from longthink.evaluation import EvalResult, evaluate, score


def test_score_uses_grading():
    assert score(["a7\nAnswer: 7", "Answer: 3", "no answer"], ["7", "4", "1"]) == [True, False, False]


def test_evaluate_breaks_down_by_difficulty(tiny_model_dir):
    from longthink.models import load_causal_lm

    model, tok = load_causal_lm(str(tiny_model_dir))
    rows = [{"question": f"Mix {i}:a+1.", "answer": str(i + 1), "difficulty": 1 + i % 2} for i in range(6)]
    result = evaluate(model, tok, rows, max_new_tokens=4, batch_size=4)
    assert isinstance(result, EvalResult) and set(result.by_difficulty) == {1, 2}
    assert 0.0 <= result.accuracy <= 1.0 and len(result.rows) == 6
    metrics = result.metrics("m")
    assert set(metrics) == {"m_acc", "m_acc_d1", "m_acc_d2"}


def test_evaluate_bad_input(tiny_model_dir):
    from longthink.models import load_causal_lm

    model, tok = load_causal_lm(str(tiny_model_dir))
    with pytest.raises(ValueError, match="empty"):
        evaluate(model, tok, [])
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['answer'\]"):
        evaluate(model, tok, [{"question": "q"}])
