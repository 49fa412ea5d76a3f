"""``python -m arrow_cabi check module:attr [--json]``: checks a Python producer of the Arrow
PyCapsule protocol (see :mod:`arrow_cabi.check`).

``module:attr`` names an object with ``__arrow_c_stream__``, ``__arrow_c_array__`` or the device
methods (``attr`` may be dotted), or a callable taking no arguments that returns one (so that each
run gets a fresh export); ``--device`` checks its device methods, ``--max-batches N`` stops a
stream after N batches. The module is imported and the check run in a forked child, so that a producer that
crashes cannot take the report with it. Exit status: 0 clean, 1 findings, 2 when the producer could
not be imported or called, or crashed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
from dataclasses import asdict


def _resolve(spec: str):
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise ValueError(f"expected module:attr, got {spec!r}")
    obj = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    methods = ("__arrow_c_stream__", "__arrow_c_array__", "__arrow_c_device_stream__", "__arrow_c_device_array__")
    if callable(obj) and not any(hasattr(obj, m) for m in methods):
        obj = obj()
    return obj


def _child(spec: str, device: bool | None, max_batches: int | None) -> dict:
    try:
        from .check import check

        report = check(_resolve(spec), device=device, max_batches=max_batches)
        return {
            "kind": report.kind,
            "findings": [asdict(f) for f in report.findings],
            "notes": list(report.notes),
            "batches": report.batches,
            "rows": report.rows,
        }
    except Exception as e:  # reported by the parent as "could not be checked"
        return {"error": f"{type(e).__name__}: {e}"}


def _run_isolated(spec: str, device: bool | None = None, max_batches: int | None = None) -> dict:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        with os.fdopen(write, "w") as out:
            out.write(json.dumps(_child(spec, device, max_batches)))
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        text = pipe.read()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return {"crash": {"signal": sig, "name": signal.Signals(sig).name}}
    try:
        return json.loads(text)
    except ValueError:
        return {"error": f"the checking process ended (status {os.WEXITSTATUS(status)}) without a report"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m arrow_cabi")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="check a PyCapsule producer against the Arrow C interfaces' rules")
    check.add_argument("target", help="module:attr, an object with __arrow_c_stream__/__arrow_c_array__ or a callable returning one")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.add_argument("--device", action="store_true", help="check the device methods (__arrow_c_device_stream__/__arrow_c_device_array__)")
    check.add_argument("--max-batches", type=int, metavar="N", help="stop a stream after N batches (a note, not a finding)")
    args = parser.parse_args(argv)

    result = _run_isolated(args.target, True if args.device else None, args.max_batches)
    code = 2 if ("error" in result or "crash" in result) else (1 if result["findings"] else 0)
    result = {"producer": args.target, "exit_code": code, **result}
    if args.json:
        print(json.dumps(result, indent=2))
    elif "error" in result:
        print(f"{args.target}: could not be checked: {result['error']}")
    elif "crash" in result:
        print(f"{args.target}: crashed ({result['crash']['name']})")
    else:
        from .check import Finding, Report

        findings = tuple(Finding(**f) for f in result["findings"])
        report = Report(result["kind"], findings, result["batches"], result["rows"], tuple(result["notes"]))
        print(report.table(args.target))
    return code


if __name__ == "__main__":
    sys.exit(main())
