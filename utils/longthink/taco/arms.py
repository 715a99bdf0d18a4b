"""The ablation arms: GRPO alone, then TACO's training-time parts added one at a time (card §1's claim, split up).

Each arm trains the same base VLM with the same GRPO settings and rewards; an arm only switches parts on:

| arm | consistency reward (TAC) | rollback resampling (RRS) | adaptive difficulty (ADS) |
|---|---|---|---|
| ``grpo`` | weight 0 (computed and logged, not paid) | off (KL and τ logged) | off (uniform) |
| ``grpo_tac`` | ``tac_weight`` | off | off |
| ``grpo_tac_rrs`` | ``tac_weight`` | on | off |
| ``taco`` | ``tac_weight`` | on | on |

The ablation table's last row, "+ TTRS", is the ``taco`` arm evaluated with test-time resolution scaling (no
training). Keeping every reward in every arm, at weight 0 where it is off, puts the same curves in every arm's log
(``rewards/consistency/mean`` is the consistency of GRPO's own samples too).
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Arm:
    name: str
    label: str  # the ablation table's row
    tac: bool
    rrs: bool
    ads: bool


ARMS: dict[str, Arm] = {
    "grpo": Arm("grpo", "GRPO", tac=False, rrs=False, ads=False),
    "grpo_tac": Arm("grpo_tac", "+ consistency", tac=True, rrs=False, ads=False),
    "grpo_tac_rrs": Arm("grpo_tac_rrs", "+ RRS", tac=True, rrs=True, ads=False),
    "taco": Arm("taco", "+ ADS (TACO)", tac=True, rrs=True, ads=True),
}
TTRS_LABEL = "+ TTRS"


def reward_weights(rewards: list[str], *, arm: Arm, tac_weight: float) -> list[float]:
    """One weight per reward: 1 for format and accuracy, ``tac_weight`` for consistency (0 in arms without TAC)."""
    return [(tac_weight if arm.tac else 0.0) if name == "consistency" else 1.0 for name in rewards]
