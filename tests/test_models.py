import pytest

from longthink.models import ModelLoadError, load_causal_lm, resolve_model, save_pretrained


def test_roundtrip_local_folder(tiny_model_dir):
    model, tok = load_causal_lm(str(tiny_model_dir))
    assert type(tok).__name__ in {"PreTrainedTokenizerFast", "TokenizersBackend"}  # not Qwen2Tokenizer
    assert tok.padding_side == "left" and tok.eos_token == "<|im_end|>"
    assert not model.training
    assert (tiny_model_dir / "model.safetensors").exists()
    ids = tok("a = 37 + 4", return_tensors="pt")
    assert model(**ids).logits.shape[-1] == model.config.vocab_size


def test_missing_folder_and_non_model_folder(tmp_path):
    with pytest.raises(ModelLoadError, match="model folder not found"):
        load_causal_lm(str(tmp_path / "missing"))
    with pytest.raises(ModelLoadError, match="config.json is missing"):
        load_causal_lm(str(tmp_path))


def test_resolve_passes_hub_ids_and_rejects_empty():
    assert resolve_model("Qwen/Qwen2.5-32B-Instruct") == "Qwen/Qwen2.5-32B-Instruct"
    with pytest.raises(ModelLoadError, match="non-empty"):
        resolve_model("")


def test_save_is_atomic(tmp_path, tiny_model_dir):
    model, tok = load_causal_lm(str(tiny_model_dir))

    class Broken:
        def save_pretrained(self, path):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        save_pretrained(model, Broken(), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_truncated_model_file_is_an_error_naming_the_reference(tmp_path, tiny_model_dir):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(ModelLoadError, match=f"cannot load model '{broken}'"):
        load_causal_lm(str(broken))


def test_a_stage_model_overwritten_in_place_is_rebuilt_not_loaded(tmp_path, tiny_model_dir):
    """Same size, other bytes: the stage's checksums catch it before anything loads the model."""
    import shutil

    from longthink.stages import Stage

    calls = []

    def build(out):
        calls.append(1)
        shutil.copytree(tiny_model_dir, out / "model")
        return {}

    stage = Stage(tmp_path / "sft", "sft", {"lr": 1})
    stage.run(build)
    weights = tmp_path / "sft" / "model" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-8:] = b"\x00" * 8
    weights.write_bytes(bytes(data))
    again = Stage(tmp_path / "sft", "sft", {"lr": 1})
    assert again.problems() and "model/model.safetensors" in again.problems()[0]
    again.run(build)
    assert len(calls) == 2
    load_causal_lm(str(tmp_path / "sft" / "model"))  # the rebuilt model loads
