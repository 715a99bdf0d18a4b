"""s1K curation (s1 §2, App. C): decontamination, quality, difficulty, diversity, and the Table 2 ablation sets.

The pool is a ``datasets.Dataset`` with s1K's columns (``question``, ``solution``, ``source_type``, ``metadata``,
``thinking_trajectories``, ``attempt``); the tiny world's pool has them, and so does ``simplescaling/s1K``-style
data at paper scale. The steps, in the order of ``data/filter.ipynb``:

1. **Decontamination**: lower-case, normalise spaces, drop a question sharing any word 8-gram with an evaluation
   question; kept questions join the reference set, so later duplicates are dropped too (deduplication). A text
   shorter than 8 words contributes itself as its only "n-gram" (a kit choice: the tiny world's questions have
   three whitespace words, so for them this is exact-match decontamination and deduplication).
2. **Quality**: drop rows with a missing feature, and rows whose text matches a formatting pattern (``[asy]``
   unless the source is AIME, ``![Image]``, a ``p{i}.`` label, a bold token followed by a digit; the kit adds an
   unclosed bold marker ``**``, which flags a trace cut mid-formatting).
3. **Difficulty**: two models (Qwen2.5-7B/32B-Instruct in the paper; the world's ``guider_base`` and ``instruct``)
   answer each question greedily; a question either of them solves (graded by ``longthink.grading``) is dropped.
   The trace length in tokens is the other difficulty signal, used by the diversity step.
4. **Seed** (optional): teacher-correct items from named sources (AIME/GPQA in the paper) and long MATH items.
5. **Diversity**: until ``n`` picks, choose a non-empty domain uniformly, rank its questions by trace length
   (longest first), draw one with weight 2^-rank, drop emptied domains. Seeded (the paper set none, #71).
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Formatting patterns of s1's quality filter (App. C.4); values are regexes over question + thinking + attempt.
QUALITY_PATTERNS: dict[str, str] = {
    "asy": r"\[asy\]",
    "image": r"!\[Image\]",
    "p_label": r"(?<![A-Za-z0-9])p(?:[1-9]\d{0,2})\.",
    "bold_digit": r"\*\*[^*\n]+\*\*\d",
    "lone_bold": r"^(?:[^*]|\*(?!\*))*\*\*(?:[^*]|\*(?!\*))*$",  # kit addition: a single, unclosed "**"
}
PATTERN_EXEMPT = {"asy": ("aime",)}  # [asy] is allowed in AIME problems (figures are part of the question)


class CurationError(ValueError):
    """A pool without the columns curation needs, or settings that cannot be met."""


# --------------------------------------------------------------------------------------------- decontamination
def normalize(text: str) -> str:
    return re.sub(r"\s+", " ", (text or "").lower()).strip()


def word_ngrams(text: str, n: int = 8) -> set[tuple[str, ...]]:
    """Word n-grams of the normalised text; a text shorter than ``n`` words yields itself as one gram."""
    words = normalize(text).split(" ")
    if len(words) < n:
        return {tuple(words)} if words != [""] else set()
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def decontaminate(questions: Sequence[str], reference: Iterable[str], *, n: int = 8) -> tuple[list[bool], dict]:
    """Keep-mask for ``questions``: False if a question shares a word n-gram with the reference set.

    Kept questions join the reference set (s1's dedup), so a repeated pool question is dropped after its first
    occurrence. Returns the mask and counts of ``contaminated`` (eval overlap) and ``duplicate`` rows.
    """
    eval_grams: set[tuple[str, ...]] = set()
    for q in reference:
        eval_grams |= word_ngrams(q, n)
    seen: set[tuple[str, ...]] = set()
    keep, counts = [], Counter()
    for q in questions:
        grams = word_ngrams(q, n)
        if grams & eval_grams:
            keep.append(False)
            counts["contaminated"] += 1
        elif grams & seen:
            keep.append(False)
            counts["duplicate"] += 1
        else:
            keep.append(True)
            seen |= grams
    return keep, dict(counts)


# ----------------------------------------------------------------------------------------------------- quality
def thinking_of(row: dict) -> str | None:
    """The thinking trace of a row: ``thinking_trajectories[0]`` (s1K) or ``deepseek_thinking_trajectory``."""
    if row.get("thinking_trajectories"):
        return row["thinking_trajectories"][0]
    return row.get("deepseek_thinking_trajectory")


def attempt_of(row: dict) -> str | None:
    return row.get("attempt") if "attempt" in row else row.get("deepseek_attempt")


def quality_flags(row: dict, patterns: dict[str, str] = QUALITY_PATTERNS) -> list[str]:
    """Reasons to drop ``row``: ``missing_<field>`` and the names of formatting patterns that match."""
    flags = []
    thinking, attempt = thinking_of(row), attempt_of(row)
    for name, value in (("question", row.get("question")), ("thinking", thinking), ("attempt", attempt)):
        if value is None or not str(value).strip():
            flags.append(f"missing_{name}")
    text = "\n".join(str(x) for x in (row.get("question"), thinking, attempt) if x)
    source = str(row.get("source_type", "")).lower()
    for name, regex in patterns.items():
        if any(tag in source for tag in PATTERN_EXEMPT.get(name, ())):
            continue
        if re.search(regex, text):
            flags.append(name)
    return flags


# -------------------------------------------------------------------------------------------------- features
def gold_of(row: dict) -> str | None:
    """The reference answer: the ``answer`` column if present, else the final answer of ``solution``."""
    from longthink.grading import extract_answer

    if row.get("answer") not in (None, ""):
        return str(row["answer"])
    return extract_answer(row.get("solution")) or row.get("solution")


def domain_of(row: dict, key: str = "subject") -> str:
    """The diversity domain: ``metadata[key]`` (the MSC analog) if present, else ``source_type``."""
    meta = row.get("metadata")
    if isinstance(meta, str):
        try:
            meta = json.loads(meta)
        except json.JSONDecodeError:
            meta = None
    if isinstance(meta, dict) and meta.get(key):
        return str(meta[key])
    return str(row.get("domain") or row.get("source_type") or "unknown")


def solved_by(model_ref: str, questions: Sequence[str], golds: Sequence[str], *, profile: str | None,
              max_new_tokens: int, batch_size: int, seed: int = 0) -> list[bool]:
    """Does the model answer each question correctly (greedy, graded by ``longthink.grading.grade``)?

    These are s1's per-question features (``data/featurization.py``): they depend only on the model and the
    questions, so they are cached under ``$LONGTHINK_CACHE/s1/``, keyed on the model's own key (a rebuilt model is
    asked again), and shared by every run folder and profile.
    """
    from longthink.resolver import resolve
    from longthink.stages import cache_dir, cached_build, config_hash

    model = resolve(model_ref, kind="model", profile=profile, seed=seed)
    key = {"questions": config_hash(list(questions)), "golds": config_hash(list(golds)),
           "max_new_tokens": max_new_tokens}

    def build(tmp: Path) -> dict:
        from longthink.generation import generate
        from longthink.grading import grade
        from longthink.models import load_causal_lm

        lm, tokenizer = load_causal_lm(model.path)
        gen = generate(lm, tokenizer, list(questions), max_new_tokens=max_new_tokens, batch_size=batch_size,
                       progress=True)
        solved = [bool(grade(text, gold)) for text, gold in zip(gen.texts, golds, strict=True)]
        (tmp / "solved.json").write_text(json.dumps(solved))
        return {"model": model.ref, "solve_rate": sum(solved) / max(1, len(solved))}

    entry = cached_build(cache_dir() / "s1", "difficulty", key, build, inputs={"model": model.key})
    return json.loads((entry.dir / "solved.json").read_text())


def trace_lengths(tokenizer, rows: Sequence[dict]) -> list[int]:
    """Tokens of each thinking trace (s1's ``gemini_length``, counted with the student's tokenizer)."""
    texts = [thinking_of(r) or "" for r in rows]
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]


# ------------------------------------------------------------------------------------------------- diversity
def rank_weights(lengths: Sequence[int]) -> list[float]:
    """The draw weight of each question of one domain: 2^-rank, rank 0 = the longest trace (ties: the earlier one).

    The exercise ``s1.diversity`` checks a student's version against this function.
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    weights = [0.0] * len(lengths)
    for rank, i in enumerate(order):
        weights[i] = 2.0 ** -rank
    return weights


