"""The world resolver: references to models, data sets and tools; keys follow the seed and the settings."""

import pytest

from longthink.resolver import Resolved, ResolveError, local_key, provides, resolve, resolve_rows, split_ref


@pytest.fixture
def smoke_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LONGTHINK_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_split_and_external_refs(tmp_path):
    assert split_ref("world:instruct") == ("world", "instruct")
    assert split_ref("world-vision:base") == ("world-vision", "base")
    assert split_ref("Qwen/Qwen2.5-32B") == (None, "Qwen/Qwen2.5-32B")
    hub = resolve("Qwen/Qwen2.5-32B")
    assert hub.path == "Qwen/Qwen2.5-32B" and hub.key == "hub:Qwen/Qwen2.5-32B"
    with pytest.raises(ResolveError, match="model folder not found"):
        resolve("./missing-model")
    with pytest.raises(ResolveError, match="non-empty"):
        resolve("")
    with pytest.raises(ResolveError, match="names no tool"):
        resolve("Qwen/Qwen2.5-32B", kind="tool")


def test_unknown_and_wrong_kind():
    with pytest.raises(ResolveError, match=r"unknown reference 'world:nope'.*provides \['by_difficulty'"):
        resolve("world:nope")
    with pytest.raises(ResolveError, match="'world:pool' is a dataset, not a model"):
        resolve("world:pool", kind="model", profile="smoke")
    with pytest.raises(ResolveError, match="paper profile names hub models"):
        resolve("world:instruct", profile="paper")


def test_world_data_sets_follow_the_seed(smoke_cache):
    a0 = resolve("world:hard", kind="dataset", profile="smoke", seed=0)
    a1 = resolve("world:hard", kind="dataset", profile="smoke", seed=1)
    assert a0.key != a1.key
    rows0, rows1 = a0.rows(), a1.rows()
    assert {"question", "answer", "difficulty"} <= set(rows0[0])
    assert [r["question"] for r in rows0] != [r["question"] for r in rows1]
    assert resolve("world:hard", kind="dataset", profile="smoke", seed=0).key == a0.key
    assert resolve_rows("world:hard", profile="smoke", seed=0) == rows0


def test_a_world_model_is_built_once_per_seed(smoke_cache):
    m0 = resolve("world:guider_base", profile="smoke", seed=0)
    again = resolve("world:guider_base", profile="smoke", seed=0)
    m1 = resolve("world:guider_base", profile="smoke", seed=1)
    assert m0.path == again.path and m0.key == again.key
    assert m1.key != m0.key and m1.path != m0.path
    assert (smoke_cache / "cache" / "world").is_dir()
    tool = resolve("world:tasks", kind="tool", profile="smoke", seed=0).load()
    assert tool.solve("Mix 3:f+4,g*3.") == "1"


def test_local_folders_key_on_their_stage(tmp_path):
    from longthink.stages import Stage

    def build(out):
        (out / "model").mkdir()
        (out / "model" / "w").write_text("1")
        return {}

    stage = Stage(tmp_path / "sft", "sft", {"x": 1})
    stage.run(build)
    assert local_key(tmp_path / "sft" / "model") == f"{stage.key}/model"
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "w").write_text("1")
    first = local_key(loose)
    (loose / "w").write_text("22")
    assert first.startswith("local:") and local_key(loose) != first


def test_a_world_registers_its_entries():
    @provides("world", "test_entry", kind="tool")
    def entry(*, profile, seed):
        """a test tool"""
        return Resolved("world:test_entry", "tool", f"t-{seed}", loader=lambda: seed)

    assert resolve("world:test_entry", kind="tool", seed=4).load() == 4


def test_vision_general_rows_are_short_answers_drawn_by_seed(smoke_cache):
    """Insight-V's general SFT rows: questions of the base VLM's kinds, each answered by its gold answer alone in the
    base VLM's answer surface (the summary agent's short answers), drawn by seed."""

    general = resolve("world-vision:general", kind="dataset", profile="smoke", seed=0)
    rows = general.rows()
    assert len(rows) == 2048 and len({r["id"] for r in rows}) == 2048
    row = rows[0]
    assert {"question", "answer", "kind", "scene", "reply"} <= set(row)
    assert row["reply"] == f"<answer> {row['answer']} </answer>" and "<think>" not in row["reply"]
    assert row["kind"] != "describe"
    assert resolve("world-vision:general", kind="dataset", profile="smoke", seed=1).key != general.key
