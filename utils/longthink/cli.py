"""The ``longthink`` command: run a notebook, reproduce everything, report, and check the machine.

Each subcommand is a function registered in ``COMMANDS``; ``main(argv)`` is callable from a notebook or a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from longthink.notebooks import PROFILES, NotebookError, list_notebooks, repo_root, run_notebook

COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], Callable[[argparse.ArgumentParser], None], str]] = {}


def command(name: str, help_text: str, args: Callable[[argparse.ArgumentParser], None] = lambda p: None):
    def register(fn):
        COMMANDS[name] = (fn, args, help_text)
        return fn

    return register


def _profile_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default="tiny", choices=PROFILES, help="settings overlay (default: tiny)")
    parser.add_argument("--output-dir", default="runs", help="where runs/<profile>/ lives (default: runs)")


def _run_args(parser):
    parser.add_argument("name", help="notebook name, e.g. quickstart, world, s1, thinklogit (see `longthink list`)")
    _profile_arg(parser)
    parser.add_argument("--seed", type=int, default=None,
                        help="the run's seed (the notebook's SEED), which also picks the world built with it")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                        help="set a notebook parameter, as papermill's -p does (value read as YAML)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="STAGE.KEY=VALUE",
                        help="override one recipe setting for this run, e.g. --set sft.learning_rate=1e-4 "
                             "(validated like the recipe)")


def _reproduce_args(parser):
    _profile_arg(parser)
    parser.add_argument("--only", nargs="*", default=None, help="run only these notebooks (names)")


@command("run", "execute one notebook through papermill into runs/<profile>/notebooks/", _run_args)
def cmd_run(args) -> int:
    import yaml

    from longthink.config import parse_assignments
    from longthink.notebooks import validate_overrides

    overrides = parse_assignments(args.overrides)
    validate_overrides(args.name, args.profile, overrides)
    parameters = {}
    for key, value in args.parameter:
        if not key.isidentifier():
            raise NotebookError(f"-p {key} {value}: {key!r} is not a notebook parameter name")
        parameters[key] = yaml.safe_load(value)
    out = run_notebook(args.name, profile=args.profile, seed=args.seed, output_dir=args.output_dir,
                       overrides=overrides, extra_parameters=parameters)
    print(f"executed: {out}")
    return 0



@command("reproduce", "run every notebook in order, then write runs/<profile>/REPORT.md", _reproduce_args)
def cmd_reproduce(args) -> int:
    from tqdm.auto import tqdm

    names = args.only or list(list_notebooks())
    bar = tqdm(names, desc=f"reproduce ({args.profile})", unit="notebook")
    for name in bar:
        bar.set_postfix_str(name)
        run_notebook(name, profile=args.profile, output_dir=args.output_dir, progress=False)
    return cmd_report(args)



@command("report", "compare runs/<profile>/*/metrics.json with expected/ and write REPORT.md/.html", _profile_arg)
def cmd_report(args) -> int:
    from longthink.report import write_report

    root = repo_root()
    runs_dir = Path(args.output_dir) if Path(args.output_dir).is_absolute() else root / args.output_dir
    path, rows, states = write_report(args.profile, runs_dir=runs_dir, expected_dir=root / "expected")
    bad = [r for r in rows if r.status in ("FAIL", "missing")]
    passed = [r for r in rows if r.status == "pass"]
    records = [r for r in rows if r.status == "record"]
    failed_runs = {p: note for p, (state, note) in states.items() if state == "failed"}
    print(f"report: {path} ({len(passed)} checks pass, {len(bad)} fail or missing, {len(records)} records)")
    for row in bad:
        print(f"  {row.status}: {row.key} = {row.got} (bar {row.expected})")
    for paper, (state, note) in sorted(states.items()):
        if state not in ("current", "none"):
            print(f"  {paper}: {state}: {note}")
    return 1 if bad or failed_runs else 0


@command("clean", "remove temp files and folders that killed runs left under the runs folder and the model cache",
         _profile_arg)
def cmd_clean(args) -> int:
    from longthink.files import remove_leftovers
    from longthink.stages import cache_dir

    root = repo_root()
    runs_dir = Path(args.output_dir) if Path(args.output_dir).is_absolute() else root / args.output_dir
    removed = remove_leftovers(runs_dir) + remove_leftovers(cache_dir())
    for path in removed:
        print(f"removed {path}")
    print(f"clean: {len(removed)} leftover temp file(s) or folder(s) removed")
    return 0


@command("list", "list the notebooks that `longthink run` knows")
def cmd_list(args) -> int:
    for name, path in list_notebooks().items():
        print(f"{name:14s} {path.relative_to(repo_root())}")
    return 0


@command("doctor", "print python, torch, threads, GPU, vLLM, the cache folder and free disk")
def cmd_doctor(args) -> int:
    import importlib.util

    import torch

    from longthink.stages import cache_dir

    cache = cache_dir()
    probe = cache if cache.exists() else next(p for p in cache.parents if p.exists())
    free_gb = shutil.disk_usage(probe).free / 2**30
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none (CPU only)"
    facts = {
        "python": f"{platform.python_version()} ({sys.executable})",
        "torch": f"{torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores",
        "gpu": gpu,
        "vllm": "installed" if importlib.util.find_spec("vllm") else "not installed (generation uses transformers)",
        "cache": f"{cache} (LONGTHINK_CACHE)",
        "free disk": f"{free_gb:.1f} GiB at {probe}",
        "hub": "offline" if os.environ.get("HF_HUB_OFFLINE") == "1" else "online lookups allowed (HF_HUB_OFFLINE unset)",
    }
    for key, value in facts.items():
        print(f"{key:10s} {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="longthink", description="Reproduce s1, ThinkLogit, Insight-V and TACO: smoke, tiny or paper scale."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_fn, add_args, help_text) in COMMANDS.items():
        add_args(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    from longthink.config import RecipeError

    try:
        return COMMANDS[args.command][0](args)
    except (NotebookError, RecipeError) as exc:
        print(f"longthink {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
