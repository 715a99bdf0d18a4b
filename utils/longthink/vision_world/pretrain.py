"""The base VLM of the tiny visual world: pretrained on CPU in minutes, cached by config hash, then evaluated.

Pretraining is a plain PyTorch loop (not a paper's stage, so not a TRL trainer). A linear probe on the visual
tokens (``CellProbe``, dropped after training) stands in for the pretrained vision encoder real VLMs start from;
batches mix a dense "describe the scene" task (one entry per grid cell, which makes the vision tower learn; answer-only supervision
does not, see notes/cpu-calibration.md) with single-step questions answered in a few words and referring
expressions answered with a box. The loss is on the answer tokens only. One seed gives the same model: data,
initialisation and thread count are fixed.

Finding one object by what the question says about it is a two-hop lookup (mark the visual token the question
names, then read it) that answer-only supervision leaves at chance in the CPU budget. Opt-in devices for it, all
training-only and off in the recipe (as of 2026-12-01 they did not lift single-step accuracy or grounding off chance):
``question_first`` (visual tokens can see the question, ``vlm.user_message``); ``CellProbe.scale_loss`` (visual
tokens at the word embeddings' scale: free, they grow ~160x larger and the LM's layers cannot change them, so no
token can be marked); ``ReferentProbe`` (point at the referent's token at one LM layer, which it then learns to ~0.8;
attend to it from the answer with the last layer's first head; keep the cell labels readable at that layer).

``vision_model_path(profile)`` returns the cached folder (built on first use) for ``recipes/world_vision.yaml``
under the profile's overlay; ``evaluate_vlm`` measures what the issue's bars ask for.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from longthink.vision_world.scenes import (
    GROUNDING_KINDS,
    MULTI_STEP_KINDS,
    POSITION_KINDS,
    SINGLE_STEP_KINDS,
    Scene,
    describe,
    example_image,
    generate_examples,
    iou,
    parse_box,
    parse_description,
    rescale_box,
)
from longthink.vision_world.schema import VisionWorldStage
from longthink.vision_world.vlm_probes import CellProbe, ReferentProbe  # noqa: F401 (re-exported)

RECIPE = "recipes/world_vision.yaml"
STAGE = "vlm"
CACHE_NAME = "world_vision"
DESCRIBE_PROMPT = "Describe the scene, row by row."


# ------------------------------------------------------------------------------------------------- settings
def recipe_path() -> Path:
    """``recipes/world_vision.yaml`` of the checkout (``longthink.config.recipe_path``)."""
    from longthink.config import recipe_path as find

    return find("world_vision")


def load_settings(profile: str | None = "tiny", overrides: Mapping[str, Any] | None = None) -> tuple[VisionWorldStage, int]:
    """``(settings, seed)`` of the ``vlm`` stage for ``profile`` (None = the recipe itself)."""
    from longthink.config import load_recipe

    recipe = load_recipe(recipe_path(), profile=profile, overrides=overrides)
    return recipe.stage(STAGE).kit, recipe.seed


def vision_model_path(profile: str = "tiny", *, overrides: Mapping[str, Any] | None = None,
                      root: str | Path | None = None) -> Path:
    """The base VLM's folder for ``profile``: built once (minutes on CPU), then reused by config hash."""
    settings, seed = load_settings(profile, overrides)
    return build_cached(settings, seed=seed, root=root)


def build_cached(settings: VisionWorldStage, *, seed: int = 0, root: str | Path | None = None) -> Path:
    return build_artefact(settings, seed=seed, root=root).dir


def build_artefact(settings: VisionWorldStage, *, seed: int = 0, root: str | Path | None = None):
    """The base VLM's cache entry (``longthink.stages.Artefact``: folder, key, build result)."""
    from longthink.stages import cache_dir, cached_build

    config = {"settings": hashed_settings(settings), "seed": seed, "version": 1}
    return cached_build(Path(root) if root else cache_dir() / CACHE_NAME, "vlm",
                        config, lambda tmp: pretrain(settings, seed=seed, out_dir=tmp))


