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