def diversity_sample(rows: Sequence[dict], n: int, *, seed: int, domain_key: str = "domain",
                     length_key: str = "trace_length", weighted: bool = True) -> list[int]:
    """Indices of ``n`` rows: a uniform non-empty domain, then a question with weight 2^-rank by length.

    ``weighted=False`` draws uniformly inside the domain (the "diverse only" ablation).
    """
    if n > len(rows):
        raise CurationError(f"cannot pick {n} examples from {len(rows)} candidates")
    rng = random.Random(seed)
    by_domain: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_domain[r[domain_key]].append(i)
    for d in by_domain:  # longest first; ties broken by position for determinism
        by_domain[d].sort(key=lambda i: (-rows[i][length_key], i))
    picked: list[int] = []
    while len(picked) < n:
        domain = rng.choice(sorted(by_domain))
        items = by_domain[domain]
        if weighted:  # items are sorted longest first, so these are 2^0, 2^-1, ... in order
            weights = rank_weights([rows[i][length_key] for i in items])
            j = rng.choices(range(len(items)), weights=weights, k=1)[0]
        else:
            j = rng.randrange(len(items))
        picked.append(items.pop(j))
        if not items:
            del by_domain[domain]
    return picked


# ------------------------------------------------------------------------------------------------- the funnel
@dataclass
class Curation:
    """The curated set, the ablation sets (lists of pool rows) and the funnel of counts."""

    sets: dict[str, list[dict]]
    funnel: list[tuple[str, int]] = field(default_factory=list)
    stats: dict = field(default_factory=dict)


