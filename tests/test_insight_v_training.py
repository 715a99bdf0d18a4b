"""A VLM as Insight-V uses it, on a tiny Qwen2-VL built in the test: batched generation that keeps the chain tags,
TRL SFT of an agent with a frozen vision tower, the two-agent system, and one round of stock-TRL DPO."""

import pytest

from insight_v_helpers import image, save_tiny_vlm
from longthink.insight_v import agents, dpo, inference
from longthink.insight_v.schema import DPOStage, SFTStage
from longthink.insight_v.steps import FINAL, Path, step
from longthink.insight_v.vlm import Sampling, decode, freeze_vision_tower, generate, load, train_sft


@pytest.fixture(scope="module")
def vlm_dir(tmp_path_factory):
    return save_tiny_vlm(tmp_path_factory.mktemp("vlm") / "base")


QUESTIONS = {f"q{i}": {"id": f"q{i}", "kind": "count_cond", "question": "How many red circles?", "answer": str(i % 3)}
             for i in range(8)}


def _image_fn(q):
    return image(int(q["id"][1:]))


def _stage(kind_cls, name, trainer, **kit):
    from longthink.config import StageSettings

    return StageSettings(name, f"insight_v.{name}", kind_cls(**kit), trainer, "sft" if kind_cls is SFTStage else "dpo")


def test_decode_keeps_the_tags_and_stops_at_the_end_of_turn(vlm_dir):
    _, processor = load(vlm_dir)
    tok = processor.tokenizer
    ids = tok("<thoughts>\nCount: count 2\n</thoughts>", add_special_tokens=False)["input_ids"]
    text = decode(tok, ids + [tok.eos_token_id] + ids, {tok.eos_token_id})
    assert text == "<thoughts>\nCount: count 2\n</thoughts>"


def test_generate_is_batched_and_seeded(vlm_dir):
    model, processor = load(vlm_dir)
    prompts = [agents.reason_messages(q["question"]) for q in QUESTIONS.values()]
    imgs = [_image_fn(q) for q in QUESTIONS.values()]
    sampling = Sampling(temperature=0.7, top_p=0.95, max_new_tokens=6)
    a = generate(model, processor, prompts, imgs, sampling=sampling, batch_size=3, seed=1)
    b = generate(model, processor, prompts, imgs, sampling=sampling, batch_size=3, seed=1)
    assert len(a) == 8 and a == b
    greedy = Sampling(max_new_tokens=6)
    one = generate(model, processor, prompts[:1], imgs[:1], sampling=greedy)
    many = generate(model, processor, prompts, imgs, sampling=greedy, batch_size=8)
    assert one[0] == many[0]  # left padding does not change a greedy output
    with pytest.raises(ValueError, match="8 prompts but 1 images"):
        generate(model, processor, prompts, imgs[:1], sampling=greedy)


def test_freeze_vision_tower_keeps_the_projector_trainable(vlm_dir):
    model, _ = load(vlm_dir)
    frozen = freeze_vision_tower(model)
    visual = dict(model.model.visual.named_parameters())
    assert frozen > 0 and frozen == sum(p.numel() for n, p in visual.items() if not n.startswith("merger."))
    assert all(p.requires_grad for n, p in visual.items() if n.startswith("merger."))
    assert all(p.requires_grad for p in model.model.language_model.parameters())


def _reason_rows():
    chains = [Path(q, 0, [step("Look at the scene", "a1 lrc"), step("Count", f"count {i % 3}"),
                          step("Final answer", str(i % 3), FINAL)]) for i, q in enumerate(QUESTIONS)]
    return chains, agents.rows_for("reason", chains, QUESTIONS, _image_fn, SFTStage(reason_suffix=" Think."))


SFT_TRAINER = {"max_steps": 4, "per_device_train_batch_size": 4, "learning_rate": 5e-3, "logging_steps": 1,
               "max_length": None, "report_to": "none"}


def test_sft_trains_an_agent_on_the_completion_only_and_saves_it(vlm_dir, tmp_path):
    import torch

    _, rows = _reason_rows()
    stage = _stage(SFTStage, "reason_sft", SFT_TRAINER, reason_suffix=" Think.")
    before, _ = load(vlm_dir)
    out = train_sft(base=vlm_dir, rows=rows, stage=stage, out_dir=tmp_path, seed=0)
    assert out["steps"] == 4 and out["rows"] == 8 and out["frozen_parameters"] > 0
    after, _ = load(tmp_path / "model")
    blocks = [n for n, _ in before.named_parameters() if ".visual.blocks." in n]
    assert blocks and all(torch.equal(dict(before.named_parameters())[n], dict(after.named_parameters())[n])
                          for n in blocks)
    assert not torch.equal(before.lm_head.weight, after.lm_head.weight)


