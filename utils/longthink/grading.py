"""Answer extraction and grading with math-verify, majority voting and the unbiased pass@k.

``grade`` accepts a whole completion or a bare answer: it extracts the final answer (the last ``\\boxed{}``,
else an ``Answer:`` line, else an ``<answer>`` tag, else the text itself), then lets math-verify decide
equivalence (fractions, decimals, percents, intervals, tuples, sets, LaTeX variants). Multiple-choice
letters are compared directly. It never raises and each call is bounded in time.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from math import comb

BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
ANSWER_LINE = re.compile(r"(?:final answer|answer)\s*[:：]\s*(.+)", re.IGNORECASE)
ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
LETTER = re.compile(r"^\(?([A-J])\)?[.)]?$")
INTEGER = re.compile(r"^[-+]?\d+$")
TIMEOUT_SECONDS = 5


def _last_boxed(text: str) -> str | None:
    """Content of the last top-level ``\\boxed{...}``, with nested braces balanced."""
    found, pos = None, 0
    while (match := BOXED.search(text, pos)) is not None:
        depth, i = 1, match.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        if depth:  # unbalanced: ignore this one, look further on
            pos = match.end()
            continue
        found, pos = text[match.end() : i - 1].strip(), i
    return found


def extract_answer(text: str | None) -> str | None:
    """The final answer in ``text``: last ``\\boxed{}``, else the last ``Answer:`` line, else ``<answer>``."""
    if not text:
        return None
    boxed = _last_boxed(text)
    if boxed:
        return boxed
    lines = ANSWER_LINE.findall(text)
    if lines:
        answer = lines[-1].strip().rstrip(".").strip()
        return answer or None
    tags = ANSWER_TAG.findall(text)
    if tags:
        return tags[-1].strip() or None
    return None


def _normalise(answer: str) -> str:
    answer = answer.strip().strip("$").strip()
    answer = answer.replace("%", "\\%") if "\\%" not in answer else answer
    answer = re.sub(r"\\text\{(.*?)\}", r"\1", answer)
    return re.sub(r"\s+", " ", answer).strip().rstrip(".")


def grade(text: str | None, gold: str | int | float | None) -> bool:
    """True when the final answer of ``text`` equals ``gold`` (math-verify); never raises."""
    try:
        if text is None or gold is None:
            return False
        answer = extract_answer(str(text))
        if answer is None:
            answer = str(text)
        answer, gold_s = _normalise(answer), _normalise(str(gold))
        if not answer:
            return False
        if answer == gold_s:
            return True
        if INTEGER.match(answer) and INTEGER.match(gold_s):  # the common case, without a sympy parse (~7 ms)
            return int(answer) == int(gold_s)
        letter_a, letter_g = LETTER.match(answer), LETTER.match(gold_s)
        if letter_a or letter_g:  # multiple choice: letters compare as letters
            return bool(letter_a and letter_g and letter_a.group(1) == letter_g.group(1))
        return _math_verify(answer, gold_s)
    except Exception:
        return False


def _math_verify(answer: str, gold: str) -> bool:
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

    configs = [LatexExtractionConfig(), ExprExtractionConfig()]
    gold_parsed = parse(f"${gold}$", extraction_config=configs, parsing_timeout=TIMEOUT_SECONDS)
    answer_parsed = parse(f"${answer}$", extraction_config=configs, parsing_timeout=TIMEOUT_SECONDS)
    if not gold_parsed or not answer_parsed:
        return False
    return bool(verify(gold_parsed, answer_parsed, timeout_seconds=TIMEOUT_SECONDS))


def majority_vote(answers: Iterable[str | None]) -> str | None:
    """The most common non-empty answer; ties go to the one seen first (a deterministic rule)."""
    cleaned = [_normalise(a) for a in answers if a is not None and _normalise(a)]
    if not cleaned:
        return None
    counts = Counter(cleaned)
    best = max(counts.values())
    return next(a for a in cleaned if counts[a] == best)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021): 1 - C(n-c, k) / C(n, k) for n samples of which c are correct."""
    if not (0 <= c <= n) or not (1 <= k <= n):
        raise ValueError(f"pass_at_k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)
