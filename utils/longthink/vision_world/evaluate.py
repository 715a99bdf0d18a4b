"""Evaluate the base VLM: the look per cell, accuracy by question kind, grounding, and accuracy by resolution.

Held-out examples come from their own seed streams (``split="eval"`` for the reported metrics, ``split="dev"``
for choosing settings; pretraining draws from a third). Replies are greedy. A question is right when the text in
``<answer>`` equals the gold answer (normalised), or, for a box, when the box mapped back to the original image's
frame overlaps the gold box at IoU > 0.5 (Acc@0.5). The model answers in pixels of the image *it was given*
(Qwen2.5-VL's convention), which the processor may have resized (``smart_resize``); ``box_to_original`` maps
the box back, as TACO's test-time resolution scaling must (taco.md §2.5).

Resolution: the model is trained at one resolution (one merged visual token per cell). At a shifted resolution the
same scenes give it another number of visual tokens and the look breaks down: that is the loss TACO's TTRS has to
recover. ``rescaled`` evaluates the shifted images resized back to the training pixels by the processor (what TTRS
does with ``max_pixels``), boxes mapped back to the original frame.

``error_table`` classifies every question by the first place its reply leaves the gold reply: the look, the walk,
the conclusion, the box step, the count or comparison, the answer copied from a right ``<think>``, or a missing
``<answer>``: the table by kind that a diagnosis starts from.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from longthink.vision_world.batches import encode_batch, hash_seed
from longthink.vision_world.look import cell_accuracy
from longthink.vision_world.replies import BASE_STYLE, DESCRIBE, answer_of, normalise, reply, think_of
from longthink.vision_world.reasoning import reason
from longthink.vision_world.schema import VisionWorldStage
from longthink.vision_world.scenes import (
    GROUNDING_KINDS,
    MULTI_STEP_KINDS,
    POSITION_KINDS,
    SINGLE_STEP_KINDS,
    Scene,
    box,
    generate_examples,
    iou,
    parse_box,
)

SPLITS = ("eval", "dev")
ERROR_CATEGORIES = ("right", "look", "walk", "conclusion", "box", "reasoning", "answer", "no answer")
RESOLUTION_KINDS = (*SINGLE_STEP_KINDS, *POSITION_KINDS, *GROUNDING_KINDS)  # "accuracy at a resolution" is over these


# ------------------------------------------------------------------------------------------------ examples
def eval_examples(settings: VisionWorldStage, *, seed: int, kinds: Sequence[str], n_per_kind: int,
                  split: str = "eval") -> list[dict[str, Any]]:
    """``n_per_kind`` held-out examples per kind (``describe`` included), each with its gold ``reply``."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known: {list(SPLITS)}")
    out = []
    for kind in kinds:
        exs = generate_examples(n_per_kind, seed=hash_seed(seed, f"{split}-{kind}"),
                                kinds=["shape_at" if kind == DESCRIBE else kind], grid=settings.grid,
                                min_objects=settings.min_objects, max_objects=settings.max_objects,
                                resolution=settings.train_resolution)
        for ex in exs:
            if kind == DESCRIBE:
                ex["kind"] = DESCRIBE
            ex["reply"] = reply(ex, **settings.reply_options)
        out += exs
    return out


def at_resolution(example: dict[str, Any], resolution: int) -> dict[str, Any]:
    """The same question about the same scene rendered at ``resolution`` (a grounding box in that frame)."""
    ex = dict(example, resolution=resolution)
    if example["kind"] in GROUNDING_KINDS:
        scene = Scene.from_dict(example["scene"])
        ex["box"] = box(scene.at(*example["plan"]["obj"]), grid=scene.grid, resolution=resolution)
    return ex


# ---------------------------------------------------------------------------------------------- generation
def input_size(processor, resolution: int) -> int:
    """The side of the square image the model gets for a ``resolution`` px image (Qwen2-VL ``smart_resize``)."""
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize

    from longthink.vision_world.vlm import pixel_bounds

    low, high = pixel_bounds(processor)
    return smart_resize(resolution, resolution, factor=28, min_pixels=low, max_pixels=high)[0]