def test_the_two_agents_answer_through_a_chain(vlm_dir):
    pair = load(vlm_dir)
    qs = list(QUESTIONS.values())[:3]
    answers = inference.answer_two_agents(pair, pair, qs, _image_fn, suffix=" Think.", instruction="Judge.",
                                          reason_sampling=Sampling(max_new_tokens=5),
                                          summary_sampling=Sampling(max_new_tokens=3), batch_size=2, seed=0)
    assert [a.question_id for a in answers] == ["q0", "q1", "q2"]
    assert all(a.chain.startswith("<thoughts>\n") and a.chain.endswith("\n</thoughts>") for a in answers)
    single = inference.answer_single(*pair, qs, _image_fn, sampling=Sampling(max_new_tokens=5), batch_size=2, seed=0)
    assert all(a.system == "single_model" for a in single)


def test_build_pairs_takes_best_correct_against_wrong_or_lowest():
    cands = [{"question_id": "a", "sample": 0, "chain": "A", "correct": True, "score": 100},
             {"question_id": "a", "sample": 1, "chain": "B", "correct": False, "score": 90},
             {"question_id": "a", "sample": 2, "chain": "C", "correct": True, "score": 60},
             {"question_id": "b", "sample": 0, "chain": "D", "correct": True, "score": 100},
             {"question_id": "b", "sample": 1, "chain": "E", "correct": True, "score": 40},
             {"question_id": "c", "sample": 0, "chain": "F", "correct": True, "score": 100},
             {"question_id": "c", "sample": 1, "chain": "F", "correct": True, "score": 100},
             {"question_id": "d", "sample": 0, "chain": "G", "correct": False, "score": 100}]
    pairs, counts = dpo.build_pairs(cands, pairs_per_question=1)
    assert [(p["question_id"], p["chosen"], p["rejected"]) for p in pairs] == [("a", "A", "B"), ("b", "D", "E")]
    assert counts == {"questions": 4, "with_pair": 2, "no_correct": 1, "no_contrast": 1}


def test_a_dpo_round_runs_stock_trl_with_the_round_start_as_reference(vlm_dir, tmp_path):
    import torch
    from trl import DPOTrainer

    pairs = [{"question_id": q, "chosen": f"<thoughts>\nCount: count {i % 3}\n</thoughts>",
              "rejected": "<thoughts>\nCount: count 9\n</thoughts>"} for i, q in enumerate(QUESTIONS)]
    rows = dpo.pair_rows(pairs, QUESTIONS, _image_fn, suffix=" Think.")
    assert set(rows[0]) == {"images", "prompt", "chosen", "rejected"}
    recorded = dpo.record(pairs, QUESTIONS, suffix=" Think.")
    assert set(recorded[0]) == {"image", "prompt", "answer", "chosen", "rejected"}
    trainer_fields = {"beta": 0.1, "loss_type": ["sigmoid", "sft"], "loss_weights": [1.0, 1.0], "max_steps": 2,
                      "per_device_train_batch_size": 4, "learning_rate": 5e-3, "logging_steps": 1,
                      "max_length": None, "report_to": "none"}
    stage = _stage(DPOStage, "dpo", trainer_fields)
    seen = {}
    original = DPOTrainer.__init__

    def spy(self, *args, **kwargs):
        seen.update(kwargs)
        original(self, *args, **kwargs)

    DPOTrainer.__init__ = spy
    try:
        out = dpo.train_round(policy=vlm_dir, rows=rows, stage=stage, out_dir=tmp_path, seed=0)
    finally:
        DPOTrainer.__init__ = original
    assert out["steps"] == 2 and out["pairs"] == 8
    assert seen["args"].loss_type == ["sigmoid", "sft"] and seen["args"].beta == 0.1
    start, _ = load(vlm_dir)
    assert all(torch.equal(a, b) for a, b in zip(seen["ref_model"].parameters(), start.parameters()))
    trained, _ = load(tmp_path / "model")
    assert not torch.equal(trained.lm_head.weight, start.lm_head.weight)
    with pytest.raises(ValueError, match="no preference pairs"):
        dpo.train_round(policy=vlm_dir, rows=[], stage=stage, out_dir=tmp_path / "none", seed=0)
