"""Live controls for the notebooks (ipywidgets), and the static output that replaces them under papermill.

A control panel is a few sliders and a *view function*: ``view(**values)`` returns an object that renders itself
(``_repr_html_`` for the notebook, ``__str__`` for a terminal). The logic lives in the paper rooms
(``longthink.s1.widgets``, ``longthink.thinklogit.widgets``), where a test calls each view function from Python and
checks what it returns; this module only wires view functions to sliders.

* **Live** (JupyterLab, an IPython kernel with ipywidgets): :func:`panel` shows the sliders above an output area;
  moving a slider calls :meth:`Panel.set`, which calls the view function again and replaces the output.
* **Static** (papermill): nobody moves a slider there, and a widget's output area does not survive in an executed
  notebook's file. So :func:`panel` displays the views for a few chosen settings instead (each slider's ``static``
  values, the others at their start), as ordinary outputs. The kit's papermill runs (``longthink run``, ``make
  test``, ``make reproduce``) set ``LONGTHINK_WIDGETS=static`` for the kernel; set it yourself when you run
  papermill by hand.
"""

from __future__ import annotations

import html
import os
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

STATIC_ENV = "LONGTHINK_WIDGETS"  # "static": show the static fallback even where widgets could run
MODES = ("live", "static")


class WidgetError(ValueError):
    """A slider whose start or static value is not one of its options, or an unknown slider name."""


def _values(options: Sequence) -> list:
    return [o[1] if isinstance(o, tuple) and len(o) == 2 else o for o in options]


def _label(options: Sequence, value) -> str:
    for o in options:
        if isinstance(o, tuple) and len(o) == 2 and o[1] == value:
            return str(o[0])
    return str(value)


@dataclass(frozen=True)
class Slider:
    """One control: the view function's keyword ``name``, its ``options`` in order (values or ``(label, value)``
    pairs), the start ``value`` and the ``static`` values the papermill fallback shows one by one."""

    name: str
    label: str
    options: tuple
    value: Any
    static: tuple = ()

    def __post_init__(self):
        allowed = _values(self.options)
        if not allowed:
            raise WidgetError(f"slider {self.name!r} has no options")
        for what, value in (("start value", self.value), *(("static value", v) for v in self.static)):
            if value not in allowed:
                raise WidgetError(f"slider {self.name!r}: {what} {value!r} is not one of its options {allowed}")

    def describe(self, value) -> str:
        return f"{self.label} {_label(self.options, value)}"


def spread(values: Sequence, n: int = 3) -> tuple:
    """At most ``n`` of ``values``, evenly spaced and always with the first and the last (static fallbacks show a
    few settings, not a whole sweep)."""
    values = list(values)
    if len(values) <= n:
        return tuple(values)
    return tuple(values[round(i * (len(values) - 1) / (n - 1))] for i in range(n))


def mode() -> str:
    """``live`` in a Jupyter kernel with ipywidgets installed, else ``static`` (and always with
    ``LONGTHINK_WIDGETS=static``)."""
    wanted = os.environ.get(STATIC_ENV, "").strip().lower()
    if wanted and wanted not in MODES:
        raise WidgetError(f"{STATIC_ENV}={wanted!r}: use one of {MODES}")
    if wanted == "static":
        return "static"
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return "static"
    shell = get_ipython()
    return "live" if shell is not None and getattr(shell, "kernel", None) is not None else "static"


def text_progress_bars() -> bool:
    """In static mode, make ``tqdm.auto`` draw text bars (True when it switched them).

    With ipywidgets installed, ``tqdm.auto`` draws its progress bars as widgets in any Jupyter kernel; under
    papermill such a bar's output is a widget whose state is not saved, so the executed notebook shows a bar stuck at
    0%. Imported with ``longthink`` (before transformers or datasets import tqdm), this gives batch runs the text
    bars a terminal shows; in JupyterLab the widget bars stay.
    """
    import sys

    if "IPython" not in sys.modules or mode() != "static":
        return False
    import tqdm.asyncio
    import tqdm.auto
    import tqdm.autonotebook
    import tqdm.std

    tqdm.autonotebook.tqdm, tqdm.autonotebook.trange = tqdm.std.tqdm, tqdm.std.trange
    tqdm.auto.tqdm, tqdm.auto.trange = tqdm.asyncio.tqdm, tqdm.asyncio.trange
    return True


