"""longthink: a notebook-driven reproducibility kit for long-chain reasoning papers (s1, ThinkLogit, Insight-V, TACO).

The shared infrastructure sits at the top of the package (config, stages, runs, resolver, models, generation,
grading, training, evaluation, report, notebooks, cli); the two synthetic worlds are the rooms ``text_world`` and
``vision_world``; each paper has its own room (``s1``, ``thinklogit``, ``insight_v``, ``taco``).
"""

import os as _os

__version__ = "0.1.0"

if _os.environ.get("LONGTHINK_PARENT_PID"):  # a notebook kernel started by `longthink run`: exit with it
    from longthink.processes import maybe_watch_parent

    maybe_watch_parent()

if _os.environ.get("LONGTHINK_WIDGETS") == "static":  # a batch run's kernel: text progress bars, not widgets
    from longthink.widgets import text_progress_bars

    text_progress_bars()
