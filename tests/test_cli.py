import subprocess
import sys

import pytest

from longthink.cli import COMMANDS, main


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help(command, capsys):
    argv = ["--help"] if command is None else [command, "--help"]
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    assert "usage: longthink" in capsys.readouterr().out


def test_console_script_is_installed():
    out = subprocess.run([sys.executable, "-m", "longthink.cli", "--help"], capture_output=True, text=True, check=True)
    assert "reproduce" in out.stdout


def test_unknown_notebook_lists_known(capsys):
    assert main(["run", "nope", "--profile", "smoke"]) == 2
    err = capsys.readouterr().err
    assert "unknown notebook 'nope'" in err and "known names: " in err and "quickstart" in err


def test_unknown_profile_is_rejected():
    with pytest.raises(SystemExit) as info:
        main(["run", "quickstart", "--profile", "huge"])
    assert info.value.code == 2


def test_doctor(capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    for word in ("python", "torch", "gpu", "vllm", "cache", "free disk"):
        assert word in out


def test_list(capsys):
    assert main(["list"]) == 0
    assert "quickstart" in capsys.readouterr().out


def test_set_is_validated_before_any_work(capsys):
    assert main(["run", "quickstart", "--profile", "smoke", "--set", "sft.learning_rate=-1"]) == 2
    err = capsys.readouterr().err
    assert "stages.sft.learning_rate' must be > 0" in err and "quickstart.yaml" in err
    assert main(["run", "quickstart", "--profile", "smoke", "--set", "nope.x=1"]) == 2
    assert "no stage 'nope'" in capsys.readouterr().err
    assert main(["run", "world", "--profile", "smoke", "--set", "vlm.max_steps=1"]) == 2
    assert "takes no --set" in capsys.readouterr().err


def test_unwritable_output_dir_is_one_line(tmp_path, capsys):
    import os

    if os.geteuid() == 0:
        pytest.skip("root can write anywhere (test_output_dir_that_is_a_file covers the message)")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code = main(["run", "quickstart", "--profile", "smoke", "--output-dir", str(locked / "runs")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "cannot write to the output folder" in err


def test_output_dir_that_is_a_file(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["run", "quickstart", "--profile", "smoke", "--output-dir", str(blocker / "runs")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cannot write to the output folder" in err


def test_clean_removes_leftovers(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LONGTHINK_CACHE", str(tmp_path / "cache"))
    (tmp_path / "runs" / "tiny" / "s1" / ".sft.x1y2.tmp").mkdir(parents=True)
    (tmp_path / "cache" / "world" / ".instruct-abc.q1.tmp").mkdir(parents=True)
    assert main(["clean", "--output-dir", str(tmp_path / "runs")]) == 0
    assert "2 leftover" in capsys.readouterr().out
    assert not list(tmp_path.rglob("*.tmp"))


def test_parameters_as_papermill_gives_them(tmp_path, capsys, monkeypatch):
    import longthink.cli as cli

    seen = {}
    monkeypatch.setattr(cli, "run_notebook", lambda name, **kw: seen.update(kw) or tmp_path / "x.ipynb")
    assert main(["run", "quickstart", "--profile", "smoke", "-p", "SEED", "3", "-p", "NAME", "abc",
                 "--set", "sft.learning_rate=1e-3"]) == 0
    assert seen["extra_parameters"] == {"SEED": 3, "NAME": "abc"}
    assert seen["overrides"] == {"sft.learning_rate": 1e-3}