def box_to_original(b: Sequence[float], *, input_side: int, original_side: int) -> list[float]:
    """A box in the model's input frame -> the original image's frame (Qwen2.5-VL: ``x · W / w̄``)."""
    return [v * original_side / input_side for v in b]


def generate_replies(model, processor, examples: Sequence[dict], *, batch_size: int = 50,
                     max_new_tokens: int | None = None) -> list[str]:
    """Greedy replies (each example rendered at its own ``resolution``); generation length follows the gold
    replies (their token count + 16) unless ``max_new_tokens`` is given."""
    import torch

    tok = processor.tokenizer
    outs: list[str] = []
    for i in range(0, len(examples), batch_size):
        chunk = examples[i: i + batch_size]
        batch = encode_batch(processor, chunk, with_replies=False)
        budget = max_new_tokens or 16 + max(len(tok(" " + ex["reply"], add_special_tokens=False)["input_ids"])
                                            for ex in chunk)
        with torch.no_grad():
            gen = model.generate(**batch, max_new_tokens=budget, do_sample=False,
                                 eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
        outs += tok.batch_decode(gen[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
    return [o.strip() for o in outs]


@contextlib.contextmanager
def pixel_bounds_set(processor, *, min_pixels: int, max_pixels: int):
    """Temporarily resize every image into ``[min_pixels, max_pixels]`` (TTRS-style), then restore."""
    from longthink.vision_world.vlm import pixel_bounds, set_pixel_bounds

    old = pixel_bounds(processor)
    set_pixel_bounds(processor, min_pixels=min_pixels, max_pixels=max_pixels)
    try:
        yield processor
    finally:
        set_pixel_bounds(processor, min_pixels=old[0], max_pixels=old[1])


# ------------------------------------------------------------------------------------------------- scoring
def score(example: dict[str, Any], prediction: str, *, input_side: int | None = None) -> float:
    """Per-cell accuracy of the look for ``describe``; else 1.0 if the answer is right (boxes: Acc@0.5 after
    mapping from the model's input frame, ``input_side`` px, back to the example's own frame)."""
    if example["kind"] == DESCRIBE:
        return cell_accuracy(prediction, Scene.from_dict(example["scene"]))
    answer = answer_of(prediction)
    if example["kind"] in GROUNDING_KINDS:
        pred = parse_box(answer or "")
        if pred is None:
            return 0.0
        if input_side:
            pred = box_to_original(pred, input_side=input_side, original_side=example["resolution"])
        return float(iou(pred, example["box"]) > 0.5)
    return float(normalise(answer) == normalise(example["answer"]))


_SEGMENTS = {"Look at the scene": "look", "Conclude": "conclusion", "Compute the box": "box"}


def first_error(example: dict[str, Any], prediction: str, *, right: bool, **reply_options: Any) -> str:
    """Where a reply first leaves the gold reply (``ERROR_CATEGORIES``); ``right`` replies are ``right``."""
    if right:
        return "right"
    if answer_of(prediction) is None:
        return "no answer"
    steps, _, _ = reason(example, style=BASE_STYLE[example["kind"]], **reply_options)
    gold, got = [], think_of(prediction).split()
    for s in steps:
        name = _SEGMENTS.get(s.title, "walk" if s.title.startswith("Find") else "reasoning")
        gold += [(w, name) for w in s.content.split()]
    for i, (word, name) in enumerate(gold):
        if i >= len(got) or got[i] != word:
            return name
    return "answer" if len(got) == len(gold) else "reasoning"


def error_table(examples: Sequence[dict], predictions: Sequence[str], scores: Sequence[float],
                **reply_options: Any) -> dict[str, dict[str, int]]:
    """``{kind: {category: count}}`` over question examples."""
    table: dict[str, dict[str, int]] = {}
    for ex, pred, s in zip(examples, predictions, scores):
        row = table.setdefault(ex["kind"], {c: 0 for c in ERROR_CATEGORIES})
        row[first_error(ex, pred, right=s > 0.5, **reply_options)] += 1
    return table


def format_table(table: Mapping[str, Mapping[str, int]]) -> str:
    """The error table as aligned text (kinds as rows)."""
    head = f"{'kind':15s}" + "".join(f"{c:>11s}" for c in ERROR_CATEGORIES)
    rows = [f"{k:15s}" + "".join(f"{v.get(c, 0):11d}" for c in ERROR_CATEGORIES) for k, v in table.items()]
    return "\n".join([head, *rows])


# ---------------------------------------------------------------------------------------------- evaluation
def _mean(values: Sequence[float]) -> float:
    return float(sum(values) / len(values)) if values else float("nan")


def evaluate_vlm(path: str | Path, settings: VisionWorldStage, *, seed: int = 0, n_per_kind: int | None = None,
                 split: str = "eval", resolutions: Sequence[int] | None = None, rescaled: bool = True,
                 n_samples: int = 3) -> dict[str, Any]:
    """Everything the issue's bars and the notebook ask for, on ``split``.

    Returns ``metrics`` (flat ``world/...`` numbers), ``by_kind`` (train resolution), ``by_resolution`` and
    ``rescaled_by_resolution`` (accuracy over ``RESOLUTION_KINDS``), ``describe_by_resolution`` (per cell),
    ``errors`` (``error_table``) and ``errors_table`` (as text), ``walk`` (``walk_diagnostics``), ``samples`` (a few replies per kind beside the
    gold) and ``build`` (what the build recorded).
    """
    from longthink.training import torch_threads
    from longthink.vision_world.vlm import build_result, load_vlm

    n = n_per_kind or settings.eval_per_kind
    shifted = list(resolutions or settings.shifted_resolutions)
    train_res = settings.train_resolution
    kinds = [DESCRIBE, *SINGLE_STEP_KINDS, *POSITION_KINDS, *GROUNDING_KINDS, *MULTI_STEP_KINDS]
    with torch_threads(settings.num_threads):
        model, processor = load_vlm(path)
        examples = eval_examples(settings, seed=seed, kinds=kinds, n_per_kind=n, split=split)

        def run(exs, res, *, bounds=None):
            exs = [at_resolution(e, res) for e in exs]
            if bounds:
                with pixel_bounds_set(processor, min_pixels=bounds, max_pixels=bounds):
                    side = input_size(processor, res)
                    preds = generate_replies(model, processor, exs, batch_size=settings.eval_batch_size)
            else:
                side = input_size(processor, res)
                preds = generate_replies(model, processor, exs, batch_size=settings.eval_batch_size)
            return exs, preds, [score(e, p, input_side=side) for e, p in zip(exs, preds)]

        exs, preds, scores = run(examples, train_res)
        by_kind = {k: _mean([s for e, s in zip(exs, scores) if e["kind"] == k]) for k in kinds}
        questions = [(e, p, s) for e, p, s in zip(exs, preds, scores) if e["kind"] != DESCRIBE]
        errors = error_table(*zip(*questions), **settings.reply_options)
        walk = walk_diagnostics([p for _, p, _ in questions])
        samples = {k: [{"question": e["question"] if k != DESCRIBE else "Describe the scene.", "gold": e["reply"],
                        "reply": p, "right": s, "scene": e["scene"]}
                       for e, p, s in [q for q in zip(exs, preds, scores) if q[0]["kind"] == k][:n_samples]]
                   for k in kinds}
        by_res = {train_res: _mean([by_kind[k] for k in RESOLUTION_KINDS])}
        describe_by_res = {train_res: by_kind[DESCRIBE]}
        rescaled_by_res: dict[int, float] = {}
        res_set = [e for e in examples if e["kind"] in (*RESOLUTION_KINDS, DESCRIBE)]
        for res in shifted:
            sub, _, sc = run(res_set, res)
            by_res[res] = _mean([_mean([s for e, s in zip(sub, sc) if e["kind"] == k]) for k in RESOLUTION_KINDS])
            describe_by_res[res] = _mean([s for e, s in zip(sub, sc) if e["kind"] == DESCRIBE])
            if rescaled:
                sub, _, sc = run([e for e in res_set if e["kind"] != DESCRIBE], res, bounds=train_res ** 2)
                rescaled_by_res[res] = _mean([_mean([s for e, s in zip(sub, sc) if e["kind"] == k])
                                              for k in RESOLUTION_KINDS])
    first = shifted[0]
    metrics = {
        "world/vlm_describe_cell_acc": by_kind[DESCRIBE],
        "world/vlm_describe_acc_train_resolution": by_kind[DESCRIBE],
        "world/vlm_describe_acc_shifted_resolution": describe_by_res[first],
        "world/vlm_acc_single_step": _mean([by_kind[k] for k in (*SINGLE_STEP_KINDS, *POSITION_KINDS)]),
        "world/vlm_grounding_acc50": _mean([by_kind[k] for k in GROUNDING_KINDS]),
        "world/vlm_acc_multi_step": _mean([by_kind[k] for k in MULTI_STEP_KINDS]),
        "world/vlm_acc_train_resolution": by_res[train_res],
        "world/vlm_acc_shifted_resolution": by_res[first],
    }
    # what test-time resolution scaling can recover
    metrics["world/vlm_resolution_drop"] = metrics["world/vlm_acc_train_resolution"] - by_res[first]
    if rescaled:
        metrics["world/vlm_acc_shifted_rescaled"] = rescaled_by_res[first]
    metrics.update({f"world/vlm_acc_{k}": v for k, v in by_kind.items() if k != DESCRIBE})
    build = build_result(path)
    if "build_seconds" in build:
        metrics["world/vlm_build_seconds"] = build["build_seconds"]
    return {"metrics": metrics, "by_kind": by_kind, "by_resolution": by_res, "rescaled_by_resolution": rescaled_by_res,
            "describe_by_resolution": describe_by_res, "errors": errors, "errors_table": format_table(errors), "walk": walk,
            "samples": samples, "build": build, "shifted_resolution": first, "split": split, "n_per_kind": n}


def walk_diagnostics(predictions: Sequence[str]) -> dict[str, float]:
    """How well the walks in ``predictions`` follow from the model's own words, step by step: each line's code
    expanded right, per attribute (``expand_size`` …), each mark right for the cell's own word just before it
    (``mark_size`` …), the combined mark the AND of its marks, the conclusion naming the first line marked ``yes``
    and expanding its own code right."""
    import re

    from longthink.vision_world.look import ATTRIBUTE_WORDS, ATTRIBUTES, CODES

    # a line ends in its combined mark (``-> yes``) or, in a two-count walk, in the two tallies (``-> 1 0``)
    line_re = re.compile(r"([a-h][1-8]) (\S+) (\S+) (\S+) (\S+) : ((?:\S+ (?:yes|no) )+)-> (yes|no|\d+ \d+)")
    walk_end = re.compile(r" \. (?![a-h][1-8] |\d)")  # the closing " ." (an empty cell's "a2 ." or "a2 . 1" is not)
    counts: dict[str, list[int]] = {}

    def add(name: str, ok: bool) -> None:
        counts.setdefault(name, [0, 0])
        counts[name][0] += ok
        counts[name][1] += 1

    for pred in predictions:
        for walk in think_of(pred).split(" find ")[1:]:
            lines = line_re.findall(walk_end.split(walk)[0] + " ")
            for _label, code, *words, marks, combined in lines:
                for attr, word, true_word in zip(ATTRIBUTES, words, CODES.get(code, ())):
                    add(f"expand_{attr}", word == true_word)
                pairs = marks.split()
                flags = []
                for query_word, mark in zip(pairs[0::2], pairs[1::2]):
                    attr = next((a for a, ws in ATTRIBUTE_WORDS.items() if query_word in ws), None)
                    if attr is not None:
                        add(f"mark_{attr}", (mark == "yes") == (words[ATTRIBUTES.index(attr)] == query_word))
                    flags.append(mark == "yes")
                if combined in ("yes", "no"):
                    add("combined_is_and", (combined == "yes") == all(flags))
            concluded = re.search(r" \. so ([a-h][1-8]) (\S+) (\S+) (\S+) (\S+)", walk + " ")
            if lines and concluded:
                first_yes = next((line for line in lines if line[-1] == "yes"), None)
                add("concludes_first_yes", first_yes is not None and concluded.group(1) == first_yes[0])
                said = CODES.get(concluded.group(2))
                add("conclusion_expanded", said is not None and list(said) == list(concluded.groups()[2:]))
    return {k: round(ok / n, 3) for k, (ok, n) in sorted(counts.items())}
