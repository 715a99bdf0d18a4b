"""The shared widget wiring: sliders validate, a panel's callback re-renders, live ipywidgets drive it, papermill gets
static output."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from longthink import widgets
from longthink.widgets import Panel, Slider, WidgetError


@dataclass
class Echo:
    a: int
    b: str

    def __str__(self):
        return f"a={self.a} b={self.b}"

    def _repr_html_(self):
        return f"<i>a={self.a} b={self.b}</i>"


def view(a=1, b="x"):
    if a == 99:
        raise RuntimeError("boom")
    return Echo(a, b)


SLIDERS = [Slider("a", "A", (1, 2, 3, 99), 1, static=(3,)), Slider("b", "B", (("ex", "x"), ("why", "y")), "x",
                                                                     static=("y",))]


def test_slider_values_are_checked():
    with pytest.raises(WidgetError, match=r"slider 'a': start value 5 is not one of its options \[1, 2\]"):
        Slider("a", "A", (1, 2), 5)
    with pytest.raises(WidgetError, match="static value 7"):
        Slider("a", "A", (1, 2), 1, static=(7,))
    with pytest.raises(WidgetError, match="share a name"):
        Panel(view, [SLIDERS[0], SLIDERS[0]])


def test_set_calls_the_view_and_keeps_the_other_values():
    p = Panel(view, SLIDERS)
    assert p.set(a=2).a == 2 and p.current.b == "x"
    assert p.set(b="y") == Echo(2, "y")
    with pytest.raises(WidgetError, match=r"unknown slider\(s\) \['c'\]"):
        p.set(c=1)
    with pytest.raises(WidgetError, match="slider 'a': 7 is not one of"):
        p.set(a=7)


def test_a_failing_view_shows_its_error_instead_of_vanishing():
    p = Panel(view, SLIDERS)
    shown = p.set(a=99)
    assert isinstance(shown, widgets.ErrorView) and "RuntimeError: boom" in str(shown)


def test_static_settings_vary_one_slider_at_a_time():
    assert Panel(view, SLIDERS).static_settings() == [{"a": 1, "b": "x"}, {"a": 3, "b": "x"}, {"a": 1, "b": "y"}]
    assert Panel(view, SLIDERS).describe({"a": 3, "b": "y"}) == "A 3, B why"


def test_live_sliders_drive_the_callback_and_fill_the_output():
    p = Panel(view, SLIDERS, title="t")
    box = p.build()
    assert p.current == Echo(1, "x")
    p._controls["a"].index = 2  # what dragging the slider in JupyterLab does (the slider's position)
    assert p.current == Echo(3, "x")
    out = p._output.outputs[-1]["data"]
    assert out["text/html"] == "<i>a=3 b=x</i>" and out["text/plain"] == "a=3 b=x"
    assert len(box.children) == 4  # title, two sliders, the output


def test_mode_is_static_under_the_kit_papermill_runs(monkeypatch):
    monkeypatch.setenv(widgets.STATIC_ENV, "static")
    assert widgets.mode() == "static"
    monkeypatch.setenv(widgets.STATIC_ENV, "")
    assert widgets.mode() == "static"  # no IPython kernel in a test process
    monkeypatch.setenv(widgets.STATIC_ENV, "sometimes")
    with pytest.raises(WidgetError, match="LONGTHINK_WIDGETS='sometimes'"):
        widgets.mode()


def test_static_show_displays_each_setting(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append(obj))
    Panel(view, SLIDERS, title="t").show("static")
    texts = [s["text/plain"] for s in shown if isinstance(s, dict)]
    assert texts == ["a=1 b=x", "a=3 b=x", "a=1 b=y"]


def test_spread_keeps_the_ends():
    assert widgets.spread([8, 16, 32, 64]) == (8, 32, 64) and widgets.spread([1, 2]) == (1, 2)
    assert widgets.spread([0, 1, 2, 4, 8], 2) == (0, 8) and widgets.spread([]) == ()


def test_batch_kernels_get_text_progress_bars():
    """Under papermill a widget progress bar would be saved stuck at 0%: in static mode tqdm.auto draws text."""
    import subprocess
    import sys

    code = "\n".join([
        "import IPython, ipykernel.zmqshell  # what tqdm.auto takes for a Jupyter kernel",
        "import tqdm.auto, tqdm.notebook",
        "before = issubclass(tqdm.auto.tqdm, tqdm.notebook.tqdm)",
        "import longthink",
        "print(before, issubclass(tqdm.auto.tqdm, tqdm.notebook.tqdm))",
    ])
    for value, expected in (("static", ["True", "False"]), ("", ["True", "True"])):
        env = {"LONGTHINK_WIDGETS": value, "PATH": "/usr/bin:/bin", "HOME": "/tmp"}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        assert out.stdout.split() == expected, out.stderr
