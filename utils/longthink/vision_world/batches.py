"""Examples into model inputs: the seed streams examples are drawn from, and the processor batches whose labels
keep only a reply's tokens. Shared by the base VLM's pretraining and its evaluation (``pretrain``, ``evaluate``).
"""

from __future__ import annotations

from collections.abc import Sequence

from longthink.vision_world.scenes import example_image


def hash_seed(seed: int, name: str) -> int:
    """A seed stream per (world seed, name): training, dev and eval draws never share one."""
    import zlib

    return zlib.crc32(f"{seed}-{name}".encode()) & 0x7FFFFFFF


def encode_batch(processor, examples: Sequence[dict], *, resolution: int | None = None, with_replies: bool = True,
                 mark_weight: float = 1.0, result_weight: float = 1.0):
    """Processor inputs (left padded); with replies, ``labels`` keep only reply tokens (+ ``<|im_end|>``), less the
    given look of text-only examples, and ``weights`` put ``mark_weight`` on the walk's yes/no tokens and
    ``result_weight`` on the values after ``count`` (one or two: copies of the last tallies), after ``=`` (a sum's
    result) and after ``> N ->`` (a comparison's)."""
    import torch

    from longthink.vision_world.replies import given_look, question_text
    from longthink.vision_world.vlm import user_message

    tok = processor.tokenizer
    texts, images, given = [], [], []
    for ex in examples:
        text_only = bool(ex.get("text_only"))
        given.append(len(tok(given_look(ex), add_special_tokens=False)["input_ids"]) if text_only else 0)
        messages = user_message(question_text(ex), image=not text_only)
        if with_replies:
            messages = messages + [{"role": "assistant", "content": ex["reply"]}]
        texts.append(tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=not with_replies))
        if not text_only:
            images.append(example_image(ex, resolution))
    batch = processor(text=texts, images=images or None, padding=True, return_tensors="pt")
    if with_replies:
        labels = reply_labels(batch["input_ids"], batch["attention_mask"], tok, given=given)
        batch["labels"] = labels
        ids_of = lambda *words: torch.tensor([i for i in tok.convert_tokens_to_ids(list(words)) if i is not None])  # noqa: E731
        weights = torch.where(torch.isin(labels, ids_of(" yes", " no")), float(mark_weight), 1.0)
        ids, numbers = batch["input_ids"], ids_of(*(f" {n}" for n in range(10)))
        results = (_follows(ids, labels, ids_of(" count", " ="))  # a count's value, a sum's result
                   # a two-count chain's second count (``count 2 1``)
                   | _follows(ids, labels, ids_of(" count"), numbers) & torch.isin(labels, numbers)
                   # a comparison's result (``2 > 1 -> yes``)
                   | _follows(ids, labels, ids_of(" >"), numbers, ids_of(" ->")))
        batch["weights"] = torch.where(results, float(result_weight), weights)
    return batch


def _follows(ids, labels, *before):
    """Labelled positions whose preceding tokens are, in order, one of each id set in ``before``."""
    import torch

    n, width = len(before), ids.shape[1]
    hit = labels[:, n:] != -100
    for k, allowed in enumerate(before):
        hit = hit & torch.isin(ids[:, k: width - n + k], allowed)
    mask = torch.zeros_like(labels, dtype=torch.bool)
    mask[:, n:] = hit
    return mask


def reply_labels(input_ids, attention_mask, tok, *, given: Sequence[int] | None = None):
    """-100 everywhere but the reply after the last ``<|im_start|>assistant\\n`` header, up to its ``<|im_end|>``;
    ``given[i]`` more tokens at the start of row ``i``'s reply are context, not targets."""
    import torch

    header = tok("<|im_start|>assistant\n", add_special_tokens=False)["input_ids"]
    labels = torch.full_like(input_ids, -100)
    for i, row in enumerate(input_ids.tolist()):
        starts = [j for j, t in enumerate(row) if t == header[0] and row[j: j + len(header)] == header]
        if not starts:
            raise ValueError("a training sequence has no assistant turn: check the chat template")
        a = starts[-1] + len(header) + (given[i] if given else 0)
        end = next((j + 1 for j in range(a, len(row)) if row[j] == tok.eos_token_id), len(row))
        labels[i, a:end] = input_ids[i, a:end]
    labels[attention_mask == 0] = -100
    return labels
