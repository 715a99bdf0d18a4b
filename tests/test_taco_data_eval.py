"""TACO's data rows, shifted resolutions, paper jsonl rows, greedy evaluation, TTRS on a model, and the judge."""

from __future__ import annotations

import json

import pytest
import taco_helpers as H

from longthink.taco import data
from longthink.taco.evaluate import by_kind, evaluate, evaluate_scales, score, summarize, ttme
from longthink.taco.frames import PixelBounds
from longthink.taco.inference import Replies, generate_replies
from longthink.taco.rewards import RewardSettings

BOUNDS = PixelBounds(784, 448 * 448)
SETTINGS = RewardSettings(bounds=BOUNDS, iou_plus=0.0)


def test_world_rows_are_indexed_split_by_seed_and_carry_what_rewards_read():
    rows = H.rows(n_rec=3, n_vqa=5)
    assert [r["index"] for r in rows] == list(range(8))
    assert sum(r["task"] == "rec" for r in rows) == 3
    for r in rows:
        assert r["image_size"] == [112, 112] and r["prompt"][0]["content"] == r["question"]
        assert (r["box"] is not None) == (r["task"] == "rec")
        assert 3 <= r["objects"] <= 5
    dev = H.rows(split="dev", n_rec=3, n_vqa=5)
    assert {r["question"] + r["scene"] for r in rows}.isdisjoint({r["question"] + r["scene"] for r in dev})
    assert H.rows(n_rec=3, n_vqa=5) == rows  # seeded
    with pytest.raises(ValueError, match="unknown split"):
        H.rows(split="test")


def test_shifted_rows_rescale_the_gold_box():
    rec = next(r for r in H.rows(n_rec=2, n_vqa=0))
    big = data.shifted(rec, 1.5, scenes=H.scenes())
    assert big["image_size"] == [168, 168] and big["resolution"] == 168
    assert big["box"] == pytest.approx([v * 1.5 for v in rec["box"]])
    resized = data.shifted(rec, 0.75)  # no scene tool: the image itself is resized
    assert resized["image_size"] == [84, 84] and resized["box"] == pytest.approx([v * 0.75 for v in rec["box"]])


def test_trl_dataset_and_summary():
    rows = H.rows(n_rec=2, n_vqa=2)
    ds = data.trl_dataset(rows)
    assert len(ds) == 4 and "scene" not in ds.column_names and "index" in ds.column_names
    s = data.row_summary(rows)
    assert s["n"] == 4 and s["task"] == {"rec": 2, "vqa": 2}
    with pytest.raises(ValueError, match="no training rows"):
        data.trl_dataset([])


