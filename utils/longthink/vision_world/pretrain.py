"""The base VLM of the tiny visual world: pretrained on CPU in minutes, cached by config hash.

The stand-in for Qwen2-VL-Instruct / LLaVA-NeXT that Insight-V and TACO start from. It is trained to *look*
(describe a scene, one code per cell), to answer single-step, position and grounding questions through the whole
walk (``reasoning``), and to answer several-step questions through a deliberately short chain (the look, two walk
lines, then a jump to the answer), and only now and then (``long_share``) through the whole chain: greedy decoding
takes the short form, sampling finds the long one, which TACO's RL can reinforce. So it is good at looking and weak
at long reasoning, which is where Insight-V's long chains and TACO's RL act. Replies follow ``replies``:
``<think> look + reasoning </think><answer> … </answer>``.

Pretraining is a plain PyTorch loop (not a paper's stage, so not a TRL trainer) over freshly drawn scenes, with
a curriculum (``schema.VisionWorldStage``): text-only lookup batches, a describe-heavy image phase, then the
main mix, text-only lookups kept in every batch. The loss is the mean over reply tokens, the walk's yes/no marks
weighted ``mark_weight`` and the value after ``count`` or ``=`` weighted ``result_weight``. Past ``max_steps`` the build trains on until the walk saturates on the dev split
(``saturation_check``; capped at ``saturation_max_steps``): a base skill is learned to saturation on every build, not
to wherever a fixed step count left it. One seed gives the same model on one machine (data, initialisation, thread
count).

``vision_model_path(profile)`` returns the cached folder (built on first use) for ``recipes/world_vision.yaml``
under the profile's overlay; its key holds every setting, the seed and ``FORMAT_VERSION``.
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from longthink.vision_world.batches import encode_batch
from longthink.vision_world.drills import DRILLS
from longthink.vision_world.replies import DESCRIBE, reply
from longthink.vision_world.schema import VisionWorldStage
from longthink.vision_world.scenes import MULTI_STEP_KINDS, make_example

STAGE = "vlm"
CACHE_NAME = "world_vision"
FORMAT_VERSION = 7  # 7: two counts in one walk with two tallies ("-> 1 0", "count 1 0") and arithmetic drills; 6: result_weight on the value after "count" and "="; 5: a count walk's tally after every cell ("a3 . 1"); 4: after objects only ("-> yes 2"); 3: walks visit every cell (empty ones as "a2 ."); 2: occupied cells only; 1: issue 6


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


def build_key(settings: VisionWorldStage, seed: int) -> dict[str, Any]:
    """What the cached build depends on: every setting (defaults included), the seed and the reply format."""
    return {"settings": hashed_settings(settings), "seed": seed, "format_version": FORMAT_VERSION}


def hashed_settings(settings: VisionWorldStage) -> dict[str, Any]:
    """Every setting of the build, defaults included: a cache key holds them all (``longthink.stages``)."""
    return dataclasses.asdict(settings)


def build_artefact(settings: VisionWorldStage, *, seed: int = 0, root: str | Path | None = None,
                   progress: bool = True):
    """The base VLM's cache entry (``longthink.stages.Artefact``: folder, key, build result)."""
    from longthink.stages import cache_dir, cached_build

    return cached_build(Path(root) if root else cache_dir() / CACHE_NAME, "vlm", build_key(settings, seed),
                        lambda tmp: pretrain(settings, seed=seed, out_dir=tmp, progress=progress))


def build_cached(settings: VisionWorldStage, *, seed: int = 0, root: str | Path | None = None,
                 progress: bool = True) -> Path:
    """The base VLM's folder: built once (minutes on CPU), then found by its key."""
    return build_artefact(settings, seed=seed, root=root, progress=progress).dir


