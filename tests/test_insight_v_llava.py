"""The paper recipe's LLaVA-NeXT loading code, on a folder a test writes with ``save_pretrained`` of a tiny model of
the same class (``LlavaNextForConditionalGeneration``)."""

import pytest

from insight_v_helpers import image, save_tiny_llava_next
from longthink.insight_v import agents, llava
from longthink.insight_v.vlm import Sampling, freeze_vision_tower, generate


@pytest.fixture(scope="module")
def llava_dir(tmp_path_factory):
    return save_tiny_llava_next(tmp_path_factory.mktemp("llava") / "tiny-llava-next")


def test_the_paper_recipe_names_llava_next_llama3_8b():
    from longthink.config import load_recipe, recipe_path

    recipe = load_recipe(recipe_path("insight_v"), profile="paper")
    assert recipe.stage("models").kit.base == llava.LLAVA_NEXT_LLAMA3_8B
    assert recipe.stage("models").kit.add_think_tokens and recipe.stage("models").kit.freeze_vision_tower


def test_grid_pinpoints_are_upstreams_one_to_three_tiles():
    points = llava.grid_pinpoints()
    assert len(points) == 9 and [336, 336] in points and [1008, 1008] in points and [336, 1008] in points


def test_load_adds_think_tokens_mean_initialised_and_matches_the_grid(llava_dir):
    import torch

    from longthink.models import load_vlm

    plain, _ = load_vlm(str(llava_dir))
    old_rows = plain.get_input_embeddings().weight.shape[0]
    model, processor, info = llava.load_llava_next(llava_dir, role="reason", dtype="float32")
    tok = processor.tokenizer
    assert info["added_tokens"] == 4
    ids = [tok.convert_tokens_to_ids(t) for t in llava.THINK_TOKENS]
    assert all(i >= old_rows for i in ids) and all(tok.added_tokens_decoder[i].special for i in ids)
    emb_in, emb_out = model.get_input_embeddings().weight, model.get_output_embeddings().weight
    assert torch.allclose(emb_in[ids[0]], plain.get_input_embeddings().weight.mean(dim=0), atol=1e-6)
    assert torch.allclose(emb_out[ids[-1]], plain.get_output_embeddings().weight.mean(dim=0), atol=1e-6)
    tile = model.config.vision_config.image_size
    assert model.config.image_grid_pinpoints == llava.grid_pinpoints(tile) == processor.image_processor.image_grid_pinpoints
    assert model.config.vision_feature_layer == -1
    _, _, summary_info = llava.load_llava_next(llava_dir, role="summary", dtype="float32")
    assert summary_info["vision_feature_layer"] == -2


def test_the_vision_tower_freezes_and_the_projector_trains(llava_dir):
    model, _, _ = llava.load_llava_next(llava_dir, dtype="float32")
    frozen = freeze_vision_tower(model)
    assert frozen == sum(p.numel() for p in model.model.vision_tower.parameters())
    assert all(p.requires_grad for p in model.model.multi_modal_projector.parameters())


def test_the_prepared_model_writes_and_decodes_a_chain_tag(llava_dir):
    model, processor, _ = llava.load_llava_next(llava_dir, dtype="float32")
    processor.tokenizer.padding_side = "left"
    out = generate(model, processor, [agents.reason_messages("How many?")] * 2, [image(0, 40), image(1, 60)],
                   sampling=Sampling(max_new_tokens=4), batch_size=2)
    assert len(out) == 2
    tok = processor.tokenizer
    ids = tok("<thoughts>\nCount: 2\n</thoughts>", add_special_tokens=False)["input_ids"]
    assert tok.decode(ids, skip_special_tokens=False) == "<thoughts>\nCount: 2\n</thoughts>"


def test_a_model_that_is_not_llava_next_is_refused(tmp_path):
    from insight_v_helpers import save_tiny_vlm

    folder = save_tiny_vlm(tmp_path / "qwen")
    with pytest.raises(ValueError, match="not LLaVA-NeXT"):
        llava.load_llava_next(folder, dtype="float32")
