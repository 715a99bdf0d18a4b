"""The process environment the kit runs in, set in one place: offline switches, quiet tokenizers, headless plots.

The smoke and tiny profiles never touch the network: every Hugging Face lookup is switched off, since without a
network each stray lookup retries for about 23 s before it fails (notes/trl-transformers.md §0). The paper profile
needs the hub, so it never switches anything off; a user who sets ``HF_HUB_OFFLINE`` themselves keeps their value
(only the kit's own defaults are applied, with ``setdefault``).
"""

from __future__ import annotations

import os

OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
ALWAYS = {"TOKENIZERS_PARALLELISM": "false", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
ONLINE_PROFILES = frozenset({"paper"})


def needs_hub(profile: str | None) -> bool:
    return profile in ONLINE_PROFILES


def kit_environment(profile: str | None) -> dict[str, str]:
    """The variables the kit sets for ``profile`` (a child process such as a notebook kernel inherits them)."""
    return {**ALWAYS, **({} if needs_hub(profile) else OFFLINE)}


def configure(profile: str | None) -> None:
    """Apply :func:`kit_environment` to this process, never overriding a value the user set."""
    for key, value in kit_environment(profile).items():
        os.environ.setdefault(key, value)
