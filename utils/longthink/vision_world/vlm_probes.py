"""Training-only probes of the base VLM's pretraining (``vlm_pretrain.pretrain``), dropped before saving.

``CellProbe`` stands in for a pretrained vision encoder (cell content and place per visual token; with
``scale_loss`` it also keeps the visual tokens at the word embeddings' scale). ``ReferentProbe`` is an opt-in
device for the two-hop lookup "find the object the question names, then read it" (off in the recipe: it did not
lift single-step accuracy off chance, see ``vlm_pretrain``'s docstring).
"""

from __future__ import annotations

from collections.abc import Sequence

from longthink.vision_world.scenes import GROUNDING_KINDS, POSITION_KINDS, SINGLE_STEP_KINDS, Scene

class CellProbe:
    """Vision-encoder pretraining: a linear head reads each merged visual token and predicts its grid cell's
    content (colour, shape, size, or empty) and place (row, column).

    Real VLMs start from a pretrained vision encoder (CLIP, SigLIP); the tiny world has none, and the LM's loss
    alone reaches the vision tower too slowly for a CPU budget (notes/cpu-calibration.md). At the training
    resolution visual token ``k`` of an image is exactly cell ``(k // grid, k % grid)``, so every token gets a
    label. The head is dropped after training; only the vision tower keeps what it learned.
    """

    def __init__(self, model, *, grid: int, normalise: bool = False):
        import torch

        from longthink.vision_world.scenes import COLOURS, SHAPES, SIZES

        self.grid = grid
        self.normalise = normalise  # read RMS-normalised tokens: the probe then gives no reason to grow their scale
        self.values = {"colour": list(COLOURS), "shape": list(SHAPES), "size": list(SIZES)}
        self.sizes = [len(COLOURS) + 1, len(SHAPES) + 1, len(SIZES) + 1, grid, grid]
        hidden = model.config.get_text_config().hidden_size
        self.head = torch.nn.Linear(hidden, sum(self.sizes))
        self.captured = None
        self._hook = model.model.visual.merger.register_forward_hook(self._capture)

    def _capture(self, module, inputs, output):
        self.captured = output

    def remove(self) -> None:
        self._hook.remove()
        self.captured = None

    def labels(self, examples: Sequence[dict]):
        import torch

        rows = []
        for ex in examples:
            scene = Scene.from_dict(ex["scene"])
            for r in range(self.grid):
                for c in range(self.grid):
                    obj = scene.at(r, c)
                    attrs = [0 if obj is None else 1 + self.values[k].index(getattr(obj, k))
                             for k in ("colour", "shape", "size")]
                    rows.append([*attrs, r, c])
        return torch.tensor(rows)

    def loss(self, examples: Sequence[dict]):
        import torch.nn.functional as F

        feats = self.captured
        labels = self.labels(examples)
        if feats is None or feats.shape[0] != labels.shape[0]:
            raise RuntimeError(f"the cell probe expects {labels.shape[0]} visual tokens (one per cell at the "
                               f"training resolution), got {None if feats is None else feats.shape[0]}")
        if self.normalise:
            feats = F.rms_norm(feats, feats.shape[-1:])
        logits = self.head(feats).split(self.sizes, dim=-1)
        return sum(F.cross_entropy(lg, labels[:, i]) for i, lg in enumerate(logits)) / len(self.sizes)

    def scale_loss(self, model, target_rms: float = 0.0):
        """``log(rms(visual tokens) / target)²`` with ``target`` = ``target_rms`` or, if 0, the word embeddings' RMS.

        Left free, the merger's output grew to ~160x the word embeddings' RMS (10.8 vs 0.07 after 300 steps): the
        LM's layers then add too little to a visual token's residual stream to change it, so no visual token can
        take in the question (a visual token's hidden state stayed its merger output through all layers).
        """
        import torch

        feats = self.captured
        words = model.get_input_embeddings().weight.detach()
        vis_rms = feats.pow(2).mean(-1).sqrt().mean()
        target = target_rms or words.pow(2).mean(-1).sqrt().mean()
        return torch.log(vis_rms / target) ** 2


REFERENT_KINDS = (*SINGLE_STEP_KINDS, *POSITION_KINDS, *GROUNDING_KINDS)


