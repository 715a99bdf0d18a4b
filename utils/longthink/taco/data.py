"""TACO's data: grounding (REC) and visual questions (VQA) as rows for TRL and for evaluation.

A row carries what the rewards and the evaluation read (``longthink.taco.rewards``): ``index`` (0..n-1; RRS and ADS
track prompts by it), ``prompt`` (one user turn: the question, the image inserted before it by TRL), ``image``,
``task`` (``rec`` | ``vqa``), ``kind``, ``question``, ``answer`` (gold text), ``box`` (REC gold, original pixel
frame), ``image_size`` (``[W, H]``), ``objects`` (how many objects the scene holds) and ``id``.

Tiny profile: the vision world's scenes (``world-vision:scenes``, reached through the resolver): REC = its grounding
questions, VQA = the question kinds the recipe lists. Splits come from separate seed streams: ``train`` (the GRPO
prompts), ``dev`` (where settings such as the TTRS scale are chosen), ``eval`` (reported, in distribution: the
training object counts) and ``ood`` (reported, out of distribution: object counts GRPO never trained on). The same
evaluation scenes rendered at a shifted resolution give the resolution-shift test (:func:`shifted`).

Paper profile: VLM-R1's jsonl files (``{"image": path, "problem": ..., "solution": ...}``; REC solutions are boxes)
read by :func:`jsonl_rows`.
"""

from __future__ import annotations

import json
import random
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SPLITS = ("train", "dev", "eval", "ood")


def split_seed(seed: int, split: str, task: str) -> int:
    """A seed stream per (run seed, split, task): the splits never share a scene stream."""
    return zlib.crc32(f"taco-{seed}-{split}-{task}".encode()) & 0x7FFFFFFF


def world_examples(scenes, *, n: int, seed: int, kinds: Sequence[str], objects: Sequence[int], resolution: int,
                   grid: int = 4) -> list[dict[str, Any]]:
    """``n`` examples of ``kinds`` from the world's scene module, scenes with ``objects[0]..objects[1]`` objects."""
    if n == 0:
        return []
    lo, hi = objects
    return scenes.generate_examples(n, seed=seed, kinds=list(kinds), grid=grid, min_objects=lo, max_objects=hi,
                                    resolution=resolution)


def to_row(example: dict[str, Any], *, index: int, task: str, image, prompt_template: str) -> dict[str, Any]:
    """One row (see the module docstring) from a world example and its rendered image."""
    question = example["question"]
    box = [float(v) for v in example["box"]] if task == "rec" else None
    return {
        "index": index,
        "id": str(example.get("id", index)),
        "prompt": [{"role": "user", "content": prompt_template.format(question=question)}],
        "image": image,
        "task": task,
        "kind": example["kind"],
        "question": question,
        "answer": str(example["answer"]),
        "box": box,
        "image_size": [int(image.width), int(image.height)],
        "objects": len(example["scene"]["objects"]) if "scene" in example else 0,
        "resolution": int(example.get("resolution", image.width)),
        "scene": json.dumps(example["scene"]) if "scene" in example else "",
    }


