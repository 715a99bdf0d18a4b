"""Progressive generation: the card's turns, the retry rule, the step cap, the final call, batching, N paths."""

import json

import pytest

from insight_v_helpers import question_rows, world_tools

from longthink.insight_v import prompts
from longthink.insight_v.generators import TeacherGenerator, make_generator
from longthink.insight_v.progressive import Protocol, generate_paths

PROTOCOL = Protocol(prompts.GENERATOR_SYSTEM, prompts.GENERATOR_PREFILL, prompts.GENERATOR_CONTINUE,
                    prompts.GENERATOR_REMINDER, prompts.GENERATOR_FINAL, max_steps=15, max_retries=3)


def _step(i, action="continue"):
    return json.dumps({"title": f"Step {i}", "content": f"content {i}", "next_action": action})


class Scripted:
    """Replies from a script per question: a list of replies, consumed one per call; records every batch."""

    def __init__(self, scripts):
        self.scripts = {k: list(v) for k, v in scripts.items()}
        self.batches = []
        self.seen = []

    def complete(self, conversations):
        self.batches.append(len(conversations))
        out = []
        for c in conversations:
            self.seen.append([dict(m) for m in c.messages])
            key = (c.question["id"], c.index) if (c.question["id"], c.index) in self.scripts else c.question["id"]
            out.append(self.scripts[key].pop(0))
        return out


def _questions(*ids):
    return [{"id": i, "question": f"question {i}?", "answer": "2"} for i in ids]


def test_the_card_turns_and_the_final_call():
    final = json.dumps({"title": "FINAL ANSWER", "content": "2"})
    gen = Scripted({"a": [_step(1), _step(2, "final_answer"), final]})
    (path,), stats = generate_paths(_questions("a"), gen, PROTOCOL, n_paths=1)
    assert [s["title"] for s in path.steps] == ["Step 1", "Step 2"]
    assert path.answer == "2" and path.final_raw == final and path.calls == 3 and path.retries == 0
    first, second, last = gen.seen
    assert [m["role"] for m in first] == ["system", "user", "assistant"]
    assert first[0]["content"] == prompts.GENERATOR_SYSTEM and first[2]["content"] == prompts.GENERATOR_PREFILL
    assert first[1]["content"][0] == {"type": "image"} and first[1]["content"][1]["text"] == "question a?"
    assert second[-2] == {"role": "assistant", "content": _step(1)}
    assert second[-1] == {"role": "user", "content": prompts.GENERATOR_CONTINUE}
    assert last[-1] == {"role": "user", "content": prompts.GENERATOR_FINAL}
    assert stats.paths == 1 and stats.calls == 3


def test_a_bad_reply_gets_the_reminder_and_is_not_kept():
    final = json.dumps({"title": "FINAL ANSWER", "content": "2"})
    gen = Scripted({"a": ["```json\n" + _step(1) + "\n```", _step(1, "final_answer"), final]})
    (path,), stats = generate_paths(_questions("a"), gen, PROTOCOL, n_paths=1)
    retry_turns = gen.seen[1]
    assert retry_turns[-1] == {"role": "user", "content": prompts.GENERATOR_REMINDER}
    assert not any("```json" in str(m["content"]) for m in retry_turns[3:])  # the system prompt names it
    assert path.retries == 1 and stats.retries == 1 and len(path.steps) == 1 and not path.failed


def test_three_failures_end_the_path_with_an_error_step_outside_the_step_list():
    gen = Scripted({"a": ["nope", "nope", "nope", "not json either"]})
    (path,), _ = generate_paths(_questions("a"), gen, PROTOCOL, n_paths=1)
    assert path.failed and path.retries == 3 and path.steps == []
    assert path.answer is None and path.final_raw == "not json either"
    last = gen.seen[-1]
    assert last[-2]["role"] == "assistant" and json.loads(last[-2]["content"])["title"] == "Error"
    assert [m["content"] for m in last[-5:-2]] == [prompts.GENERATOR_REMINDER] * 3


def test_the_step_cap_stops_after_sixteen_steps():
    final = json.dumps({"title": "FINAL ANSWER", "content": "2"})
    gen = Scripted({"a": [_step(i) for i in range(1, 30)]})
    gen.scripts["a"].insert(16, final)
    (path,), _ = generate_paths(_questions("a"), gen, PROTOCOL, n_paths=1)
    assert len(path.steps) == 16 and path.capped and path.answer == "2"


