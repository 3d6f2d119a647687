"""Runs every test_* function of the given firmware test modules and prints one line each."""

import sys


def run(module_names):
    passed = failed = 0
    for name in module_names:
        module = __import__(name)
        for attr in sorted(dir(module)):
            if not attr.startswith("test_"):
                continue
            try:
                getattr(module, attr)()
            except Exception as exc:
                failed += 1
                print(f"FAIL {name}.{attr}: {type(exc).__name__} {exc}")
                if hasattr(sys, "print_exception"):
                    sys.print_exception(exc)
            else:
                passed += 1
                print(f"ok   {name}.{attr}")
    print(f"{passed} passed, {failed} failed on {sys.implementation.name}")
    return failed
