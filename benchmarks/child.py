"""Runs a bot (`python -m MODULE ARGS…`) with a benchmark's variations, as a child process.

`python -m benchmarks.child [--sniffio absent|present] [--profile OUT] MODULE [ARGS…]`, for example
`python -m benchmarks.child --profile bot.prof bot run --config config.yaml`:
- `--sniffio absent` makes `import sniffio` fail the way it does when the package is not installed (a full
  search of sys.path, then ModuleNotFoundError), even when it is installed;
- `--sniffio present` makes it importable when it is not installed, with a stand-in module whose
  `current_async_library()` follows sniffio's own logic for asyncio (thread-local, context variable, then
  `asyncio.current_task()`);
- `--profile OUT` profiles with cProfile between SIGUSR1 and SIGUSR2 and writes the stats to OUT at exit.
Then it runs the module as `python -m MODULE ARGS…` would.
"""

from __future__ import annotations

import argparse
import contextvars
import cProfile
import importlib.abc
import importlib.util
import runpy
import signal
import sys
import threading
import types
from collections.abc import Sequence
from typing import Any


class _Absent(importlib.abc.MetaPathFinder):
    """Fails one module's import after the search a missing package costs: every finder, all of sys.path."""

    def __init__(self, name: str) -> None:
        self.name = name

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: Any = None) -> None:
        if fullname == self.name:
            importlib.util.find_spec(f"{self.name}_is_not_installed")
            raise ModuleNotFoundError(f"No module named {self.name!r}", name=self.name)


def _stand_in_sniffio() -> types.ModuleType:
    module = types.ModuleType("sniffio")
    local = threading.local()
    local.name = None
    cvar: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_async_library_cvar", default=None)

    class AsyncLibraryNotFoundError(RuntimeError):
        pass

    def current_async_library() -> str:
        value = getattr(local, "name", None) or cvar.get()
        if value is not None:
            return value
        if "asyncio" in sys.modules:
            from asyncio import current_task

            try:
                task = current_task()
            except RuntimeError:
                task = None
            if task is not None:
                return "asyncio"
        raise AsyncLibraryNotFoundError("unknown async library, or not in async context")

    module.current_async_library = current_async_library  # type: ignore[attr-defined]
    module.AsyncLibraryNotFoundError = AsyncLibraryNotFoundError  # type: ignore[attr-defined]
    module.thread_local = local  # type: ignore[attr-defined]
    module.current_async_library_cvar = cvar  # type: ignore[attr-defined]
    return module


def set_sniffio(state: str) -> None:
    if state == "absent":
        sys.modules.pop("sniffio", None)
        sys.meta_path.insert(0, _Absent("sniffio"))
    elif state == "present":
        try:
            import sniffio  # noqa: F401
        except ImportError:
            sys.modules["sniffio"] = _stand_in_sniffio()


def profile_on_signals(out: str) -> cProfile.Profile:
    """cProfile that starts on SIGUSR1 and stops on SIGUSR2 (the benchmark sends them around a burst)."""
    profiler = cProfile.Profile()
    signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())
    signal.signal(signal.SIGUSR2, lambda *_: profiler.disable())
    return profiler


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sniffio", choices=("as-installed", "absent", "present"), default="as-installed")
    parser.add_argument("--profile", help="write cProfile stats here (profiling runs between SIGUSR1 and SIGUSR2)")
    parser.add_argument("module", help="the module to run, as with python -m")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    args = parser.parse_args(argv)
    set_sniffio(args.sniffio)
    profiler = profile_on_signals(args.profile) if args.profile else None
    sys.argv = [args.module, *args.args]
    code: int | str | None = 0
    try:
        runpy.run_module(args.module, run_name="__main__", alter_sys=True)
    except SystemExit as stop:
        code = stop.code
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
    return code if isinstance(code, int) else (0 if code is None else 1)


if __name__ == "__main__":
    raise SystemExit(main())
