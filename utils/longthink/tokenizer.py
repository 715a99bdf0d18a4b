"""The tiny world's tokenizer: byte-level BPE trained locally, digits split, the papers' delimiters built in.

It is a ``PreTrainedTokenizerFast`` saved and reloaded like any hub tokenizer. Special tokens follow Qwen2.5
(``<|im_start|>``, ``<|im_end|>`` = EOS, ``<|endoftext|>`` = pad, the vision markers of Qwen2-VL); the papers'
tags (``<think>``, ``<answer>``, ``<thoughts>``, ``<output>``) are added as *non-special* tokens so that they
survive ``decode(skip_special_tokens=True)``, which TRL uses before calling reward functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from longthink.formats import TAGS

PAD = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
VISION_START = "<|vision_start|>"
VISION_END = "<|vision_end|>"
IMAGE_PAD = "<|image_pad|>"
VIDEO_PAD = "<|video_pad|>"
SPECIAL_TOKENS = [PAD, IM_START, IM_END, VISION_START, VISION_END, IMAGE_PAD, VIDEO_PAD]
# Paper delimiters: single tokens, but not "special" (kept by skip_special_tokens=True).
TAG_TOKENS = list(TAGS)

# Qwen-style ChatML. String content or a list of {"type": "text"|"image"} parts; assistant turns are wrapped in
# {% generation %} so TRL's assistant_only_loss can mask everything else. The end-of-turn token is inside the block.
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'assistant' -%}"
    "{{ '<|im_start|>assistant\n' }}{%- generation -%}"
    "{%- if message['content'] is string -%}{{ message['content'] }}"
    "{%- else -%}{%- for part in message['content'] -%}{%- if part['type'] == 'text' -%}{{ part['text'] }}"
    "{%- endif -%}{%- endfor -%}{%- endif -%}"
    "{{ '<|im_end|>' }}{%- endgeneration -%}{{ '\n' }}"
    "{%- else -%}"
    "{{ '<|im_start|>' + message['role'] + '\n' }}"
    "{%- if message['content'] is string -%}{{ message['content'] }}"
    "{%- else -%}{%- for part in message['content'] -%}"
    "{%- if part['type'] == 'image' or 'image' in part -%}{{ '<|vision_start|><|image_pad|><|vision_end|>' }}"
    "{%- elif part['type'] == 'text' -%}{{ part['text'] }}{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
    "{{ '<|im_end|>\n' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\n' }}{%- endif -%}"
)


def build_tokenizer(corpus: Iterable[str], *, vocab_size: int = 512, extra_tokens: Iterable[str] = ()):
    """Train a byte-level BPE on ``corpus`` (digits always split) and wrap it for transformers.

    ``extra_tokens`` are added as whole, non-special tokens (e.g. a vision world's colour and shape words).
    The result is deterministic for a given corpus order and vocab size.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import AddedToken, PreTrainedTokenizerFast

    if vocab_size < 300:
        raise ValueError(f"vocab_size={vocab_size} is too small: byte-level BPE needs at least 256 + specials")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(corpus), trainer)
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token=IM_END,
        pad_token=PAD,
        padding_side="left",
        chat_template=CHAT_TEMPLATE,
        model_max_length=4096,
    )
    hf.add_tokens([AddedToken(t, special=False, normalized=False) for t in [*TAG_TOKENS, *extra_tokens]])
    return hf


def load_tokenizer(path: str | Path):
    """Reload a saved world tokenizer (never via AutoTokenizer: see the Qwen2 trap in notes/trl-transformers.md)."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast.from_pretrained(str(path))
