"""TACO's live controls: the scale slider changes the frame the model is given, the box it answers in that frame is
mapped back to the original and scored, and the live sliders re-ask the model."""

from __future__ import annotations

import pytest
import taco_helpers as H

from longthink.taco import data
from longthink.taco.frames import PixelBounds, given_size, smart_resize
from longthink.taco.inference import Replies, generate_replies
from longthink.taco.rewards import RewardSettings
from longthink.taco.widgets import ResolutionExplorer, telling_index

BASE = PixelBounds(28 * 28, 112 * 112)  # the tiny world's training bounds
SETTINGS = RewardSettings(bounds=BASE, iou_plus=0.0)
TTRS = dict(base=BASE, train_pixels=112 * 112, bound="both", scales=(0.5, 1.0, 2.0))


@pytest.fixture(scope="module")
def rows():
    row = H.rows(n_rec=1, n_vqa=0)[0]
    return [("112 px", row), ("x1.5", data.shifted(row, 1.5)), ("x0.75", data.shifted(row, 0.75))]


def gold_in_given_frame(rows_: list[dict], bounds: PixelBounds) -> Replies:
    """A scripted model that reads the scene perfectly and answers the gold box in pixels of the image it was given
    (Qwen2.5-VL's convention), its reasoning stating the same box."""
    out = Replies()
    for r in rows_:
        (w, h), gw_gh = r["image_size"], given_size(tuple(r["image_size"]), bounds)
        gw, gh = gw_gh
        b = [r["box"][0] * gw / w, r["box"][1] * gh / h, r["box"][2] * gw / w, r["box"][3] * gh / h]
        box = "[" + ", ".join(f"{v:.0f}" for v in b) + "]"
        out.texts.append(f"<think> so a1 box {box} </think><answer> {box} </answer>")
        out.given_sizes.append((gw, gh))
        out.visual_tokens.append(gw * gh // 784)
    return out


def test_a_box_in_the_given_frame_is_mapped_back_and_scored(rows):
    ex = ResolutionExplorer(rows, gold_in_given_frame, SETTINGS, **TTRS)
    for i in range(3):
        for scale in (None, 0.5, 1.0, 2.0):
            view = ex.view(row=i, scale=scale)
            (w, h) = view.original_size
            assert view.given_size == given_size((w, h), ex.bounds(scale))
            assert view.box is not None and view.correct and view.iou > 0.8 and view.consistent
            assert max(abs(a - b) for a, b in zip(view.box, rows[i][1]["box"])) <= max(w / view.given_size[0], 1.0)
    big = ex.view(row=1, scale=None)
    assert big.given_size == (112, 112) and big.original_size == (168, 168) and big.visual_tokens == 16
    assert big.box_given != big.box  # the same box, in two frames
    assert "given to the model at 112 x 112 (16 visual tokens)" in big.summary()
    assert ex.view(row=1, scale=2.0).visual_tokens > ex.view(row=1, scale=0.5).visual_tokens


def test_forgetting_the_resize_shows_as_a_drifting_box(rows):
    """A model that answers in the original frame's pixels (the VLM-R1 #198 bug): right only where the given frame
    is the original."""

    def original_frame(rows_, bounds):
        out = gold_in_given_frame(rows_, bounds)
        out.texts = [f"<think> so a1 box {r['answer']} </think><answer> {r['answer']} </answer>" for r in rows_]
        return out

    ex = ResolutionExplorer(rows, original_frame, SETTINGS, **TTRS)
    assert ex.view(row=0, scale=None).correct  # 112 px given at 112 px: nothing to map
    drifted = ex.view(row=1, scale=None)  # 168 px given at 112 px: the box lands 1.5x too far
    assert drifted.given_size == (112, 112) and drifted.iou < ex.view(row=0, scale=None).iou


def test_views_are_kept_per_setting_and_arguments_checked(rows):
    calls = []

    def counting(rows_, bounds):
        calls.append(bounds)
        return gold_in_given_frame(rows_, bounds)

    ex = ResolutionExplorer(rows, counting, SETTINGS, **TTRS)
    assert ex.view(row=2, scale=0.5) is ex.view(row=2, scale=0.5) and len(calls) == 1
    assert calls[0] == PixelBounds(6272, 6272)  # bound "both": 0.5 x 112 x 112 is min and max
    with pytest.raises(IndexError, match="row 3 is not one of the 3 rows"):
        ex.view(row=3)
    vqa = H.rows(n_rec=0, n_vqa=1)[0]
    with pytest.raises(ValueError, match=r"rows \['vqa'\] are not REC rows"):
        ResolutionExplorer([("vqa", vqa)], counting, SETTINGS, **TTRS)


def test_the_live_panel_reasks_the_model_when_a_slider_moves(rows):
    ex = ResolutionExplorer(rows, gold_in_given_frame, SETTINGS, **TTRS)
    row, scale = ex.sliders()
    assert row.value == 1 and row.static == (0, 2)
    assert scale.options[0] == ("as given", None) and ("0.75", 0.75) in scale.options and scale.static == (0.5, 1.0, 2.0)
    panel = ex.show(display=False)
    panel.build()
    assert panel.current.scale is None and panel.current.label == "x1.5"
    panel._controls["scale"].index = [v for _, v in scale.options].index(2.0)  # what dragging the slider does
    # scale 2 with bound "both": min = max = 2 x 112 x 112 pixels, so the 168 px scene is given at 140 x 140
    assert panel.current.scale == 2.0 and panel.current.given_size == (140, 140) and panel.current.visual_tokens == 25
    html = panel._output.outputs[-1]["data"]["text/html"]
    assert html.count("data:image/png;base64,") == 2 and "TTRS scale 2" in html


def test_a_real_tiny_vlm_is_given_the_frame_the_slider_sets(rows, tmp_path):
    from longthink.taco.pipeline import load_model

    model, processor = load_model(str(H.vlm_folder(tmp_path / "vlm")), BASE)

    def reply(rows_, bounds):
        return generate_replies(model, processor, rows_, bounds=bounds, max_new_tokens=4, batch_size=1)

    ex = ResolutionExplorer(rows, reply, SETTINGS, **TTRS)
    for scale in (None, 0.5, 2.0):
        view = ex.view(row=1, scale=scale)
        h_bar, w_bar = smart_resize(168, 168, ex.bounds(scale))
        assert view.given_size == (w_bar, h_bar) and view.visual_tokens == w_bar * h_bar // 784
        assert isinstance(view.reply, str) and (view.box is None) == (view.box_given is None)
    assert processor.image_processor.size["longest_edge"] == BASE.max_pixels  # restored after each call


def test_the_telling_row_is_one_ttrs_fixes():
    def rec(ok):
        return {"task": "rec", "correct": float(ok)}

    records = {"eval": [{"task": "vqa", "correct": 1.0}, rec(1), rec(1), rec(0)],
               "eval_x1.5": [rec(0)] * 4, "ttrs_x1.5": [rec(0), rec(0), rec(1), rec(0)]}
    assert telling_index(records, [1.5]) == 2
    records["ttrs_x1.5"] = [rec(0)] * 4
    assert telling_index(records, [1.5]) == 1  # nothing fixed: the first right at the training resolution
    with pytest.raises(ValueError, match="no REC rows"):
        telling_index({"eval": [{"task": "vqa", "correct": 1.0}]}, [1.5])
