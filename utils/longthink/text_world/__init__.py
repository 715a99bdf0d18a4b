"""The tiny world: synthetic reasoning tasks, a teacher, a pool, a tokenizer and base models built on a CPU.

Text world (this package's ``tasks``, ``teacher``, ``pool``, ``pretrain``, ``models``): labelled one-digit
operation chains with a difficulty knob (see ``tasks``). Heavy imports (torch, transformers, datasets) happen
inside functions, so ``import longthink.text_world`` is cheap.
"""
