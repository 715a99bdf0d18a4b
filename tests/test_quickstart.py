"""The quickstart's stages: the trained model is keyed on the data it was trained on."""

import pytest

from longthink import quickstart


@pytest.mark.slow
def test_a_changed_data_setting_retrains_the_model(tmp_path):
    ctx = quickstart.setup("smoke", seed=0, output_dir=str(tmp_path), overrides={"sft.max_steps": 2})
    data = quickstart.build_data(ctx)
    model = quickstart.train(ctx, data)
    again = quickstart.train(ctx, quickstart.build_data(ctx))
    assert again.key == model.key and again.dir == model.dir
    ctx2 = quickstart.setup("smoke", seed=0, output_dir=str(tmp_path),
                            overrides={"sft.max_steps": 2, "data.max_operand": 5})
    data2 = quickstart.build_data(ctx2)
    assert data2.key != data.key
    model2 = quickstart.train(ctx2, data2)
    assert model2.key != model.key  # today's runner: the model's key holds its data's key
    assert max(int(r["answer"]) for r in quickstart.read_examples(data2, "train")) <= 10
    result = quickstart.evaluate(ctx2, model2, data2)
    assert 0.0 <= result["accuracy"] <= 1.0 and len(result["samples"]) == 8
