"""Build workers and notebook kernels die with their parent: a kill -9 never leaves trainers running."""

import os
import signal
import subprocess
import sys
import textwrap
import time

UTILS = os.path.join(os.path.dirname(__file__), "..", "utils")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie (dead, not yet reaped) counts as gone
        return fh.read().split()[2] != "Z"


def _wait_gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_pool_workers_die_when_their_parent_is_killed():
    code = textwrap.dedent("""
        import os, sys, time
        sys.path.insert(0, sys.argv[1])
        from longthink.processes import worker_pool
        pool = worker_pool(1, threads=0)
        pid = pool.submit(os.getpid).result()
        pool.submit(time.sleep, 120)
        print(pid, flush=True)
        time.sleep(120)
    """)
    parent = subprocess.Popen([sys.executable, "-c", code, UTILS], stdout=subprocess.PIPE, text=True)
    worker = int(parent.stdout.readline())
    assert _alive(worker)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    assert _wait_gone(worker), f"worker {worker} outlived its killed parent"


def test_a_kernel_started_by_longthink_run_exits_with_it():
    child = textwrap.dedent("""
        import sys, time
        sys.path.insert(0, sys.argv[1])
        import longthink  # starts the parent watch: LONGTHINK_PARENT_PID names our parent
        print("up", flush=True)
        time.sleep(120)
    """)
    parent_code = textwrap.dedent("""
        import os, subprocess, sys, time
        env = {**os.environ, "LONGTHINK_PARENT_PID": str(os.getpid())}
        kid = subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]], env=env, stdout=subprocess.PIPE,
                               text=True)
        assert kid.stdout.readline().strip() == "up"
        print(kid.pid, flush=True)
        time.sleep(120)
    """)
    parent = subprocess.Popen([sys.executable, "-c", parent_code, child, UTILS], stdout=subprocess.PIPE, text=True)
    kernel = int(parent.stdout.readline())
    assert _alive(kernel)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    assert _wait_gone(kernel), f"process {kernel} outlived the killed `longthink run`"


def test_grandchildren_do_not_watch_a_parent_that_is_not_theirs(monkeypatch):
    from longthink import processes

    started = []
    monkeypatch.setattr(processes, "watch_parent", lambda pid, **kw: started.append(pid))
    monkeypatch.setenv(processes.PARENT_ENV, str(os.getppid() + 12345))
    processes.maybe_watch_parent()
    assert started == []
    monkeypatch.setenv(processes.PARENT_ENV, str(os.getppid()))
    processes.maybe_watch_parent()
    assert started == [os.getppid()]


def test_run_in_workers_reports_each_job_and_names_the_one_that_failed():
    import operator

    import pytest

    from longthink.processes import WorkerError, run_in_workers

    done = []
    run_in_workers({"a": (6, 3), "b": (1, 4)}, operator.truediv, workers=2, on_done=done.append)
    assert sorted(done) == ["a", "b"]
    with pytest.raises(WorkerError, match="'zero' failed in its worker") as info:
        run_in_workers({"zero": (1, 0)}, operator.truediv, workers=1)
    assert info.value.job == "zero" and isinstance(info.value.error, ZeroDivisionError)


def test_run_jobs_runs_in_turn_with_one_worker_and_names_a_failed_job_with_several():
    import pytest

    from longthink.processes import run_jobs

    seen = []
    run_jobs({"a": (1,), "b": (2,)}, seen.append, workers=1, what="noting")  # here, in this process, in turn
    assert seen == [1, 2]
    with pytest.raises(RuntimeError, match="dividing: 'zero' failed in its worker") as info:
        run_jobs({"ok": (6, 3), "zero": (1, 0)}, _divide, workers=2, what="dividing")
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def _divide(a: int, b: int) -> float:  # module level: a spawned worker imports it by name
    return a / b