def test_runs_advance_together_in_batches():
    final = json.dumps({"title": "FINAL ANSWER", "content": "2"})
    scripts = {q: [_step(1), _step(2, "final_answer"), final] for q in "abc"}
    gen = Scripted({(q, k): list(s) for q, s in scripts.items() for k in (0, 1)})
    paths, stats = generate_paths(_questions("a", "b", "c"), gen, PROTOCOL, n_paths=2, batch_size=4)
    assert [(p.question_id, p.index) for p in paths] == [(q, k) for q in "abc" for k in (0, 1)]
    assert gen.batches == [4, 2] * 3 and stats.rounds == 3


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="n_paths must be >= 1"):
        generate_paths(_questions("a"), Scripted({}), PROTOCOL, n_paths=0)
    with pytest.raises(ValueError, match="unknown generator 'gpt'"):
        make_generator(type("S", (), {"generator": "gpt"})())


@pytest.fixture(scope="module")
def world():
    return world_tools()


def _world_questions(world, n=6):
    return question_rows(world, n, seed=3)


def test_the_teacher_writes_its_chain_through_the_loop(world):
    qs = _world_questions(world)
    teacher = TeacherGenerator(world["chains"], error_rate=0.0, malformed_rate=0.0, seed=0)
    paths, stats = generate_paths(qs, teacher, PROTOCOL, n_paths=2)
    for p in paths:
        q = next(q for q in qs if q["id"] == p.question_id)
        gold = world["chains"].ChainTeacher(error_rate=0.0, seed=0, short_titles=True).chain(q["example"])
        assert p.steps == gold.steps and p.answer == gold.answer and p.retries == 0
    assert stats.paths == 12 and stats.chains_per_second > 0


def test_the_teachers_malformed_replies_exercise_the_retry_rule(world):
    qs = _world_questions(world)
    teacher = TeacherGenerator(world["chains"], malformed_rate=0.3, seed=0)
    paths, stats = generate_paths(qs, teacher, PROTOCOL, n_paths=2)
    assert stats.retries > 0
    clean = TeacherGenerator(world["chains"], seed=0)
    clean_paths, _ = generate_paths(qs, clean, PROTOCOL, n_paths=2)
    for p, c in zip(paths, clean_paths):
        if not p.failed:  # a fenced final reply is not parsable: that path has no answer (upstream's rule)
            assert p.steps == c.steps and p.answer in (c.answer, None)
    assert any(p.answer is None for p in paths) or all(not p.final_raw.startswith("```") for p in paths)


def test_the_teacher_makes_only_the_named_kinds_of_mistake(world):
    examples = [q["example"] for q in question_rows(world, 30, seed=5)]

    def mistakes(generator):
        return {c.error["kind"] for c in (generator.teacher.chain(e, sample=k) for e in examples for k in (0, 1))
                if c.error}

    named = mistakes(TeacherGenerator(world["chains"], error_rate=1.0, seed=0, error_kinds=["count", "arithmetic"]))
    assert named and named <= {"count", "arithmetic"}
    assert mistakes(TeacherGenerator(world["chains"], error_rate=1.0, seed=0)) - {"count", "arithmetic"}  # all kinds
    with pytest.raises(ValueError, match="unknown error kind"):
        TeacherGenerator(world["chains"], error_kinds=["typo"])


def test_the_teachers_paths_open_with_a_plan_when_asked_and_the_scorer_reads_them(world):
    from longthink.insight_v.scorer import SceneScorer, ScoreItem

    qs = _world_questions(world)
    paths, _ = generate_paths(qs, TeacherGenerator(world["chains"], seed=0, plan_step=True), PROTOCOL, n_paths=1)
    assert all(p.steps[0]["title"] == "Plan" for p in paths)
    by_id = {q["id"]: q for q in qs}
    items = [ScoreItem(by_id[p.question_id], p.steps) for p in paths]
    assert SceneScorer(world["chains"], plan_step=True).score(items) == [100] * len(paths)
    assert max(SceneScorer(world["chains"]).score(items)) < 100  # read against plan-less chains: off at step one


def test_the_teacher_needs_world_questions(world):
    teacher = TeacherGenerator(world["chains"])
    with pytest.raises(ValueError, match="carries no world example"):
        generate_paths(_questions("a"), teacher, PROTOCOL, n_paths=1)


def test_a_transformers_generator_drives_the_same_loop(tmp_path):
    """A tiny untrained VLM never writes valid JSON: every path fails after three tries and says so."""
    from insight_v_helpers import image, save_tiny_vlm

    from longthink.insight_v.generators import TransformersGenerator

    folder = save_tiny_vlm(tmp_path / "vlm")
    gen = TransformersGenerator(str(folder), temperature=0.7, top_p=0.95, repetition_penalty=1.05, max_tokens=6,
                                min_pixels=56 * 56, max_pixels=56 * 56, batch_size=4)
    short = Protocol("Reply in JSON.", "OK.", "Next.", "JSON please.", "Final?", max_steps=3, max_retries=3)
    paths, stats = generate_paths(_questions("a", "b"), gen, short, n_paths=2, image_fn=lambda q: image(1))
    assert all(p.failed and p.retries == 3 and p.calls == 4 for p in paths)
    assert stats.calls == 16 and gen.calls == 4