def hashed_settings(settings: VisionWorldStage) -> dict[str, Any]:
    """Every setting of the build, defaults included: a cache key holds them all (``longthink.stages``)."""
    return dataclasses.asdict(settings)


def build_result(path: str | Path) -> dict[str, Any]:
    """What the build stored (build seconds, steps per second, final loss...)."""
    import json

    f = Path(path) / "result.json"
    return json.loads(f.read_text()) if f.is_file() else {}


# ---------------------------------------------------------------------------------------------- task data
def sample_tasks(settings: VisionWorldStage, *, n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` pretraining examples drawn by ``task_weights`` (describe tasks get the description as answer)."""
    rng = random.Random(f"vlm-tasks-{seed}")
    names = sorted(k for k, w in settings.task_weights.items() if w > 0)
    weights = [settings.task_weights[k] for k in names]
    picks = rng.choices(names, weights=weights, k=n)
    by_kind: dict[str, list] = {}
    for kind in set(picks):
        count = picks.count(kind)
        q_kind = "shape_at" if kind == "describe" else kind
        by_kind[kind] = generate_examples(count, seed=hash_seed(seed, kind), kinds=[q_kind], grid=settings.grid,
                                          min_objects=settings.min_objects, max_objects=settings.max_objects,
                                          resolution=settings.train_resolution)
    out = []
    cursor = {k: 0 for k in by_kind}
    for kind in picks:
        ex = dict(by_kind[kind][cursor[kind]])
        cursor[kind] += 1
        if kind == "describe":
            ex.update(kind="describe", question=DESCRIBE_PROMPT, answer=describe(Scene.from_dict(ex["scene"])))
        out.append(ex)
    return out


def hash_seed(seed: int, name: str) -> int:
    import zlib

    return zlib.crc32(f"{seed}-{name}".encode()) & 0x7FFFFFFF


def encode_batch(processor, examples: Sequence[dict], *, resolution: int | None = None, with_answers: bool = True,
                 question_first: bool = False):
    """Processor inputs for a batch (left padded); with answers, ``labels`` keep only answer tokens + EOS."""
    from longthink.vision_world.vlm import user_message

    tok = processor.tokenizer
    texts = []
    for ex in examples:
        messages = user_message(ex["question"], question_first=question_first)
        if with_answers:
            messages = messages + [{"role": "assistant", "content": ex["answer"]}]
        texts.append(tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=not with_answers))
    images = [example_image(ex, resolution) for ex in examples]
    batch = processor(text=texts, images=images, padding=True, return_tensors="pt")
    if with_answers:
        batch["labels"] = answer_labels(batch["input_ids"], batch["attention_mask"], tok)
    return batch


def answer_labels(input_ids, attention_mask, tok):
    """-100 everywhere but after the last ``<|im_start|>assistant\\n`` header (answer and ``<|im_end|>``)."""
    import torch

    header = tok("<|im_start|>assistant\n", add_special_tokens=False)["input_ids"]
    labels = torch.full_like(input_ids, -100)
    start_id = header[0]
    for i, row in enumerate(input_ids.tolist()):
        starts = [j for j, t in enumerate(row) if t == start_id and row[j: j + len(header)] == header]
        if not starts:
            raise ValueError("a training sequence has no assistant turn: check the chat template")
        a = starts[-1] + len(header)
        labels[i, a:] = input_ids[i, a:]
    labels[attention_mask == 0] = -100
    return labels


# --------------------------------------------------------------------------------------------- pretraining
def pretrain(settings: VisionWorldStage, *, seed: int, out_dir: str | Path, progress: bool = True) -> dict[str, Any]:
    """Build tokenizer, processor and model; train ``max_steps``; save into ``out_dir``; return build figures."""
    import torch
    from tqdm.auto import tqdm

    from longthink.runs import set_seed
    from longthink.training import cosine_schedule
    from longthink.vision_world.vlm import build_processor, build_vision_tokenizer, build_vlm, num_parameters, write_vlm

    started = time.perf_counter()
    old_threads = torch.get_num_threads()
    torch.set_num_threads(settings.num_threads)
    try:
        set_seed(seed)
        tok = build_vision_tokenizer(vocab_size=settings.vocab_size, seed=seed)
        processor = build_processor(tok)
        model = build_vlm(tok, settings.arch(), seed=seed)
        model.train()
        examples = sample_tasks(settings, n=settings.max_steps * settings.batch_size, seed=seed)
        probe = (CellProbe(model, grid=settings.grid, normalise=settings.vision_scale_weight > 0)
                 if settings.vision_aux_weight > 0 else None)
        aux_losses: list[float] = []
        referent = (ReferentProbe(model, grid=settings.grid, layer=settings.referent_aux_layer,
                                  readout=settings.readout_aux_weight > 0)
                    if settings.referent_aux_weight > 0 else None)
        ref_losses: list[float] = []
        read_losses: list[float] = []
        layer_cell_losses: list[float] = []
        scale_losses: list[float] = []
        ref_hits: list[float] = []
        decay, no_decay = [], []
        for name, p in model.named_parameters():
            (no_decay if p.ndim < 2 or "norm" in name else decay).append(p)
        if probe is not None:
            decay += list(probe.head.parameters())
        if referent is not None:
            decay += list(referent.head.parameters())
            if settings.layer_cell_aux_weight > 0 and probe is not None:
                referent.cells = torch.nn.Linear(model.config.get_text_config().hidden_size, sum(probe.sizes))
                decay += list(referent.cells.parameters())
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": settings.weight_decay},
                                 {"params": no_decay, "weight_decay": 0.0}], lr=settings.learning_rate)
        sched = cosine_schedule(opt, warmup_steps=settings.warmup_steps, total_steps=settings.max_steps,
                                min_lr_ratio=settings.min_lr_ratio)
        losses: list[float] = []
        kind_losses: dict[str, list[float]] = {}
        train_started = time.perf_counter()
        bar = tqdm(range(settings.max_steps), desc="pretrain VLM", disable=not progress, mininterval=5)
        for step in bar:
            chunk = examples[step * settings.batch_size: (step + 1) * settings.batch_size]
            opt.zero_grad(set_to_none=True)
            loss = 0.0
            for group in split_by_length(chunk):  # long descriptions and short answers padded apart
                batch = encode_batch(processor, group, question_first=settings.question_first)
                if referent is not None:
                    rows, n_tokens, states = example_losses(model, batch, hidden_layer=referent.layer)
                else:
                    rows, n_tokens = example_losses(model, batch, with_counts=True)
                part = rows.mean() if settings.loss_per_example else (rows * n_tokens).sum() / n_tokens.sum()
                total = part
                if probe is not None:
                    aux = probe.loss(group)
                    aux_losses.append(aux.item())
                    total = total + settings.vision_aux_weight * aux
                    if settings.vision_scale_weight > 0:
                        scale = probe.scale_loss(model, settings.vision_scale_rms)
                        scale_losses.append(scale.item())
                        total = total + settings.vision_scale_weight * scale
                if referent is not None:
                    ref = referent.loss(group, batch["input_ids"], states)
                    if ref is not None:
                        ref_losses.append(ref[0].item())
                        ref_hits.append(ref[1])
                        total = total + settings.referent_aux_weight * ref[0]
                    if referent.cells is not None:
                        deep = referent.cell_loss(probe, group, batch["input_ids"], states)
                        layer_cell_losses.append(deep.item())
                        total = total + settings.layer_cell_aux_weight * deep
                    read = referent.readout_loss(group, batch["input_ids"], batch["labels"])
                    if read is not None:
                        read_losses.append(read.item())
                        total = total + settings.readout_aux_weight * read
                (total * (len(group) / len(chunk))).backward()
                loss += part.item() * len(group) / len(chunk)
                for ex, value in zip(group, rows.tolist()):
                    kind_losses.setdefault(ex["kind"], []).append(value)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            losses.append(loss)
            if step % 50 == 0:
                bar.set_postfix(loss=f"{sum(losses[-50:]) / len(losses[-50:]):.3f}")
            if progress and step % 100 == 99:
                print({k: round(sum(v[-60:]) / len(v[-60:]), 3) for k, v in sorted(kind_losses.items())},
                      *(["referent probe acc", round(sum(ref_hits[-50:]) / len(ref_hits[-50:]), 3)] if ref_hits else []),
                      *(["scale loss", round(scale_losses[-1], 4)] if scale_losses else []),
                      *(["readout loss", round(sum(read_losses[-50:]) / len(read_losses[-50:]), 3)] if read_losses else []),
                      *(["layer cell loss", round(sum(layer_cell_losses[-50:]) / len(layer_cell_losses[-50:]), 3)]
                        if layer_cell_losses else []),
                      flush=True)
        train_seconds = time.perf_counter() - train_started
        if probe is not None:
            probe.remove()  # the probe head is a training device: the saved model is a plain Qwen2-VL
        if referent is not None:
            referent.remove()
        model.eval()
        meta = {
            "train_resolution": settings.train_resolution,
            "grid": settings.grid,
            "shifted_resolutions": list(settings.shifted_resolutions),
            "train_max_pixels": settings.train_resolution ** 2,
            "describe_prompt": DESCRIBE_PROMPT,
            "question_first": settings.question_first,
            "seed": seed,
        }
        write_vlm(model, processor, out_dir, meta=meta)
    finally:
        torch.set_num_threads(old_threads)
    tail = losses[-50:] or [float("nan")]
    return {
        "build_seconds": round(time.perf_counter() - started, 2),
        "train_seconds": round(train_seconds, 2),
        "steps": settings.max_steps,
        "steps_per_second": round(settings.max_steps / max(train_seconds, 1e-9), 3),
        "final_loss": round(sum(tail) / len(tail), 4),
        "loss_curve": [round(sum(losses[i: i + 25]) / len(losses[i: i + 25]), 4) for i in range(0, len(losses), 25)],
        "final_vision_probe_loss": round(sum(aux_losses[-100:]) / len(aux_losses[-100:]), 4) if aux_losses else None,
        "final_referent_probe_loss": round(sum(ref_losses[-100:]) / len(ref_losses[-100:]), 4) if ref_losses else None,
        "final_referent_probe_acc": round(sum(ref_hits[-100:]) / len(ref_hits[-100:]), 4) if ref_hits else None,
        "final_readout_loss": round(sum(read_losses[-100:]) / len(read_losses[-100:]), 4) if read_losses else None,
        "final_loss_by_kind": {k: round(sum(v[-100:]) / len(v[-100:]), 4) for k, v in sorted(kind_losses.items())},
        "parameters": num_parameters(model),
        "load_average": _load_average(),
        "num_threads": settings.num_threads,
    }


def split_by_length(examples: Sequence[dict]) -> list[list[dict]]:
    """Describe tasks (long answers) apart from the rest, so short answers are not padded to 60 tokens."""
    groups = [[e for e in examples if e["kind"] == "describe"], [e for e in examples if e["kind"] != "describe"]]
    return [g for g in groups if g]


def example_losses(model, batch, *, with_counts: bool = False, hidden_layer: int | None = None):
    """Mean next-token loss of each example's answer tokens (a vector, one entry per row; and token counts; and,
    with ``hidden_layer``, that layer's hidden states, ``(batch, length, hidden)``)."""
    import torch
    import torch.nn.functional as F

    labels = batch["labels"]
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    out = model.model(**inputs, output_hidden_states=hidden_layer is not None)
    layer_states = out.hidden_states[hidden_layer] if hidden_layer is not None else None
    hidden = out.last_hidden_state[:, :-1]
    target = labels[:, 1:]
    keep = target != -100  # the vocabulary projection only where there is a target (most positions have none)
    tok_loss = F.cross_entropy(model.lm_head(hidden[keep]), target[keep], reduction="none")
    row = keep.nonzero()[:, 0]
    per_row = torch.zeros(target.size(0), dtype=tok_loss.dtype).index_add_(0, row, tok_loss)
    counts = keep.sum(1).clamp(min=1)
    if hidden_layer is not None:
        return per_row / counts, counts.to(per_row.dtype), layer_states
    return (per_row / counts, counts.to(per_row.dtype)) if with_counts else per_row / counts


def batch_loss(model, batch, *, per_example: bool = True):
    """Next-token loss on answer tokens: averaged per example (short answers weigh as much as descriptions) or
    per token (the dense descriptions dominate)."""
    rows, counts = example_losses(model, batch, with_counts=True)
    return rows.mean() if per_example else (rows * counts).sum() / counts.sum()


def _load_average() -> float | None:
    import os

    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


# ------------------------------------------------------------------------------------------------ evaluation
def generate_answers(model, processor, examples: Sequence[dict], *, resolution: int | None = None,
                     max_new_tokens: int = 24, batch_size: int = 64, question_first: bool = False) -> list[str]:
    """Greedy answers for examples (rendered at ``resolution``, default their own; the question before the image
    with ``question_first``, as the model was pretrained: ``read_meta(path)["question_first"]``)."""
    import torch

    outs: list[str] = []
    tok = processor.tokenizer
    for i in range(0, len(examples), batch_size):
        chunk = examples[i: i + batch_size]
        batch = encode_batch(processor, chunk, resolution=resolution, with_answers=False,
                             question_first=question_first)
        with torch.no_grad():
            gen = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                                 eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
        outs += tok.batch_decode(gen[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
    return [o.strip() for o in outs]


def score(example: dict, prediction: str, *, resolution: int | None = None) -> float:
    """1.0 if right: exact match for words, IoU > 0.5 for boxes (gold rescaled to ``resolution``'s frame)."""
    if example["kind"] in GROUNDING_KINDS:
        pred = parse_box(prediction)
        if pred is None:
            return 0.0
        gold = example["box"]
        if resolution and resolution != example["resolution"]:
            gold = rescale_box(gold, from_resolution=example["resolution"], to_resolution=resolution)
        return float(iou(pred, gold) > 0.5)
    if example["kind"] == "describe":
        grid = example["scene"]["grid"]
        got = parse_description(prediction, grid=grid)
        want = parse_description(example["answer"], grid=grid)
        return sum(got.get(c) == v for c, v in want.items()) / len(want)
    norm = lambda s: " ".join(s.lower().strip().rstrip(".").split())  # noqa: E731
    return float(norm(prediction) == norm(example["answer"]))


def eval_examples(settings: VisionWorldStage, *, seed: int, kinds: Sequence[str], n_per_kind: int) -> list[dict]:
    """Held-out examples (a seed stream disjoint from pretraining's)."""
    out = []
    for kind in kinds:
        q_kind = "shape_at" if kind == "describe" else kind
        exs = generate_examples(n_per_kind, seed=hash_seed(seed, f"eval-{kind}"), kinds=[q_kind], grid=settings.grid,
                                min_objects=settings.min_objects, max_objects=settings.max_objects,
                                resolution=settings.train_resolution)
        if kind == "describe":
            for ex in exs:
                ex.update(kind="describe", question=DESCRIBE_PROMPT, answer=describe(Scene.from_dict(ex["scene"])))
        out += exs
    return out


def evaluate_vlm(path: str | Path, settings: VisionWorldStage, *, seed: int = 0, n_per_kind: int | None = None,
                 resolutions: Sequence[int] | None = None, include_multi_step: bool = True,
                 progress: bool = False) -> dict[str, Any]:
    """Accuracy by question kind at the training resolution, grounding Acc@0.5, accuracy at shifted resolutions.

    "Accuracy at a resolution" is over the single-step questions plus the grounding items, all rendered at that
    resolution (gold boxes in that image's pixel frame); ``describe_by_resolution`` gives the per-cell accuracy of
    the dense description at each resolution. Returns ``{"metrics": {world/...}, "by_kind": {...},
    "by_resolution": {...}, "describe_by_resolution": {...}, "build": {...}}``.
    """
    import numpy as np
    import torch

    from longthink.vision_world.vlm import load_vlm

    n = n_per_kind or settings.eval_per_kind
    old_threads = torch.get_num_threads()
    torch.set_num_threads(settings.num_threads)
    try:
        model, processor = load_vlm(path)
        kinds = [*SINGLE_STEP_KINDS, *GROUNDING_KINDS, "describe", *POSITION_KINDS,
                 *(MULTI_STEP_KINDS if include_multi_step else ())]
        examples = eval_examples(settings, seed=seed, kinds=kinds, n_per_kind=n)
        by_kind: dict[str, float] = {}
        for kind in kinds:
            exs = [e for e in examples if e["kind"] == kind]
            preds = generate_answers(model, processor, exs, max_new_tokens=80 if kind == "describe" else 24,
                                     batch_size=settings.eval_batch_size, question_first=settings.question_first)
            by_kind[kind] = float(np.mean([score(e, p) for e, p in zip(exs, preds)]))
        res_set = [e for e in examples if e["kind"] in (*SINGLE_STEP_KINDS, *GROUNDING_KINDS)]
        by_res: dict[int, float] = {}
        for res in [settings.train_resolution, *(resolutions or settings.shifted_resolutions)]:
            if res == settings.train_resolution:
                scores = [by_kind[k] for k in (*SINGLE_STEP_KINDS, *GROUNDING_KINDS)]
                by_res[res] = float(np.mean(scores))
                continue
            preds = generate_answers(model, processor, res_set, resolution=res, batch_size=settings.eval_batch_size,
                                     question_first=settings.question_first)
            by_res[res] = float(np.mean([score(e, p, resolution=res) for e, p in zip(res_set, preds)]))
        # the dense description (what the base model does best) at every resolution: per-cell accuracy
        describe_set = [e for e in examples if e["kind"] == "describe"]
        describe_by_res: dict[int, float] = {settings.train_resolution: by_kind["describe"]}
        for res in resolutions or settings.shifted_resolutions:
            if res == settings.train_resolution:
                continue
            preds = generate_answers(model, processor, describe_set, resolution=res, max_new_tokens=80,
                                     batch_size=settings.eval_batch_size, question_first=settings.question_first)
            describe_by_res[res] = float(np.mean([score(e, p) for e, p in zip(describe_set, preds)]))
    finally:
        torch.set_num_threads(old_threads)
    shifted = (resolutions or settings.shifted_resolutions)[0]
    metrics = {
        "world/vlm_acc_single_step": float(np.mean([by_kind[k] for k in SINGLE_STEP_KINDS])),
        "world/vlm_grounding_acc50": by_kind["ground"],
        "world/vlm_acc_train_resolution": by_res[settings.train_resolution],
        "world/vlm_acc_shifted_resolution": by_res[shifted],
    }
    metrics["world/vlm_describe_acc_train_resolution"] = describe_by_res[settings.train_resolution]
    metrics["world/vlm_describe_acc_shifted_resolution"] = describe_by_res[shifted]
    # what test-time resolution scaling can recover (issue 6 asks for >= 0.05)
    metrics["world/vlm_resolution_drop"] = metrics["world/vlm_acc_train_resolution"] - metrics["world/vlm_acc_shifted_resolution"]
    if include_multi_step:
        metrics["world/vlm_acc_multi_step_direct"] = float(np.mean([by_kind[k] for k in MULTI_STEP_KINDS]))
    build = build_result(path)
    if "build_seconds" in build:
        metrics["world/vlm_build_seconds"] = build["build_seconds"]
    return {"metrics": metrics, "by_kind": by_kind, "by_resolution": by_res, "describe_by_resolution": describe_by_res,
            "build": build,
            "shifted_resolution": shifted}


def vision_metrics(profile: str = "tiny", *, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Build (or reuse) the profile's base VLM and evaluate it: the notebook's one call."""
    settings, seed = load_settings(profile, overrides)
    path = build_cached(settings, seed=seed)
    report = evaluate_vlm(path, settings, seed=seed)
    report["path"] = str(path)
    return report
