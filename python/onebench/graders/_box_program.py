"""The program's side of a code grade, run inside the sandbox (standard library only).

``python _box_program.py SETTINGS`` (JSON) applies the limits, runs the program file as
``__main__``, then tells the tests which names it defined and answers their requests (call
a function, read an attribute, iterate) until they hang up. It never sees the tests and
nothing it says is a verdict: whatever the program does here (exit early, replace
``sys.excepthook``, print, return strange objects) at worst makes the tests fail.

With ``"mode": "run"`` in the settings it only applies the limits and runs the program (what
:func:`onebench.graders.run_python` does).
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import traceback
import types
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))

if __package__:  # imported from onebench (its tests)
    from ._box_wire import (
        WireError,
        apply_limits,
        be_init,
        block_sockets,
        decode,
        encode_plain,
        read_message,
        write_message,
    )
else:  # run as a script in the box, beside _box_wire.py
    sys.path.insert(0, HERE)
    from _box_wire import (  # type: ignore[import-not-found, no-redef]
        WireError,
        apply_limits,
        be_init,
        block_sockets,
        decode,
        encode_plain,
        read_message,
        write_message,
    )


class _Handles:
    """Objects the tests hold by number (functions, iterators, instances)."""

    def __init__(self) -> None:
        self.objects: list[Any] = []

    def __call__(self, value: Any) -> int:
        self.objects.append(value)
        return len(self.objects) - 1

    def get(self, number: Any) -> Any:
        if type(number) is not int or not 0 <= number < len(self.objects):
            raise WireError("unknown handle")
        return self.objects[number]


def _arguments(request: dict[str, Any], handles: _Handles) -> tuple[list[Any], dict[str, Any]]:
    def resolve(value: Any) -> Any:
        return decode(value, lambda number, _name: handles.get(number))

    args = [resolve(item) for item in request.get("a") or []]
    kwargs = {str(key): resolve(item) for key, item in (request.get("k") or {}).items()}
    return args, kwargs


def _answer(request: dict[str, Any], handles: _Handles) -> Any:
    target = handles.get(request.get("h"))
    operation = request.get("op")
    args, kwargs = _arguments(request, handles)
    if operation == "call":
        result = target(*args, **kwargs)
        # Lists, dicts and sets the call changed in place go back to the tests.
        changed = [encode_plain(item, handles) for item in args]
        return {"ok": encode_plain(result, handles), "args": changed}
    operations = {
        "getattr": lambda: getattr(target, str(args[0])),
        "getitem": lambda: target[args[0]],
        "iter": lambda: iter(target),
        "next": lambda: next(target),
        "len": lambda: len(target),
        "bool": lambda: bool(target),
        "contains": lambda: args[0] in target,
        "str": lambda: str(target),
        "repr": lambda: repr(target),
    }
    if operation not in operations:
        raise WireError(f"unknown operation {operation!r}")
    return {"ok": encode_plain(operations[operation](), handles)}


def _defined_names(namespace: dict[str, Any], handles: _Handles) -> dict[str, Any]:
    names = {}
    for name, value in list(namespace.items()):
        if name.startswith("__"):
            continue
        try:
            names[name] = encode_plain(value, handles)
        except Exception:  # a name that cannot be sent is left out
            continue
    return names


def _failure(error: BaseException) -> dict[str, str]:
    return {"type": type(error).__name__, "message": str(error)[:2000]}


def serve(settings: dict[str, Any], program: str) -> None:
    requests, replies = settings["requests_fd"], settings["replies_fd"]
    module = types.ModuleType("__main__")
    module.__file__ = program
    sys.modules["__main__"] = module
    try:
        with open(program, encoding="utf-8") as file:
            code = compile(file.read(), program, "exec")
        exec(code, module.__dict__)  # the sandboxed program, as __main__
    except BaseException as error:  # SystemExit too: an exit before the tests
        traceback.print_exc()
        module.__dict__.clear()  # frees a memory bomb's blocks before replying
        write_message(replies, {"failed": _failure(error)})
        return
    handles = _Handles()
    write_message(replies, {"ready": _defined_names(module.__dict__, handles)})
    while True:
        request = read_message(requests)
        if request is None:
            return
        try:
            reply = _answer(request, handles)
        except BaseException as error:  # SystemExit from a call is a failure
            reply = {"raised": _failure(error)}
        try:
            write_message(replies, reply)
        except (TypeError, ValueError, WireError) as error:
            write_message(replies, {"raised": _failure(error)})


def main() -> None:
    settings = json.loads(sys.argv[-1])
    apply_limits(settings["limits"])
    if settings.get("init"):
        be_init()
    if settings.get("block_sockets"):
        block_sockets()
    os.chdir(settings["cwd"])
    program = os.path.join(HERE, settings["program"])
    sys.argv = [program]
    if settings.get("mode") == "run":
        runpy.run_path(program, run_name="__main__")
    else:
        serve(settings, program)


if __name__ == "__main__":
    main()
