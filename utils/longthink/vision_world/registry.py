"""What the vision world offers the papers, registered with the resolver (``world-vision:<name>``).

* models: ``world-vision:base`` (the base VLM: a tiny Qwen2-VL and its image-only processor, built on first use);
* tools: ``world-vision:scenes`` (scenes, questions, rendering, boxes), ``world-vision:chains`` (the chain teacher).
"""

from __future__ import annotations

from longthink.resolver import Resolved, provides


@provides("world-vision", "base", kind="model")
def base(*, profile: str, seed: int) -> Resolved:
    """the vision world's base VLM (stand-in for Qwen2-VL-Instruct / LLaVA-NeXT)"""
    from longthink.vision_world.pretrain import build_artefact, load_settings

    settings, recipe_seed = load_settings(profile, {"seed": seed})
    artefact = build_artefact(settings, seed=recipe_seed)
    return Resolved("world-vision:base", "model", artefact.key, str(artefact.dir), info=dict(artefact.result))


@provides("world-vision", "scenes", kind="tool")
def scenes(*, profile: str, seed: int) -> Resolved:
    """the scene module: scenes, question kinds, rendering, boxes, IoU"""
    from longthink.vision_world import scenes as module

    return Resolved("world-vision:scenes", "tool", "scenes-1", loader=lambda: module)


@provides("world-vision", "chains", kind="tool")
def chains(*, profile: str, seed: int) -> Resolved:
    """the chain teacher in Insight-V's step format"""
    from longthink.vision_world import chains as module

    return Resolved("world-vision:chains", "tool", "chains-1", loader=lambda: module)


@provides("world-vision", "general", kind="dataset")
def general(*, profile: str, seed: int) -> Resolved:
    """general short-answer rows: a question of the base VLM's kinds and its gold answer alone, in the base VLM's
    answer surface ``<answer> blue </answer>`` (Insight-V's general SFT data, which keeps perception in the summary
    agent: it answers in a few tokens, like the card's)"""
    import random

    from longthink.vision_world.batches import hash_seed
    from longthink.vision_world.pretrain import build_artefact, draw_example, load_settings
    from longthink.vision_world.replies import DESCRIBE, answer_only

    settings, recipe_seed = load_settings(profile, {"seed": seed})
    base_key = build_artefact(settings, seed=recipe_seed).key

    def rows() -> list[dict]:
        rng = random.Random(hash_seed(recipe_seed, "general"))
        weights = {k: w for k, w in settings.task_weights.items() if k != DESCRIBE and w > 0}
        kinds = rng.choices(list(weights), weights=list(weights.values()), k=2048)
        examples = [draw_example(rng, kind, settings, example_id=f"general-{i}") for i, kind in enumerate(kinds)]
        return [{**ex, "id": ex["id"], "example": dict(ex), "reply": answer_only(ex["answer"])} for ex in examples]

    return Resolved("world-vision:general", "dataset", f"general-4-{base_key}", loader=rows)
