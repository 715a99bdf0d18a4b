"""A look in a real browser (outside CI): start JupyterLab, open a paper notebook in headless Chromium, run it up to
its live controls, drag a slider as a reader would, and save a screenshot of the controls' cell under docs/.

What it checks that the tests cannot: that the ipywidgets render in JupyterLab, and that dragging a slider reaches
the kernel, re-decodes and redraws the output (the tests drive the same callbacks from Python). It needs the
paper's stages built for the profile (``longthink run s1 --profile tiny`` ...), so the cells above the controls
return from the cache, and Debian's Chromium with its driver:

    apt-get install -y chromium chromium-driver
    .venv/bin/pip install -e '.[browser]'                  # selenium, pinned in pyproject.toml
    .venv/bin/python tools/lab_screenshots.py              # every paper notebook, tiny profile -> docs/lab_*.png
    .venv/bin/python tools/lab_screenshots.py --notebook s1 --profile smoke --out /tmp/look

The notebook runs from a parameterised copy (``notebooks/_look_<name>.ipynb``: ``_`` marks a draft that the kit's
notebook list ignores), deleted afterwards. Lab settings and workspaces live in a temporary folder, so a user's
own settings play no part; the notebook renders every cell (no windowing) so the screenshot holds the whole cell.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,2600",
                  "--hide-scrollbars"]


@dataclass(frozen=True)
class Target:
    """One interactive notebook: the cell holding the controls (a substring of its source), the slider to drag (its
    label), where along its track to drop it (0 = left end, 1 = right end) and the screenshot's file name."""

    notebook: str
    marker: str
    slider: str
    drop_at: float
    screenshot: str


TARGETS: dict[str, Target] = {
    "s1": Target("01_s1.ipynb", "s1_widgets.trace_explorer(", "thinking budget", 0.22, "lab_s1.png"),
    "thinklogit": Target("02_thinklogit.ipynb", "explorer.show(", "alpha", 0.85, "lab_thinklogit.png"),
    "insight_v": Target("03_insight_v.ipynb", "iv_widgets.chain_explorer(", "steps shown", 0.3, "lab_insight_v.png"),
    "taco": Target("04_taco.ipynb", "taco_widgets.resolution_explorer(", "TTRS scale", 0.85, "lab_taco.png"),
}

# The panel of the notebook whose file name is given, found among the main area's widgets: headless Chromium often
# has no focused widget, and then JupyterLab 4's shell.currentWidget is null.
NOTEBOOK_PANEL = """
const notebookPanel = (app, name) => app && Array.from(app.shell.widgets('main')).find(
  w => w.content && w.sessionContext && w.context && w.context.path.endsWith(name));
"""

RUN_TO_CONTROLS = NOTEBOOK_PANEL + """
const [marker, name, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
(async () => {
  const app = window.jupyterapp;
  const panel = notebookPanel(app, name);
  await panel.context.ready;
  await panel.sessionContext.ready;
  const nb = panel.content;
  const index = nb.widgets.findIndex(c => c.model.sharedModel.getSource().includes(marker));
  if (index < 0) { done({error: `no cell holds ${marker}`}); return; }
  nb.activeCellIndex = index;
  await app.commands.execute('notebook:run-all-above');
  nb.activeCellIndex = index;
  await app.commands.execute('notebook:run-cell');
  const errors = [];
  nb.widgets.slice(0, index + 1).forEach((cell, i) => {
    if (cell.model.type !== 'code') return;
    for (const out of cell.model.outputs.toJSON()) {
      if (out.output_type === 'error') errors.push(`cell ${i}: ${out.ename}: ${out.evalue}`);
    }
  });
  done({index, errors});
})().catch(e => done({error: String(e)}));
"""

CELL_NODE = NOTEBOOK_PANEL + """
return notebookPanel(window.jupyterapp, arguments[1]).content.widgets[arguments[0]].node;
"""