def curate(pool, *, eval_questions: Iterable[str], difficulty_models: Sequence[str], tokenizer, n_select: int,
           seed: int, profile: str | None = None, ngram: int = 8, patterns: dict[str, str] | None = None,
           seed_sources: Sequence[str] = (), seed_min_length: int = 0, domain_key: str = "subject",
           max_new_tokens: int = 32, batch_size: int = 256, solved: dict[str, list[bool]] | None = None,
           world_seed: int = 0) -> Curation:
    """Run the s1K funnel over ``pool`` and build the curated set plus the ablation sets of Table 2.

    ``solved`` (model ref -> one bool per pool row) skips the difficulty generation, e.g. in tests. ``seed`` drives
    the diversity draw; ``world_seed`` is the seed of the world whose models (``world:...``) judge difficulty.
    """
    rows = [dict(r) for r in pool]
    for col in ("question",):
        if rows and col not in rows[0]:
            raise CurationError(f"the pool lacks column {col!r}; it has {sorted(rows[0])}")
    funnel = [("pool", len(rows))]
    keep, dec = decontaminate([r["question"] for r in rows], eval_questions, n=ngram)
    rows = [r for r, k in zip(rows, keep) if k]
    funnel.append(("decontaminated + deduplicated", len(rows)))
    lengths = trace_lengths(tokenizer, rows)
    for r, n in zip(rows, lengths):
        r["trace_length"] = n
        r["domain"] = domain_of(r, domain_key)
        r["gold"] = gold_of(r)
    flags = [quality_flags(r, patterns or QUALITY_PATTERNS) for r in rows]
    quality = [r for r, f in zip(rows, flags) if not f]
    flag_counts = Counter(f for fs in flags for f in fs)
    funnel.append(("quality", len(quality)))
    # difficulty: each model answers every quality-filtered question
    questions, golds = [r["question"] for r in quality], [r["gold"] for r in quality]
    solved_map = {}
    for ref in difficulty_models:
        if solved is not None and ref in solved:
            solved_map[ref] = list(solved[ref])
        else:
            solved_map[ref] = solved_by(ref, questions, golds, profile=profile, max_new_tokens=max_new_tokens,
                                        batch_size=batch_size, seed=world_seed)
        if len(solved_map[ref]) != len(quality):
            raise CurationError(f"difficulty results for {ref!r} have {len(solved_map[ref])} rows, need {len(quality)}")
    from longthink.grading import grade

    for i, r in enumerate(quality):
        r["solved_by"] = [ref for ref in difficulty_models if solved_map[ref][i]]
        r["teacher_correct"] = bool(grade(attempt_of(r), r["gold"]))
    hard = [r for r in quality if not r["solved_by"]]
    funnel.append(("difficulty (no model solves it)", len(hard)))
    seeds = [i for i, r in enumerate(hard) if r["teacher_correct"] and (
        any(s in str(r.get("source_type", "")).lower() for s in seed_sources)
        or (seed_min_length and r["trace_length"] > seed_min_length))]
    seed_set = set(seeds)
    rest = [r for i, r in enumerate(hard) if i not in seed_set]
    if len(seeds) > n_select:
        raise CurationError(f"{len(seeds)} seed items exceed n_select={n_select}")
    picks = diversity_sample(rest, n_select - len(seeds), seed=seed) if n_select - len(seeds) > 0 else []
    curated = [hard[i] for i in seeds] + [rest[i] for i in picks]
    funnel.append(("diversity (selected)", len(curated)))
    n_abl = min(n_select, len(quality))
    rng = random.Random(seed + 1)
    sets = {
        "curated_1k": curated,
        "random_1k": [quality[i] for i in sorted(rng.sample(range(len(quality)), n_abl))],
        "diverse_1k": [quality[i] for i in diversity_sample(quality, n_abl, seed=seed + 2, weighted=False)],
        "longest_1k": sorted(quality, key=lambda r: -r["trace_length"])[:n_abl],
        "full_pool": quality,
    }
    stats = {
        "decontamination": dec, "quality_flags": dict(flag_counts),
        "solve_rate": {ref: sum(v) / max(1, len(v)) for ref, v in solved_map.items()},
        "seeds": len(seeds),
        **{f"{name}_stats": set_stats(s) for name, s in sets.items()},
    }
    return Curation(sets=sets, funnel=funnel, stats=stats)


def set_stats(rows: Sequence[dict]) -> dict:
    """Size, mean trace length, domains, teacher accuracy and difficulty mix of a training set."""
    n = max(1, len(rows))
    out = {
        "n": len(rows),
        "mean_trace_length": sum(r.get("trace_length", 0) for r in rows) / n,
        "domains": len({r.get("domain") for r in rows}),
        "teacher_correct": sum(bool(r.get("teacher_correct")) for r in rows) / n,
    }
    if rows and "difficulty" in rows[0]:
        out["difficulty_mix"] = dict(sorted(Counter(int(r["difficulty"]) for r in rows).items()))
    return out