def test_jsonl_rows_read_vlm_r1_files(tmp_path):
    from PIL import Image

    Image.new("RGB", (64, 48), "white").save(tmp_path / "a.jpg")
    lines = [{"image": "a.jpg", "problem": "the cat", "solution": [1, 2, 30, 40]},
             {"image": "a.jpg", "problem": "the dog", "solution": "<answer>[3, 4, 10, 12]</answer>"}]
    (tmp_path / "rec.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    rows = data.jsonl_rows(tmp_path / "rec.jsonl", task="rec", image_root=tmp_path)
    assert [r["box"] for r in rows] == [[1, 2, 30, 40], [3, 4, 10, 12]] and rows[0]["image_size"] == [64, 48]
    (tmp_path / "bad.jsonl").write_text(json.dumps({"image": "a.jpg", "problem": "x", "solution": "no box"}) + "\n")
    with pytest.raises(ValueError, match="bad.jsonl: line 1: a REC solution must be a box"):
        data.jsonl_rows(tmp_path / "bad.jsonl", task="rec", image_root=tmp_path)
    (tmp_path / "broken.jsonl").write_text("{not json\n")
    with pytest.raises(ValueError, match="broken.jsonl: line 1 is not JSON"):
        data.jsonl_rows(tmp_path / "broken.jsonl", task="rec", image_root=tmp_path)
    with pytest.raises(FileNotFoundError, match="missing.jsonl"):
        data.jsonl_rows(tmp_path / "missing.jsonl", task="rec")


def _replies(texts, size=(112, 112)):
    return Replies(texts=list(texts), given_sizes=[size] * len(texts), visual_tokens=[16] * len(texts))


def test_score_and_summarize_count_acc50_accuracy_and_consistency():
    rows = H.rows(n_rec=2, n_vqa=2)
    texts = []
    for r in rows:
        if r["task"] == "rec":
            b = "[ " + " , ".join(str(round(v)) for v in r["box"]) + " ]"
            texts.append(f"<think> box {b} </think><answer> {b} </answer>")
        else:
            texts.append(f"<think> so {r['answer']} </think><answer> {r['answer']} </answer>")
    records = score(rows, _replies(texts), SETTINGS)
    s = summarize(records)
    assert s["rec_acc50"] == 1.0 and s["vqa_acc"] == 1.0 and s["consistency"] == 1.0 and s["n_rec"] == 2
    wrong = score(rows, _replies(["<answer> nothing </answer>"] * 4), SETTINGS)
    assert summarize(wrong)["acc"] == 0.0 and summarize(wrong)["consistency"] == 0.0
    assert set(by_kind(records)) == {r["kind"] for r in rows}
    # a box given in a doubled frame is mapped back before it is scored
    rec = [r for r in rows if r["task"] == "rec"][:1]
    doubled = "[ " + " , ".join(str(round(2 * v)) for v in rec[0]["box"]) + " ]"
    assert score(rec, _replies([f"<answer> {doubled} </answer>"], (224, 224)), SETTINGS)[0]["correct"] == 1.0


def test_ttme_keeps_the_medoid_and_majority_and_sums_compute():
    rows = H.rows(n_rec=1, n_vqa=1)
    rec, vqa = rows if rows[0]["task"] == "rec" else rows[::-1]
    b = "[ " + " , ".join(str(round(v)) for v in rec["box"]) + " ]"
    gold = vqa["answer"]
    by_scale = {}
    for s, (rb, va) in {0.5: ("[ 0 , 0 , 5 , 5 ]", "zzz"), 1.0: (b, gold), 2.0: (b, gold)}.items():
        by_scale[s] = score([rec, vqa], _replies([f"<answer> {rb} </answer>", f"<answer> {va} </answer>"]), SETTINGS)
    fused = ttme(by_scale)
    assert all(r["correct"] == 1.0 for r in fused) and all(r["visual_tokens"] == 48 for r in fused)


@pytest.fixture(scope="module")
def vlm(tmp_path_factory):
    return H.vlm_folder(tmp_path_factory.mktemp("taco_eval") / "vlm")


def test_generate_replies_reads_the_given_size_and_tokens(vlm):
    from longthink.taco.pipeline import load_model

    model, processor = load_model(str(vlm), BOUNDS)
    rows = H.rows(n_rec=1, n_vqa=1)
    out = generate_replies(model, processor, rows, max_new_tokens=4, batch_size=2)
    assert len(out.texts) == 2 and out.given_sizes == [(112, 112)] * 2 and out.visual_tokens == [16, 16]
    small = generate_replies(model, processor, rows, bounds=PixelBounds(784, 56 * 56), max_new_tokens=2)
    assert small.given_sizes == [(56, 56)] * 2 and small.visual_tokens == [4, 4]
    assert processor.image_processor.size["longest_edge"] == 448 * 448  # restored
    records = evaluate(model, processor, rows, SETTINGS, max_new_tokens=4)
    assert len(records) == 2 and {"correct", "consistent", "visual_tokens", "reply"} <= set(records[0])
    scales = evaluate_scales(model, processor, rows, SETTINGS, scales=[0.5, 1.0], base=BOUNDS, train_pixels=12544,
                             bound="both", max_new_tokens=2)
    assert [r["visual_tokens"] for r in scales[0.5]] == [4, 4] and [r["visual_tokens"] for r in scales[1.0]] == [16, 16]


# -------------------------------------------------------------------------------------------------- judge
def test_parse_verdict_and_prompts():
    from longthink.taco.judge import judge_prompt, parse_verdict

    assert [parse_verdict(t) for t in ("1", " yes.", "True", "0", "no", "maybe", None, "", "10")] == \
        [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    text = judge_prompt({"question": "q", "think": "t", "answer": "a", "gold": "g"})
    assert "Reference answer: g" in text
    assert "Reference" not in judge_prompt({"question": "q", "think": "t", "answer": "a"}, template="support")
    with pytest.raises(ValueError, match="unknown judge template"):
        judge_prompt({}, template="x")


def test_llm_judge_runs_a_causal_lm_and_never_pays_garbage(tiny_model_dir):
    from longthink.taco.judge import LLMJudge

    judge = LLMJudge(str(tiny_model_dir), backend="hf", max_new_tokens=3, profile="smoke")
    out = judge([{"question": "q", "think": "t", "answer": "3", "gold": "3"}] * 3)
    assert len(out) == 3 and set(out) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="unknown judge backend"):
        LLMJudge("m", backend="tgi")
