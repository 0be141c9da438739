"""The tests' side of a code grade, run in a sandbox of its own (standard library only).

``python _box_tests.py SETTINGS`` runs the sample's tests against stand-ins for the names the
program defined: calling one sends the arguments to the program's process and brings back
plain data (see ``_box_wire``), so the values the tests compare are builtin values and no
code of the program ever runs here. The verdict, with the grader's one-time token, goes to
a file only this process holds; the program's process has no way to reach it.
"""

from __future__ import annotations

import builtins
import json
import os
import sys
import traceback
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))

if __package__:  # imported from onebench (its tests)
    from ._box_wire import (
        WireError,
        apply_limits,
        be_init,
        decode,
        encode_plain,
        installed_exception,
        read_message,
        write_message,
    )
else:  # run as a script in the box, beside _box_wire.py
    sys.path.insert(0, HERE)
    from _box_wire import (  # type: ignore[import-not-found, no-redef]
        WireError,
        apply_limits,
        be_init,
        decode,
        encode_plain,
        installed_exception,
        read_message,
        write_message,
    )


class ProgramDied(BaseException):  # not an Exception: `except Exception` must not hide it
    """The program's process is gone or broke the protocol: every later call fails too."""


class _Link:
    def __init__(self, requests: int, replies: int) -> None:
        self.requests, self.replies = requests, replies
        self.dead: str | None = None

    def receive(self, ended: str = "the program exited during the tests") -> Any:
        try:
            message = read_message(self.replies)
        except (WireError, OSError) as error:
            self._die(f"the program broke the protocol ({error})")
        if message is None:
            self._die(ended)
        if type(message) is not dict:
            self._die("the program broke the protocol (not an object)")
        return message

    def _die(self, why: str) -> Any:
        self.dead = self.dead or why
        raise ProgramDied(self.dead)

    def remote(self, handle: int, type_name: str) -> RemoteObject:
        return RemoteObject(self, handle, type_name)

    def request(self, operation: str, handle: int, args: Any = (), kwargs: Any = None) -> Any:
        if self.dead:
            raise ProgramDied(self.dead)
        message = {
            "op": operation,
            "h": handle,
            "a": [_encode(item) for item in args],
            "k": {str(key): _encode(item) for key, item in (kwargs or {}).items()},
        }
        try:
            write_message(self.requests, message)
        except OSError as error:
            self._die(f"the program exited during the tests ({error})")
        reply = self.receive()
        if "raised" in reply:
            raised = reply["raised"] if type(reply["raised"]) is dict else {}
            raise installed_exception(raised.get("type"), raised.get("message", ""))
        try:
            value = decode(reply.get("ok"), self.remote)
            changed = reply.get("args") or []
            _write_back(args, [decode(item, self.remote) for item in changed][: len(args)])
        except WireError as error:
            self._die(f"the program broke the protocol ({error})")
        return value


def _encode(value: Any) -> Any:
    def handle(item: Any) -> int:
        if isinstance(item, RemoteObject):
            return object.__getattribute__(item, "_handle")
        raise TypeError(
            f"the tests passed a {type(item).__name__} to the program; only plain data and "
            "the program's own objects cross the sandbox"
        )

    return encode_plain(value, handle)


def _write_back(args: Any, changed: list[Any]) -> None:
    """Mirrors in-place changes the call made to list, dict and set arguments."""
    for original, new in zip(args, changed, strict=False):
        if type(original) is not type(new) or original == new:
            continue
        if type(original) is list:
            original[:] = new
        elif type(original) in (dict, set):
            original.clear()
            original.update(new)


def _typed(value: Any, kind: type, what: str) -> Any:
    if type(value) is not kind:
        raise TypeError(f"{what} of the program's object returned a {type(value).__name__}")
    return value


class RemoteObject:
    """An object that lives in the program's process. Equality is identity: a stand-in
    never equals a test's expected value, whatever the program's class says."""

    __slots__ = ("_handle", "_link", "_type")

    def __init__(self, link: _Link, handle: int, type_name: str) -> None:
        object.__setattr__(self, "_link", link)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_type", type_name)

    def _ask(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        link = object.__getattribute__(self, "_link")
        return link.request(operation, object.__getattribute__(self, "_handle"), args, kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._ask("call", *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._ask("getattr", name)

    def __getitem__(self, key: Any) -> Any:
        return self._ask("getitem", key)

    def __iter__(self) -> Any:
        return self._ask("iter")

    def __next__(self) -> Any:
        return self._ask("next")

    def __len__(self) -> int:
        return int(_typed(self._ask("len"), int, "len()"))

    def __bool__(self) -> bool:
        return bool(_typed(self._ask("bool"), bool, "bool()"))

    def __contains__(self, item: Any) -> bool:
        return bool(_typed(self._ask("contains", item), bool, "'in'"))

    def __str__(self) -> str:
        return str(_typed(self._ask("str"), str, "str()"))

    def __repr__(self) -> str:
        return str(_typed(self._ask("repr"), str, "repr()"))

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other

    __hash__ = object.__hash__


def _last_line(error: BaseException) -> str:
    lines = traceback.format_exception_only(type(error), error)
    return (lines[-1].strip() if lines else type(error).__name__)[:300]


def _run(settings: dict[str, Any], link: _Link) -> None:
    hello = link.receive(ended="the program exited before the tests ran")
    if "failed" in hello:
        failed = hello["failed"] if type(hello["failed"]) is dict else {}
        kind, message = str(failed.get("type"))[:100], str(failed.get("message", ""))[:200]
        if kind == "SystemExit":
            raise ProgramDied(f"the program exited before the tests ran (exit {message or 0})")
        raise ProgramDied(
            f"the program failed before the tests: {kind}" + (f": {message}" if message else "")
        )
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    ready = hello.get("ready")
    for name, value in ready.items() if type(ready) is dict else ():
        try:
            namespace[str(name)] = decode(value, link.remote)
        except WireError:
            continue  # e.g. a module the tests cannot import: the name is left out
    with open(os.path.join(HERE, settings["tests"]), encoding="utf-8") as file:
        exec(compile(file.read(), "tests.py", "exec"), namespace)  # the sample's tests
    entry_point = settings.get("check")
    if entry_point:
        exec(compile(f"check({entry_point})", "tests.py", "exec"), namespace)


def main() -> None:
    settings = json.loads(sys.argv[-1])
    apply_limits(settings["limits"])
    if settings.get("init"):
        be_init()
    os.chdir(settings["cwd"])
    sys.argv = ["tests.py"]  # unittest.main() and argparse read it
    link = _Link(settings["requests_fd"], settings["replies_fd"])
    verdict: dict[str, Any] = {"token": settings["token"], "passed": False}
    try:
        _run(settings, link)
        verdict["passed"] = True
    except SystemExit as stop:  # the tests' own exit, e.g. unittest.main()
        verdict["passed"] = stop.code in (None, 0)
        verdict["explanation"] = "" if verdict["passed"] else f"the tests exited ({stop.code})"
    except ProgramDied as died:
        verdict["explanation"] = str(died)[:300]
    except BaseException as error:  # whatever the tests raise is a failure
        traceback.print_exc()
        verdict["explanation"] = _last_line(error)
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(settings["verdict_fd"], json.dumps(verdict).encode())
    os._exit(0)


if __name__ == "__main__":
    main()