def bundle(view) -> dict:
    """A display_data output for ``view`` (its HTML and its text)."""
    data = {"text/plain": str(view)}
    if hasattr(view, "_repr_html_"):
        data["text/html"] = view._repr_html_()
    return {"output_type": "display_data", "data": data, "metadata": {}}


@dataclass
class ErrorView:
    """What a panel shows when its view function raised (a live callback's error would otherwise be lost)."""

    values: dict
    error: str

    def __str__(self) -> str:
        return f"the view failed for {self.values}:\n{self.error}"

    def _repr_html_(self) -> str:
        return f"<pre style='color:#b71c1c'>{html.escape(str(self))}</pre>"


class Panel:
    """Sliders wired to a view function; :meth:`set` is what moving a slider does (a test calls it directly)."""

    def __init__(self, view: Callable[..., Any], sliders: Sequence[Slider], *, title: str = ""):
        names = [s.name for s in sliders]
        if len(set(names)) != len(names):
            raise WidgetError(f"two sliders share a name: {names}")
        self.view, self.sliders, self.title = view, list(sliders), title
        self.values = {s.name: s.value for s in self.sliders}
        self.current = None
        self._controls: dict = {}
        self._output = None

    def set(self, **values):
        """Change slider values, call the view function, and show its result (in the live output area)."""
        unknown = sorted(set(values) - set(self.values))
        if unknown:
            raise WidgetError(f"unknown slider(s) {unknown}; this panel has {sorted(self.values)}")
        for s in self.sliders:
            if s.name in values and values[s.name] not in _values(s.options):
                raise WidgetError(f"slider {s.name!r}: {values[s.name]!r} is not one of {_values(s.options)}")
        self.values.update(values)
        try:
            self.current = self.view(**self.values)
        except Exception:  # shown in the output area; in a live callback it would vanish into the kernel log
            self.current = ErrorView(dict(self.values), traceback.format_exc(limit=4))
        if self._output is not None:
            self._output.outputs = (bundle(self.current),)
        return self.current

    def static_settings(self) -> list[dict]:
        """The settings the static fallback shows: the start, then each slider's static values (others at start)."""
        start = {s.name: s.value for s in self.sliders}
        settings = [start]
        for s in self.sliders:
            settings += [{**start, s.name: v} for v in s.static if {**start, s.name: v} not in settings]
        return settings

    def describe(self, values: dict) -> str:
        return ", ".join(s.describe(values[s.name]) for s in self.sliders)

    def build(self):
        """The ipywidgets box: one SelectionSlider per slider, then the output area (showing the start view)."""
        import ipywidgets as w

        self._output = w.Output()
        for s in self.sliders:
            values = _values(s.options)  # watched by index: a value of None ("auto") means "no selection" to ipywidgets
            control = w.SelectionSlider(options=list(s.options), index=values.index(self.values[s.name]),
                                        description=s.label, continuous_update=False,
                                        style={"description_width": "initial"}, layout=w.Layout(width="520px"))
            control.observe(lambda change, name=s.name, values=values: self.set(**{name: values[change["new"]]}),
                            names="index")
            self._controls[s.name] = control
        self.set()
        header = [w.HTML(f"<b>{html.escape(self.title)}</b>")] if self.title else []
        return w.VBox([*header, *self._controls.values(), self._output])

    def show(self, how: str | None = None):
        """Display the live panel, or (static) the view at each of :meth:`static_settings`."""
        from IPython.display import HTML, display

        how = how or mode()
        if how not in MODES:
            raise WidgetError(f"unknown panel mode {how!r}; use one of {MODES}")
        if how == "live":
            display(self.build())
            return self
        if self.title:
            display(HTML(f"<b>{html.escape(self.title)}</b> (static: the live sliders show in JupyterLab)"))
        for values in self.static_settings():
            display(HTML(f"<h4>{html.escape(self.describe(values))}</h4>"))
            display(bundle(self.set(**values))["data"], raw=True)
        return self


def panel(view: Callable[..., Any], sliders: Sequence[Slider], *, title: str = "", show: bool = True) -> Panel:
    """A :class:`Panel` for ``view`` and ``sliders``, displayed live or static (see :func:`mode`)."""
    p = Panel(view, sliders, title=title)
    return p.show() if show else p
