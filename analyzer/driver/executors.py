"""Where the map and check tasks run: forked local processes, or a Dask cluster.

Both executors take a module-level function and a list of argument tuples (or
of callables that make the tuple when the task starts, so that a task can use
what earlier ones found) and give back one `TaskOutcome` per task, in order,
calling `done(i, outcome)` as each finishes (then the value is not kept: a whole
tree's map results need not fit in memory at once).  A task that raises becomes an error
outcome; one that takes its process down (libclang crashing on a file) becomes a
crashed outcome: the rest of the run goes on.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait

from analyzer.errors import InputError

PR_SET_PDEATHSIG = 1


@dataclass
class TaskOutcome:
    value: object = None
    error: str | None = None
    crashed: bool = False


def _call(fn: Callable, args: tuple) -> TaskOutcome:
    try:
        return TaskOutcome(fn(*args))
    except InputError as exc:
        return TaskOutcome(error=str(exc))
    except Exception as exc:  # a bug of ours in one task must not stop the run
        return TaskOutcome(error=f"internal error {type(exc).__name__}: {exc}")


def _call_spread(fn: Callable, *args) -> TaskOutcome:
    return _call(fn, args)


def _spent(out: TaskOutcome) -> TaskOutcome:
    """What is left of an outcome `done` has consumed: not its value's memory."""
    return TaskOutcome(None, out.error, out.crashed)


def _args(task) -> tuple:
    return task() if callable(task) else task


def _die_with(parent: int) -> None:
    """A worker ends when the run does, however the run ends (SIGKILL included): the
    kernel sends it SIGKILL when its parent dies (Linux's parent-death signal)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)


def _child(fn: Callable, args: tuple, conn, parent: int) -> None:
    _die_with(parent)
    out = _call(fn, args)
    try:
        data = pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        data = pickle.dumps(TaskOutcome(error=f"internal error: result not sent: {exc}"))
    conn.send_bytes(data)
    conn.close()


class LocalExecutor:
    """Each task in a forked process of its own, at most `workers` at once."""

    name = "local"

    def __init__(self, workers: int = 1) -> None:
        self.workers = max(workers, 1)

    def map(self, fn: Callable, tasks: list[tuple], done=None) -> list[TaskOutcome]:
        ctx = multiprocessing.get_context("fork")
        results: dict[int, TaskOutcome] = {}
        todo = list(range(len(tasks)))
        running: dict = {}
        try:
            self._loop(ctx, fn, tasks, todo, running, results, done)
        finally:  # interrupted (Ctrl-C, SIGTERM): no worker outlives the run
            for _, proc in running.values():
                proc.kill()
                proc.join()
        return [results[i] for i in range(len(tasks))]

    def _loop(self, ctx, fn, tasks, todo, running, results, done) -> None:
        me = os.getpid()
        while todo or running:
            while todo and len(running) < self.workers:
                i = todo.pop(0)
                parent, child = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_child, args=(fn, _args(tasks[i]), child, me),
                                   daemon=True)
                proc.start()
                child.close()
                running[parent] = (i, proc)
            for conn in wait(list(running)):
                i, proc = running.pop(conn)
                try:
                    results[i] = pickle.loads(conn.recv_bytes())
                except (EOFError, OSError):
                    proc.join()
                    code = proc.exitcode
                    why = f"signal {-code}" if code is not None and code < 0 else f"exit {code}"
                    results[i] = TaskOutcome(error=f"libclang crashed ({why})", crashed=True)
                conn.close()
                proc.join()
                if done:
                    done(i, results[i])
                    results[i] = _spent(results[i])

    def close(self) -> None:
        pass


class DaskExecutor:
    """Tasks on a Dask cluster: the one at `address`, or a `LocalCluster` of `workers`
    processes started for the run.

    Workers read the tree from the same path as the client (a shared file system):
    the map tasks parse there.  Everything else a task needs travels with it.
    """

    name = "dask"

    def __init__(self, address: str | None = None, workers: int = 1) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise InputError("the dask executor needs the cluster extra: "
                             "pip install 'rcucheck[cluster]'") from None
        self.cluster = None
        try:
            if address:
                self.client = Client(address, timeout="30s")
            else:
                self.cluster = LocalCluster(n_workers=max(workers, 1), threads_per_worker=1,
                                            processes=True, dashboard_address=None,
                                            silence_logs=40)
                self.client = Client(self.cluster)
        except OSError as exc:
            raise InputError(f"cannot reach the Dask scheduler {address}: {exc}") from None

    def map(self, fn: Callable, tasks: list[tuple], done=None) -> list[TaskOutcome]:
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        tasks = [_args(t) for t in tasks]
        tasks = self._shared(tasks)
        futures = [self.client.submit(_call_spread, fn, *args, pure=False, retries=0)
                   for args in tasks]
        index = {f.key: i for i, f in enumerate(futures)}
        results: dict[int, TaskOutcome] = {}
        for fut in as_completed(futures):
            i = index[fut.key]
            try:
                results[i] = fut.result()
            except KilledWorker:
                results[i] = TaskOutcome(error="libclang crashed (its Dask worker died)",
                                         crashed=True)
            except Exception as exc:
                results[i] = TaskOutcome(error=f"Dask task failed: {type(exc).__name__}: "
                                               f"{exc}")
            fut.release()  # the client keeps no task's result past its use
            if done:
                done(i, results[i])
                results[i] = _spent(results[i])
        return [results[i] for i in range(len(tasks))]

    def _shared(self, tasks: list[tuple]) -> list[tuple]:
        """What every task takes the same of (the model, the checkers) goes to the workers
        once, not once per task held by the scheduler."""
        if len(tasks) < 2:
            return tasks
        first = tasks[0]
        shared = {}
        for pos, obj in enumerate(first):
            if obj is None or isinstance(obj, (str, int, float, bool, list, tuple, dict, set)):
                continue  # scalars are small; collections would scatter element-wise
            if all(len(t) == len(first) and t[pos] is obj for t in tasks):
                shared[pos] = self.client.scatter(obj, broadcast=True, hash=False)
        if not shared:
            return tasks
        return [tuple(shared.get(i, a) for i, a in enumerate(t)) for t in tasks]

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def executor(kind: str, workers: int, address: str | None = None):
    if kind == "dask":
        return DaskExecutor(address, workers)
    return LocalExecutor(workers)
