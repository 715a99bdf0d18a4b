from dataclasses import dataclass

import pytest

from longthink.config import StageSettings, stage_schema
from longthink.training import trainer_config


@stage_schema("test.dpo", trainer="dpo")
@dataclass
class DPOStage:
    model: str = "m"


def test_cpu_defaults_and_recipe_fields_win(tmp_path):
    stage = StageSettings("dpo", "test.dpo", DPOStage(), {"beta": 0.2, "bf16": True, "logging_steps": 3}, "dpo")
    cfg = trainer_config(stage, tmp_path, seed=5)
    assert cfg.beta == 0.2 and cfg.seed == 5 and cfg.logging_steps == 3
    assert cfg.use_cpu and not cfg.bf16  # bf16 cannot run on this CPU: kept off
    assert cfg.report_to == [] or cfg.report_to == "none" or cfg.report_to == ["none"]


def test_non_trainer_stage_is_rejected(tmp_path):
    stage = StageSettings("data", "x", object(), {}, None)
    with pytest.raises(ValueError, match="does not run a TRL trainer"):
        trainer_config(stage, tmp_path)


def test_train_to_saturation_checks_every_few_steps_until_passed_or_capped():
    from longthink.training import train_to_saturation

    trained, seen = [], []
    passes = iter([False, False, True])
    checks = train_to_saturation(trained.append, lambda: {"passed": next(passes)}, start=10, every=5, cap=40,
                                 on_check=seen.append)
    assert [c["step"] for c in checks] == [10, 15, 20] and checks[-1]["passed"]
    assert trained == list(range(10, 20)) and seen == checks
    capped = train_to_saturation(trained.append, lambda: {"passed": False}, start=10, every=4, cap=16)
    assert [c["step"] for c in capped] == [10, 14, 16] and trained[-6:] == list(range(10, 16))
    assert train_to_saturation(trained.append, lambda: {"passed": True}, start=10, every=5, cap=10) == []