def vision_metrics(profile: str = "tiny", *, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Build (or reuse) the profile's base VLM and evaluate it: the notebook's one call."""
    import time

    from longthink.vision_world.evaluate import evaluate_vlm
    from longthink.vision_world.vlm import load_vlm

    settings, seed = load_settings(profile, overrides)
    path = build_cached(settings, seed=seed)  # builds on the first run (a progress bar), else finds the folder
    started = time.perf_counter()  # what every later run pays: find the cached build by its key, load it
    load_vlm(build_cached(settings, seed=seed))
    load_seconds = time.perf_counter() - started
    report = evaluate_vlm(path, settings, seed=seed)
    report["metrics"]["world/vlm_load_seconds"] = round(load_seconds, 2)
    report["path"] = str(path)
    report["settings"] = settings
    return report


# ---------------------------------------------------------------------------------------------- task data
def phase_of(step: int, settings: VisionWorldStage) -> str:
    """``text`` (lookup warm-up), ``describe`` (describe-heavy image phase) or ``main``."""
    if step < settings.text_warmup_steps:
        return "text"
    if step < settings.text_warmup_steps + settings.describe_warmup_steps:
        return "describe"
    return "main"


def draw_example(rng: random.Random, kind: str, settings: VisionWorldStage, *, text_only: bool = False,
                 example_id: str = "") -> dict[str, Any]:
    """One training example of ``kind`` (``describe``, a question kind or a text drill) with its gold ``reply``."""
    if kind in DRILLS:
        return DRILLS[kind](rng, example_id=example_id)
    while True:
        ex = make_example(rng, "shape_at" if kind == DESCRIBE else kind, grid=settings.grid,
                          min_objects=settings.min_objects, max_objects=settings.max_objects,
                          resolution=settings.train_resolution, example_id=example_id)
        if ex is not None:
            break
    if kind == DESCRIBE:
        ex["kind"] = DESCRIBE
    ex["text_only"] = text_only
    # a several-step question is answered through the whole chain now and then (long_share), else briefly
    style = "long" if kind in MULTI_STEP_KINDS and settings.long_share and rng.random() < settings.long_share else None
    ex["reply"] = reply(ex, style=style, **settings.reply_options)
    return ex


def sample_batch(rng: random.Random, step: int, settings: VisionWorldStage) -> list[dict[str, Any]]:
    """The examples of one optimizer step, drawn by the curriculum's phase at ``step``."""
    phase = phase_of(step, settings)
    image_kinds = dict(settings.task_weights)
    if phase == "describe":
        rest = sum(w for k, w in image_kinds.items() if k != DESCRIBE) or 1.0
        image_kinds = {k: (settings.describe_warmup_share if k == DESCRIBE else
                           (1 - settings.describe_warmup_share) * w / rest) for k, w in image_kinds.items()}
        image_kinds.setdefault(DESCRIBE, settings.describe_warmup_share)
    text_kinds = settings.text_task_weights
    out = []
    for i in range(settings.batch_size):
        text_only = phase == "text" or rng.random() < settings.text_share
        pool = text_kinds if text_only else image_kinds
        names = sorted(k for k, w in pool.items() if w > 0)
        kind = rng.choices(names, weights=[pool[k] for k in names])[0]
        out.append(draw_example(rng, kind, settings, text_only=text_only, example_id=f"train-{step}-{i}"))
    for i in range(settings.drills_per_batch):  # short text drills on top of the batch (a few tokens each)
        kind = rng.choice(sorted(DRILLS))
        out.append(draw_example(rng, kind, settings, text_only=True, example_id=f"train-{step}-drill-{i}"))
    return out


def weighted_loss(model, batch, *, total_weight: float | None = None):
    """Weighted next-token loss over reply tokens, divided by ``total_weight`` (default: this batch's weights;
    a step split into length groups passes the whole step's), and the per-example mean losses (for the log)."""
    import torch
    import torch.nn.functional as F

    labels, weights = batch["labels"][:, 1:], batch["weights"][:, 1:]
    inputs = {k: v for k, v in batch.items() if k not in ("labels", "weights")}
    hidden = model.model(**inputs).last_hidden_state[:, :-1]
    keep = labels != -100  # the vocabulary projection only where there is a target
    tok_loss = F.cross_entropy(model.lm_head(hidden[keep]), labels[keep], reduction="none")
    w = weights[keep]
    row = keep.nonzero()[:, 0]
    per_row = torch.zeros(labels.size(0)).index_add_(0, row, tok_loss.detach()) / keep.sum(1).clamp(min=1)
    return (tok_loss * w).sum() / (total_weight or w.sum()), per_row


def length_groups(examples: Sequence[dict], n_groups: int) -> list[list[dict]]:
    """Examples sorted by length and cut into ``n_groups`` runs, so short replies are not padded to long ones
    (measured: 6,300 padded tokens per step of 32 for 4,000 real ones; 4 groups pad to about 4,500)."""
    def size(ex: dict) -> int:
        return len(ex["reply"].split())

    ordered = sorted(examples, key=size)
    k = max(1, math.ceil(len(ordered) / max(1, n_groups)))
    return [ordered[i: i + k] for i in range(0, len(ordered), k)]


# ------------------------------------------------------------------------------------------- saturation check
def saturation_check(model, processor, settings: VisionWorldStage, *, seed: int) -> dict[str, Any]:
    """Greedy accuracy on ``saturation_per_kind`` dev-split questions of each ``saturation_kinds`` kind (never
    the eval split the bars are read on); ``passed`` when every kind reaches ``saturation_target``."""
    import torch

    from longthink.vision_world.evaluate import eval_examples, generate_replies, score

    started = time.perf_counter()
    examples = eval_examples(settings, seed=seed, kinds=settings.saturation_kinds,
                             n_per_kind=settings.saturation_per_kind, split="dev")
    model.eval()
    try:
        with torch.no_grad():
            preds = generate_replies(model, processor, examples, batch_size=settings.eval_batch_size)
    finally:
        model.train()
    acc = {k: 0.0 for k in settings.saturation_kinds}
    for ex, pred in zip(examples, preds):
        acc[ex["kind"]] += score(ex, pred) / settings.saturation_per_kind
    acc = {k: round(v, 4) for k, v in acc.items()}
    return {"dev_acc": acc, "passed": min(acc.values()) >= settings.saturation_target,
            "seconds": round(time.perf_counter() - started, 1)}


# --------------------------------------------------------------------------------------------- pretraining
def pretrain(settings: VisionWorldStage, *, seed: int, out_dir: str | Path, progress: bool = True) -> dict[str, Any]:
    """Build tokenizer, processor and model; train ``max_steps``, then on to saturation (``saturation_*``); save into
    ``out_dir``; return build figures (the saturation checks among them)."""
    import torch
    from tqdm.auto import tqdm

    from longthink.runs import set_seed
    from longthink.training import check_trained, cosine_schedule, torch_threads, train_to_saturation
    from longthink.vision_world.vision_encoder import pretrain_vision_tower
    from longthink.vision_world.vlm import build_processor, build_vision_tokenizer, build_vlm, num_parameters, write_vlm

    started = time.perf_counter()
    with torch_threads(settings.num_threads):
        set_seed(seed)
        tok = build_vision_tokenizer(vocab_size=settings.vocab_size, seed=seed, grid=settings.grid,
                                     corpus_size=settings.tokenizer_corpus_size, max_number=settings.max_number)
        processor = build_processor(tok)
        model = build_vlm(tok, settings.arch(), seed=seed)
        vision = pretrain_vision_tower(model, processor, grid=settings.grid, resolution=settings.train_resolution,
                                       min_objects=settings.min_objects, max_objects=settings.max_objects,
                                       steps=settings.vision_steps, batch_size=settings.vision_batch_size,
                                       learning_rate=settings.vision_learning_rate, seed=seed)
        vision["vision_seconds"] = round(time.perf_counter() - started, 2)
        if progress:
            print(vision, flush=True)
        model.train()
        decay, no_decay = [], []
        for name, p in model.named_parameters():
            (no_decay if p.ndim < 2 or "norm" in name else decay).append(p)
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": settings.weight_decay},
                                 {"params": no_decay, "weight_decay": 0.0}], lr=settings.learning_rate,
                                betas=(0.9, 0.98))
        sched = cosine_schedule(opt, warmup_steps=settings.warmup_steps, total_steps=settings.max_steps,
                                min_lr_ratio=settings.min_lr_ratio)
        rng = random.Random(f"vlm-train-{seed}")
        losses: list[float] = []
        kind_losses: dict[str, list[float]] = {}
        log: list[dict[str, Any]] = []
        train_started = time.perf_counter()

        def train_step(step: int) -> None:
            groups = length_groups(sample_batch(rng, step, settings), settings.length_groups)
            batches = [encode_batch(processor, g, mark_weight=settings.mark_weight, result_weight=settings.result_weight) for g in groups]
            total = float(sum((b["weights"][:, 1:] * (b["labels"][:, 1:] != -100)).sum() for b in batches))
            opt.zero_grad(set_to_none=True)
            step_loss = 0.0
            for group, batch in zip(groups, batches):
                loss, per_row = weighted_loss(model, batch, total_weight=total)
                loss.backward()
                step_loss += loss.item()
                for ex, value in zip(group, per_row.tolist()):
                    key = ("text:" if ex["text_only"] else "") + ex["kind"]
                    kind_losses.setdefault(key, []).append(value)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            if step < settings.max_steps:  # past the schedule's end the rate stays at its floor (min_lr_ratio)
                sched.step()
            losses.append(step_loss)
            if step % 100 == 99 or step == settings.max_steps - 1:
                recent = {k: v[-30:] for k, v in sorted(kind_losses.items())}
                log.append({"step": step + 1, "seconds": round(time.perf_counter() - train_started, 1),
                            "phase": phase_of(step, settings), "loss": round(sum(losses[-100:]) / len(losses[-100:]), 4),
                            "by_kind": {k: round(sum(v) / len(v), 3) for k, v in recent.items()}})
                if progress:
                    print(log[-1], flush=True)

        bar = tqdm(range(settings.max_steps), desc="pretrain VLM", disable=not progress, mininterval=5)
        for step in bar:
            train_step(step)
            if step % 50 == 49:
                bar.set_postfix(loss=f"{sum(losses[-50:]) / 50:.3f}")
        # Train to saturation: past max_steps, check the walk on the dev split every saturation_every steps and
        # stop once every checked kind is at saturation_target, or at saturation_max_steps (the cap).
        checks = train_to_saturation(
            train_step, lambda: saturation_check(model, processor, settings, seed=seed),
            start=settings.max_steps, every=settings.saturation_every, cap=settings.saturation_max_steps,
            on_check=(lambda c: print({"saturation_check": c}, flush=True)) if progress else None)
        train_seconds = time.perf_counter() - train_started
        check_trained("world.vlm", steps=len(losses), loss=sum(losses[-50:]) / max(1, len(losses[-50:])))
        model.eval()
        meta = {
            "train_resolution": settings.train_resolution,
            "grid": settings.grid,
            "shifted_resolutions": list(settings.shifted_resolutions),
            "train_max_pixels": settings.train_resolution ** 2,
            "format_version": FORMAT_VERSION,
            "reply_options": settings.reply_options,
            "seed": seed,
        }
        write_vlm(model, processor, out_dir, meta=meta)
    tail = losses[-50:]
    return {
        "build_seconds": round(time.perf_counter() - started, 2),
        "train_seconds": round(train_seconds, 2),
        "steps": len(losses),
        "steps_per_second": round(len(losses) / max(train_seconds, 1e-9), 3),
        "saturation_checks": checks,
        "saturated": checks[-1]["passed"] if checks else None,  # None: no check asked for
        "final_loss": round(sum(tail) / len(tail), 4),
        **vision,
        "log": log,
        "final_loss_by_kind": {k: round(sum(v[-100:]) / len(v[-100:]), 4) for k, v in sorted(kind_losses.items())},
        "parameters": num_parameters(model),
        "load_average": _load_average(),
        "num_threads": settings.num_threads,
    }


def _load_average() -> float | None:
    import os

    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None
