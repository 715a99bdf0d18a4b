"""Insight-V (Dong et al., arXiv 2411.14432): long-chain visual reasoning with two agents, end to end.

One module per concern, in the order the notebook walks them:

* ``prompts``: the paper's prompts, verbatim; ``schema``: the recipe's stage settings.
* ``steps``: the JSON step format, a path, the ``<thoughts>`` chain template and its parser.
* ``generators`` + ``progressive``: progressive generation (one step per call, retries, step cap, N paths, the
  final-answer call) through a generator interface (the world's chain teacher, a transformers MLLM, vLLM).
* ``judge``, ``scorer``, ``routing``: multi-granularity assessment (the answer filter, High/Mid/Low path scores)
  and routing into the reasoning and summary sets.
* ``questions``: the questions and their splits; ``agents``: the SFT rows of the reasoning agent, the summary agent
  and the single-model baseline; ``vlm``: loading, batched generation and TRL SFT of a VLM; ``llava``: the paper
  recipe's LLaVA-NeXT preparation (think tokens, frozen vision tower).
* ``inference``: the two-agent system and the baselines; ``dpo``: iterative DPO on the reasoning agent (stock TRL);
  ``evaluate``: accuracy by question kind and the summary agent on flawed chains; ``plots``; ``pipeline`` (stages).
"""
