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