class ReferentProbe:
    """Grounding pretraining for the LM: a linear head scores every visual token's hidden state at LM layer
    ``layer`` and is trained to point at the cell of the object the question names (one softmax over the image's
    tokens).

    Needs ``question_first`` (each visual token can then attend to the question and mark itself as the referent;
    the answer then only has to read the marked token) and ``CellProbe.scale_loss`` (without it the probe stayed at
    the occupied-cell prior, ~0.21). Trained from the answer alone, this two-hop lookup stays at chance in the CPU
    budget: the probe supervises its first hop directly, as a referring-expression loss does in real VLM
    pretraining; with ``readout`` the second hop too (``readout_loss``). Like ``CellProbe`` the heads are dropped
    after training. Examples of ``REFERENT_KINDS`` carry the referent's cell in ``plan["obj"]``. Measured at the
    tiny profile (1,200 steps): the probe reaches ~0.8 and the readout head puts ~60% of its attention on the
    referent, yet the answers stayed at chance (single-step 0.23) and the description fell (0.48).
    """

    def __init__(self, model, *, grid: int, layer: int, readout: bool = False):
        import torch

        text = model.config.get_text_config()
        self.grid = grid
        self.layer = max(1, min(layer, text.num_hidden_layers))  # hidden_states[0] is the input embeddings
        self.image_token_id = model.config.image_token_id
        self.head = torch.nn.Linear(text.hidden_size, 1)
        self.cells = None  # the head of cell_loss, set by pretrain when layer_cell_aux_weight > 0
        self.attn = None
        self._hook = None
        if readout:  # the last layer's attention weights (eager attention returns them; SDPA does not)
            self._model = model
            model.set_attn_implementation("eager")
            self._hook = model.model.language_model.layers[-1].self_attn.register_forward_hook(self._capture)

    def _capture(self, module, inputs, output):
        self.attn = output[1]

    def cell_loss(self, cells: CellProbe, examples: Sequence[dict], input_ids, states):
        """``CellProbe``'s labels read from the visual tokens at LM layer ``layer`` (what the last layer reads): at
        the word embeddings' scale the LM's layers would otherwise wash a token's colour and shape out of it."""
        import torch.nn.functional as F

        if self.cells is None:
            raise RuntimeError("set ReferentProbe.cells to a Linear(hidden, sum(CellProbe.sizes)) head first")
        feats = states[input_ids == self.image_token_id]
        labels = cells.labels(examples)
        if feats.shape[0] != labels.shape[0]:
            raise RuntimeError(f"expected {labels.shape[0]} visual tokens, got {feats.shape[0]}")
        logits = self.cells(F.rms_norm(feats, feats.shape[-1:])).split(cells.sizes, dim=-1)
        return sum(F.cross_entropy(lg, labels[:, i]) for i, lg in enumerate(logits)) / len(cells.sizes)

    def remove(self) -> None:
        if self._hook is not None:
            self._hook.remove()
            self._model.set_attn_implementation("sdpa")
            self._hook = None
        self.attn = None

    def targets(self, examples: Sequence[dict], keep: Sequence[int]):
        import torch

        return torch.tensor([examples[i]["plan"]["obj"][0] * self.grid + examples[i]["plan"]["obj"][1] for i in keep])

    def readout_loss(self, examples: Sequence[dict], input_ids, labels):
        """Mean ``-log`` attention of the last layer's first head, at every answer position, on the referent's
        visual token (the second hop: read the token the first hop marked). None if no example names an object."""
        import torch

        keep = [i for i, ex in enumerate(examples) if ex["kind"] in REFERENT_KINDS]
        if not keep or self.attn is None:
            return None
        attn = self.attn[keep, 0]  # (rows, query, key)
        cols = [row.nonzero()[:, 0] for row in (input_ids[keep] == self.image_token_id)]
        target = self.targets(examples, keep)
        losses = []
        for j, (cells, t) in enumerate(zip(cols, target.tolist())):
            answer = (labels[keep[j]] != -100).nonzero()[:, 0] - 1  # positions that predict an answer token
            losses.append(-torch.log(attn[j, answer, cells[t]] + 1e-6).mean())
        return torch.stack(losses).mean()

    def loss(self, examples: Sequence[dict], input_ids, states):
        """``(loss, accuracy)`` over the examples that name one object, or None if there are none."""
        import torch.nn.functional as F

        keep = [i for i, ex in enumerate(examples) if ex["kind"] in REFERENT_KINDS]
        if not keep:
            return None
        n_cells = self.grid * self.grid
        is_image = input_ids == self.image_token_id
        if int(is_image[keep].sum()) != len(keep) * n_cells:
            raise RuntimeError(f"the referent probe expects {n_cells} visual tokens per image (one per cell at the "
                               "training resolution)")
        scores = self.head(states[keep][is_image[keep]]).view(len(keep), n_cells)
        target = self.targets(examples, keep)
        return F.cross_entropy(scores, target), float((scores.argmax(1) == target).float().mean())
