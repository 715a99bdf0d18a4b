"""The guider and its base as one batched forward: their weights stacked, the batch doubled.

The guider is a fine-tune of the guider base (R1-Distill-Qwen-1.5B of Qwen2.5-Math-1.5B; the kit's SFT of the
world's guider base), so the two share one architecture and differ only in weights. At every decoding step both
read the same tokens; running them as two models launches every kernel twice. :func:`pair_models` builds one
module in which each ``Linear``, ``Embedding`` and RMSNorm holds both weight sets (``[2, ...]``) and applies set 0
to the first half of the batch and set 1 to the second half (``bmm``), so one forward of batch 2B computes both
models' logits: half the kernel launches, the same arithmetic. On a CPU, where small models are launch-bound,
this is what keeps three models in lockstep close to the cost of the target alone; on GPUs it plays the role of
upstream's thread pool. :func:`pair_models` returns None when the two cannot be paired (different configs or a
module with parameters it does not know), and the decoder then runs them separately.
"""

from __future__ import annotations

import copy

PAIRABLE_NORMS = ("RMSNorm",)  # class-name suffixes of norms computed as x * rsqrt(mean(x^2) + eps) * w


def _torch():
    import torch

    return torch


class StackedLinear(_torch().nn.Module):
    """Two ``Linear`` layers of the same shape: rows [0, B) use the first, rows [B, 2B) the second."""

    def __init__(self, first, second):
        torch = _torch()
        super().__init__()
        self.weight = torch.nn.Parameter(torch.stack([first.weight.detach(), second.weight.detach()]).transpose(1, 2)
                                         .contiguous(), requires_grad=False)  # [2, in, out]
        self.bias = None
        if first.bias is not None:
            self.bias = torch.nn.Parameter(torch.stack([first.bias.detach(), second.bias.detach()])[:, None, :],
                                           requires_grad=False)  # [2, 1, out]

    def forward(self, x):
        torch = _torch()
        lead, width = x.shape[:-1], x.shape[-1]
        flat = x.reshape(2, -1, width)
        out = torch.baddbmm(self.bias, flat, self.weight) if self.bias is not None else torch.bmm(flat, self.weight)
        return out.reshape(*lead, out.shape[-1])


class StackedEmbedding(_torch().nn.Module):
    """Two embedding tables as one (the second offset by the vocabulary size)."""

    def __init__(self, first, second):
        torch = _torch()
        super().__init__()
        self.vocab = first.weight.shape[0]
        self.weight = torch.nn.Parameter(torch.cat([first.weight.detach(), second.weight.detach()]),
                                         requires_grad=False)  # [2V, H]

    def forward(self, ids):
        torch = _torch()
        half = ids.shape[0] // 2
        offset = torch.zeros_like(ids)
        offset[half:] = self.vocab
        return torch.nn.functional.embedding(ids + offset, self.weight)


class StackedRMSNorm(_torch().nn.Module):
    """Two RMSNorms (Qwen2's formula: fp32 normalisation, weight applied in the input dtype)."""

    def __init__(self, first, second):
        torch = _torch()
        super().__init__()
        self.eps = getattr(first, "variance_epsilon", getattr(first, "eps", 1e-6))
        self.weight = torch.nn.Parameter(torch.stack([first.weight.detach(), second.weight.detach()]),
                                         requires_grad=False)  # [2, H]

    def forward(self, x):
        torch = _torch()
        dtype = x.dtype
        h = x.to(torch.float32)
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        shape = (2, x.shape[0] // 2, *x.shape[1:])
        w = self.weight.reshape(2, 1, *([1] * (x.dim() - 2)), x.shape[-1])
        return (w * h.to(dtype).reshape(shape)).reshape(x.shape)


def _stack(first, second):
    torch = _torch()
    if type(first) is not type(second):
        return None
    if isinstance(first, torch.nn.Linear):
        return StackedLinear(first, second)
    if isinstance(first, torch.nn.Embedding):
        return StackedEmbedding(first, second)
    if type(first).__name__.endswith(PAIRABLE_NORMS) and hasattr(first, "weight"):
        return StackedRMSNorm(first, second)
    return None


CONFIG_KEYS = ("model_type", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
               "intermediate_size", "vocab_size", "rope_parameters", "rms_norm_eps", "tie_word_embeddings",
               "hidden_act", "attention_bias", "layer_types", "sliding_window", "use_sliding_window")


def pair_models(guider, base):
    """One module computing ``guider`` on the first half of a batch and ``base`` on the second; None if unpairable.

    The weights are copied at pairing time: pair again after changing either model.
    """
    torch = _torch()
    g, b = guider.config.to_dict(), base.config.to_dict()
    if any(g.get(k) != b.get(k) for k in CONFIG_KEYS):
        return None
    guider_modules, base_modules = dict(guider.named_modules()), dict(base.named_modules())
    replaced = {}
    for name, module in guider_modules.items():
        if not list(module.parameters(recurse=False)):
            continue
        stacked = _stack(module, base_modules[name]) if name in base_modules else None
        if stacked is None:
            return None  # a module with parameters that this file does not know how to stack
        replaced[name] = stacked
    paired = copy.deepcopy(guider)  # structure and buffers (rotary frequencies) from the guider
    for name, stacked in replaced.items():
        parent_name, _, attr = name.rpartition(".")
        parent = paired.get_submodule(parent_name) if parent_name else paired
        setattr(parent, attr, stacked)
    paired.to(next(guider.parameters()).device)
    paired.eval()
    return paired