CELL_TEXT = NOTEBOOK_PANEL + """
const nb = notebookPanel(window.jupyterapp, arguments[1]).content;
return nb.widgets[arguments[0]].node.innerText;
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lab_settings(folder: Path) -> None:
    """User settings for a clean, fully rendered lab: no cell windowing, no news or update checks."""
    settings = {
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                            "checkForUpdates": False},
    }
    for name, value in settings.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


def start_lab(port: int, token: str, scratch: Path, log) -> subprocess.Popen:
    lab_settings(scratch / "settings")
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "LONGTHINK_WIDGETS")}  # live widgets
    env.setdefault("OMP_NUM_THREADS", "1")
    cmd = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", f"--port={port}",
           "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}",
           "--LabApp.expose_app_in_browser=True", f"--LabApp.user_settings_dir={scratch / 'settings'}",
           f"--LabApp.workspaces_dir={scratch / 'workspaces'}", "--allow-root"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {proc.returncode}; see {log.name}")
            time.sleep(1)
    raise RuntimeError(f"JupyterLab did not answer on port {port} within 120 s; see {log.name}")


def browser(chromium: str, driver_path: str, profile_dir: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={profile_dir}"]:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver_path), options=options)


def parameterised_copy(target: Target, profile: str, seed: int, output_dir: str) -> Path:
    """``notebooks/_look_<notebook>`` with the run's parameters injected (papermill's own parameterisation)."""
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    nb = load_notebook_node(str(ROOT / "notebooks" / target.notebook))  # as papermill reads it (cell tags set)
    nb = parameterize_notebook(nb, {"PROFILE": profile, "SEED": seed, "OUTPUT_DIR": output_dir})
    path = ROOT / "notebooks" / f"_look_{target.notebook}"
    nbformat.write(nb, path)
    return path


def wait_for(predicate, timeout: float, what: str, poll: float = 0.5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def look(driver, base: str, target: Target, copy: Path, out: Path, timeout: float) -> dict:
    """Open the copy, run it up to the controls, drag the slider, screenshot the cell. Returns what it saw."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    started = time.time()
    driver.get(f"{base}/lab/tree/notebooks/{copy.name}")
    wait_for(lambda: driver.execute_script(
        NOTEBOOK_PANEL + "const a = window.jupyterapp; const w = notebookPanel(a, arguments[0]);"
        "return !!(w && w.content && w.content.widgets && w.content.widgets.length && w.sessionContext"
        " && w.sessionContext.session && w.sessionContext.session.kernel);", copy.name),
        180, "the notebook and its kernel")
    driver.set_script_timeout(timeout)
    ran = driver.execute_async_script(RUN_TO_CONTROLS, target.marker, copy.name)
    if ran.get("error") or ran.get("errors"):
        raise RuntimeError(f"{target.notebook}: running up to the controls failed: {ran}")
    index = ran["index"]
    cell = driver.execute_script(CELL_NODE, index, copy.name)  # in this notebook's panel (others may be open)
    slider = wait_for(lambda: next((s for s in cell.find_elements(By.CSS_SELECTOR, ".widget-slider")
                                    if target.slider in s.text), None), 120, f"the {target.slider!r} slider")
    before = driver.execute_script(CELL_TEXT, index, copy.name)
    track = slider.find_element(By.CSS_SELECTOR, ".noUi-base")
    handle = slider.find_element(By.CSS_SELECTOR, ".noUi-handle")
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", cell)
    x_to = track.location["x"] + target.drop_at * track.size["width"]
    x_from = handle.location["x"] + handle.size["width"] / 2
    ActionChains(driver).click_and_hold(handle).move_by_offset(int(x_to - x_from), 0).release().perform()
    after = wait_for(lambda: (t := driver.execute_script(CELL_TEXT, index, copy.name)) != before
                     and "Executing" not in t and t, 120, "the output to redraw after the drag")
    time.sleep(1.0)  # let the output area settle before the picture
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", cell)
    out.parent.mkdir(parents=True, exist_ok=True)
    cell.screenshot(str(out))
    value = next((s for s in after.splitlines() if s.strip()), "")
    return {"notebook": target.notebook, "screenshot": str(out), "seconds": round(time.time() - started, 1),
            "slider": target.slider, "first line after the drag": value}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebook", choices=sorted(TARGETS), action="append",
                        help="which notebook(s) to look at (default: all)")
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output-dir", default="runs", help="the runs folder the notebook reads (as longthink run)")
    parser.add_argument("--out", default=str(ROOT / "docs"), help="folder for the screenshots")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--driver", default=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to run a notebook up to its controls")
    args = parser.parse_args(argv)
    for what, path in (("chromium", args.chromium), ("chromedriver", args.driver)):
        if not Path(path).exists():
            parser.error(f"{what} not found at {path}: apt-get install -y chromium chromium-driver")
    names = args.notebook or list(TARGETS)
    port, token = free_port(), os.urandom(12).hex()
    with tempfile.TemporaryDirectory(prefix="longthink-look-") as tmp:
        scratch = Path(tmp)
        log = open(scratch / "lab.log", "w")
        lab = start_lab(port, token, scratch, log)
        copies = []
        try:
            driver = browser(args.chromium, args.driver, scratch / "chromium-profile")
            try:
                driver.get(f"http://127.0.0.1:{port}/lab?token={token}")  # the token becomes a cookie
                for name in names:
                    target = TARGETS[name]
                    copy = parameterised_copy(target, args.profile, args.seed, args.output_dir)
                    copies.append(copy)
                    seen = look(driver, f"http://127.0.0.1:{port}", target, copy,
                                Path(args.out) / target.screenshot, args.timeout)
                    print(json.dumps(seen), flush=True)
            finally:
                driver.quit()
        except Exception:
            log.flush()
            print((scratch / "lab.log").read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            for copy in copies:
                copy.unlink(missing_ok=True)
            os.killpg(lab.pid, 15)
            lab.wait(timeout=30)
            log.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
