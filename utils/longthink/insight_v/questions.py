"""The questions: where they come from, how they are split, and how a question's image is found.

Splits are disjoint: ``train`` (data generation), ``dpo`` (the DPO rounds' sampling), ``dev`` (choosing settings)
and ``eval`` (the evaluation, never used to choose anything). Sources (``questions.source``):

* ``world``: scenes and questions of the tiny visual world (``world-vision:scenes``), each split from its own seed
  stream; a row carries the world example (scene, plan), from which the image is rendered and the chain teacher and
  the scene scorer work. Question kinds group as the world says: the several-step kinds are the *reasoning*
  questions (the MMMU / MathVista analog, ``acc_*``), single-step, position and grounding kinds the *perception*
  ones (the Table 2 analog, ``acc_perception_*``).
* ``hub``: data sets ``id[:config]@split`` (or local ``.jsonl`` / saved folders) with the column names of
  ``questions.columns``; images are written to the stage folder and read back from there.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

SPLITS = ("train", "dpo", "dev", "eval")
REASONING, PERCEPTION = "reasoning", "perception"


def split_seed(seed: int, split: str, kind: str) -> int:
    """A seed stream per (run seed, split, kind), disjoint from the world's own pretraining streams."""
    return zlib.crc32(f"insight_v-{seed}-{split}-{kind}".encode()) & 0x7FFFFFFF


def kind_groups(scenes) -> dict[str, list[str]]:
    """``{"reasoning": [...], "perception": [...]}`` from the world's kind lists."""
    return {REASONING: list(scenes.MULTI_STEP_KINDS),
            PERCEPTION: [*scenes.SINGLE_STEP_KINDS, *scenes.POSITION_KINDS, *scenes.GROUNDING_KINDS]}


def _world_rows(scenes, split: str, kinds: list[str], n_per_kind: int, *, seed: int, settings,
                chains=None) -> list[dict]:
    """World questions; ``answer_text`` is the answer as the world's faithful chain writes it (a box in the world's
    own tokens, ``[ 35 , 35 , 49 , 49 ]``, the cell's box), which the agents learn to write; ``answer`` stays the
    gold the judge reads (a box matches at IoU > 0.5)."""
    teacher = chains.ChainTeacher(error_rate=0.0, seed=0) if chains is not None else None
    rows = []
    for kind in kinds:
        examples = scenes.generate_examples(n_per_kind, seed=split_seed(seed, split, kind), kinds=[kind],
                                            min_objects=settings.min_objects, max_objects=settings.max_objects)
        for i, ex in enumerate(examples):
            ex = {**ex, "id": f"{split}-{kind}-{i}"}
            row = {"id": ex["id"], "split": split, "kind": kind, "question": ex["question"],
                   "answer": ex["answer"], "example": ex}
            if teacher is not None:
                row["answer_text"] = teacher.chain(ex).answer
            rows.append(row)
    return rows


def _spread(n: int, kinds: list[str]) -> list[int]:
    """``n`` questions spread over ``kinds`` as evenly as possible."""
    return [n // len(kinds) + (i < n % len(kinds)) for i in range(len(kinds))]


def world_questions(settings, *, tools: dict[str, Any], seed: int, **_) -> dict[str, list[dict]]:
    """The four splits from the tiny world, each drawn from ``kinds`` (default: every kind of the world); the dpo
    split from ``dpo_kinds`` where it names some."""
    scenes = tools["scenes"]
    every = list(scenes.QUESTION_KINDS)
    for key in ("kinds", "dpo_kinds"):
        unknown = [k for k in getattr(settings, key) if k not in every]
        if unknown:
            raise ValueError(f"questions.{key}: unknown kind(s) {unknown}; the world has {every}")
    kinds = list(settings.kinds) or every
    dpo_kinds = list(settings.dpo_kinds) or kinds
    out: dict[str, list[dict]] = {}
    for split, n, drawn in (("train", settings.n_train, kinds), ("dpo", settings.n_dpo, dpo_kinds)):
        out[split] = []
        for kind, k in zip(drawn, _spread(n, drawn)):
            out[split] += _world_rows(scenes, split, [kind], k, seed=seed, settings=settings,
                                      chains=tools.get("chains"))
    for split, n in (("dev", settings.n_dev_per_kind), ("eval", settings.n_eval_per_kind)):
        out[split] = _world_rows(scenes, split, kinds, n, seed=seed, settings=settings, chains=tools.get("chains"))
    return out


def parse_dataset_ref(ref: str) -> tuple[str, str | None, str]:
    """``"lmms-lab/ChartQA:default@test"`` -> ``("lmms-lab/ChartQA", "default", "test")`` (split default train)."""
    name, _, split = ref.partition("@")
    name, _, config = name.partition(":")
    if not name:
        raise ValueError(f"a data set reference reads id[:config]@split, got {ref!r}")
    return name, config or None, split or "train"


def hub_questions(settings, *, rows_of: Callable[[str, str | None, str], list[dict]], seed: int,
                  image_dir: Path, **_) -> dict[str, list[dict]]:
    """Train / dpo / dev from ``datasets`` (in that order, disjoint), eval from ``eval_datasets``; images saved."""
    cols = settings.columns
    image_dir.mkdir(parents=True, exist_ok=True)

    def load(refs: list[str], prefix: str) -> list[dict]:
        rows = []
        for ref in refs:
            name, config, split = parse_dataset_ref(ref)
            for i, row in enumerate(rows_of(name, config, split)):
                for key in ("question", "answer", "image"):
                    if cols[key] not in row:
                        raise KeyError(f"data set {ref!r} row {i} has no column {cols[key]!r} (questions.columns."
                                       f"{key}); its columns: {sorted(row)}")
                qid = f"{prefix}-{name.replace('/', '_')}-{i}"
                image_path = image_dir / f"{qid}.png"
                row[cols["image"]].convert("RGB").save(image_path)
                rows.append({"id": qid, "kind": str(row.get(cols.get("kind", "kind"), name)),
                             "question": str(row[cols["question"]]), "answer": str(row[cols["answer"]]),
                             "image_path": image_path.name})
        return rows

    pool = load(list(settings.datasets), "train")
    n_train = settings.n_train or max(0, len(pool) - settings.n_dpo)
    out = {"train": pool[:n_train], "dpo": pool[n_train: n_train + settings.n_dpo],
           "dev": pool[n_train + settings.n_dpo:]}
    out["eval"] = load(list(settings.eval_datasets), "eval")
    for split, rows in out.items():
        for r in rows:
            r["split"] = split
    return out


# questions.source -> a builder of the four splits
SOURCES: dict[str, Callable[..., dict[str, list[dict]]]] = {"world": world_questions, "hub": hub_questions}


def make_questions(settings, **kwargs) -> dict[str, list[dict]]:
    if settings.source not in SOURCES:
        raise ValueError(f"questions.source: unknown source {settings.source!r}; known: {sorted(SOURCES)}")
    return SOURCES[settings.source](settings, **kwargs)


def image_function(*, scenes=None, image_dir: Path | None = None) -> Callable[[dict], Any]:
    """How to get a question's image: rendered from the world example, or read from the stage folder."""
    def image(question: dict):
        if "example" in question and question["example"] is not None:
            if scenes is None:
                raise ValueError(f"question {question['id']!r} is a world question: pass the scenes tool")
            return scenes.example_image(question["example"])
        if image_dir is None or "image_path" not in question:
            raise ValueError(f"question {question['id']!r} has no image (neither a world example nor image_path)")
        from PIL import Image

        with Image.open(image_dir / question["image_path"]) as img:
            return img.convert("RGB")

    return image
