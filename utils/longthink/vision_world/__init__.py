"""The tiny visual world: scenes, a base VLM that looks before it reasons, and a chain teacher (Insight-V, TACO).

Modules, in the order a reply is made:

* ``scenes``: 4×4 boards of coloured shapes rendered at any resolution, questions of every kind (single-step,
  position, several-step, grounding) with gold answers and boxes; cells are named ``a1`` … ``d4``.
* ``look``: the labelled description, one code per cell (``a1 lrc a2 . a3 syt …``), and the words that are one
  token each of the world's tokenizer.
* ``reasoning``: the walk and the other small steps (repeat the query, mark each queried attribute of each cell
  next to the word it checks, conclude, count, compare, compute a box from the cell), with optional real mistakes.
* ``replies``: ``<think> look + reasoning </think><answer> … </answer>`` for each kind; the base VLM's styles.
* ``chains``: the chain teacher in Insight-V's JSON step format, built from the same steps.
* ``vlm``: a Qwen2-VL built from config, its processor and tokenizer; ``batches``: examples into model inputs;
  ``pretrain``: the base VLM's curriculum, trained to saturation and cached by config hash (``vision_metrics``:
  build, then evaluate); ``evaluate``: accuracy by kind and by resolution, and the error table; ``plots``.

Why this design. Issue 6's base VLM answered directly (a word or a box right after the question). It learned to
describe a scene almost perfectly, but in the CPU budget it never learned to pick out the visual token that the
question's words name: single-step accuracy stayed at 0.21 and grounding Acc@0.5 at 0.01. Four devices were tried
to help that one-hop lookup: the question before the image (so visual tokens could see it), a loss keeping visual
tokens at the word embeddings' scale, a probe that pointed at the referent's token (and one that made the answer
attend to it), and cell labels read at a deeper layer. None moved the figures. The probes behind this design
(notes/cpu-calibration.md, "Look, then reason") showed why and what works instead: the model never has to select
a visual token by the question's words. It first *looks* (the description, read positionally: visual token k is
cell k), then *reasons* in text, where every step matches identical tokens a few positions apart (a walk that
marks each attribute of each cell: where 0.22 -> 0.95 in probe 4), then answers. The walk visits every cell in
the look's order (empty ones too), so its next label is a fixed successor: a walk over the occupied cells alone had to
find the next occupied cell, and one build of two learned that only partly. Insight-V's chains and TACO's
``<think>`` have the same shape, and both papers start from this model.
"""