def world_rows(scenes, *, split: str, seed: int, n_rec: int, n_vqa: int, rec_kinds: Sequence[str],
               vqa_kinds: Sequence[str], objects: Sequence[int], resolution: int, prompt_template: str,
               grid: int = 4) -> list[dict[str, Any]]:
    """A split's rows: ``n_rec`` grounding and ``n_vqa`` question rows in a seeded shuffle, indexed 0..n-1."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known: {list(SPLITS)}")
    rec = world_examples(scenes, n=n_rec, seed=split_seed(seed, split, "rec"), kinds=rec_kinds, objects=objects,
                         resolution=resolution, grid=grid)
    vqa = world_examples(scenes, n=n_vqa, seed=split_seed(seed, split, "vqa"), kinds=vqa_kinds, objects=objects,
                         resolution=resolution, grid=grid)
    tagged = [("rec", e) for e in rec] + [("vqa", e) for e in vqa]
    order = list(range(len(tagged)))
    random.Random(split_seed(seed, split, "order")).shuffle(order)
    rows = []
    for index, i in enumerate(order):
        task, example = tagged[i]
        rows.append(to_row(example, index=index, task=task, image=scenes.example_image(example),
                           prompt_template=prompt_template))
    return rows


def shifted(row: dict[str, Any], factor: float, *, scenes=None) -> dict[str, Any]:
    """The same question with the image's sides times ``factor``: a world scene is rendered again at that
    resolution (crisp, as a camera at another resolution would give it); any other image is resized. The REC gold
    box is rescaled into the new frame."""
    w, h = row["image_size"]
    if scenes is not None and row.get("scene"):
        resolution = int(round(row["resolution"] * factor))
        image = scenes.render(scenes.Scene.from_dict(json.loads(row["scene"])), resolution)
    else:
        from PIL import Image

        image = row["image"].resize((max(1, round(w * factor)), max(1, round(h * factor))), Image.BICUBIC)
        resolution = int(round(row.get("resolution", w) * factor))
    out = dict(row, image=image, image_size=[image.width, image.height], resolution=resolution)
    if row["task"] == "rec":
        sx, sy = image.width / w, image.height / h
        b = row["box"]
        out["box"] = [b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy]
        out["answer"] = "[" + ", ".join(str(round(v)) for v in out["box"]) + "]"
    return out


def trl_dataset(rows: Sequence[dict[str, Any]]):
    """A ``datasets.Dataset`` for ``GRPOTrainer`` (the image column becomes an ``Image`` feature)."""
    from datasets import Dataset

    if not rows:
        raise ValueError("no training rows: check the data stage's sizes (n_train_rec, n_train_vqa)")
    return Dataset.from_list([{k: v for k, v in r.items() if k != "scene"} for r in rows])


def row_summary(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Counts by task and kind, and the object-count range (what the notebook prints after the data stage)."""
    out: dict[str, Any] = {"n": len(rows)}
    for key in ("task", "kind"):
        counts: dict[str, int] = {}
        for r in rows:
            counts[r[key]] = counts.get(r[key], 0) + 1
        out[key] = counts
    objects = [r["objects"] for r in rows if r.get("objects")]
    out["objects"] = [min(objects), max(objects)] if objects else None
    return out


# --------------------------------------------------------------------------------------------- paper scale
def jsonl_rows(path: str | Path, *, task: str, image_root: str | Path = ".", prompt_template: str = "{question}",
               limit: int = 0, start_index: int = 0) -> list[dict[str, Any]]:
    """Rows from a VLM-R1-style jsonl: ``image`` (a path under ``image_root``), ``problem`` (or ``question``),
    ``solution`` (or ``answer``; for REC a box ``[x1, y1, x2, y2]`` in the original image's pixels)."""
    from PIL import Image

    if task not in ("rec", "vqa"):
        raise ValueError(f"task must be 'rec' or 'vqa', got {task!r}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file not found: {path}")
    rows = []
    for n, line in enumerate(path.read_text().splitlines()):
        if not line.strip():
            continue
        if limit and len(rows) >= limit:
            break
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: line {n + 1} is not JSON ({exc})") from exc
        for key in ("image",):
            if key not in item:
                raise ValueError(f"{path}: line {n + 1} has no {key!r} field")
        question = item.get("problem") or item.get("question")
        solution = item.get("solution", item.get("answer"))
        if question is None or solution is None:
            raise ValueError(f"{path}: line {n + 1} needs 'problem' (or 'question') and 'solution' (or 'answer')")
        image = Image.open(Path(image_root) / item["image"]).convert("RGB")
        if task == "rec":
            if isinstance(solution, str):
                from longthink.taco.answers import find_boxes

                boxes = find_boxes(solution)
                solution = boxes[0] if boxes else None
            if not (isinstance(solution, (list, tuple)) and len(solution) == 4):
                raise ValueError(f"{path}: line {n + 1}: a REC solution must be a box [x1, y1, x2, y2]")
        example = {"id": item.get("id", n), "question": question, "kind": item.get("kind", task),
                   "answer": solution if task == "vqa" else "[" + ", ".join(str(v) for v in solution) + "]",
                   "box": solution if task == "rec" else None}
        rows.append(to_row(example, index=start_index + len(rows), task=task, image=image,
                           prompt_template=prompt_template))
    return rows
