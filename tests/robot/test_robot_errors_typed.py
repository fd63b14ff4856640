"""Every error raised on purpose derives from TwinarmError: no package raises a bare builtin exception class.

Scanned on the source (AST) of every package. Allowed: ``raise`` without arguments (a re-raise), re-raising a
caught exception object (``raise exc``), ``NotImplementedError`` in an abstract method (``@abstractmethod``, or a
base-class stub whose whole body is that raise), and the exit signals that are not errors (``SystemExit``,
``KeyboardInterrupt``: BaseException but not Exception, raised by signal handlers).
"""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("robot", "dataset", "hardware", "sim", "policies", "compose", "cli")
BUILTIN_ERRORS = frozenset(
    name for name, obj in vars(builtins).items() if isinstance(obj, type) and issubclass(obj, Exception)
)


def _is_abstract(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Decorated ``@abstractmethod``, or a stub: (a docstring and) nothing but one ``raise``."""
    for deco in func.decorator_list:
        name = deco.attr if isinstance(deco, ast.Attribute) else getattr(deco, "id", "")
        if name == "abstractmethod":
            return True
    body = func.body[1:] if ast.get_docstring(func) is not None else func.body
    return len(body) == 1 and isinstance(body[0], ast.Raise)


def bare_raises(source: str, filename: str = "<probe>") -> list[tuple[int, str]]:
    """(line, class name) of every ``raise`` of a builtin exception class in ``source``, allowlist applied."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, abstract: bool) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            abstract = _is_abstract(node)
        if isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            name = None
            if isinstance(exc, ast.Name):
                name = exc.id
            elif isinstance(exc, ast.Attribute) and getattr(exc.value, "id", "") == "builtins":
                name = exc.attr
            if name in BUILTIN_ERRORS and not (name == "NotImplementedError" and abstract):
                found.append((node.lineno, name))
        for child in ast.iter_child_nodes(node):
            visit(child, abstract)

    visit(ast.parse(source, filename=filename), False)
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_bare_builtin_raises(package: str) -> None:
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, name in bare_raises(path.read_text(), str(path)):
            offenders.append(f"{path.relative_to(ROOT)}:{line} raises {name}")
    assert not offenders, "raise a TwinarmError subclass (robot/errors.py, <package>/errors.py):\n" + "\n".join(
        offenders
    )


def test_the_scanner_sees_bare_raises() -> None:
    probe = """\
import abc, builtins
def f(x):
    if x: raise ValueError('bad')
    if x > 1: raise KeyError
    if x > 2: raise builtins.RuntimeError('r')
    try: pass
    except OSError as exc:
        raise exc
    except TypeError:
        raise
    raise MyError('ok')
class A(abc.ABC):
    @abc.abstractmethod
    def g(self): raise NotImplementedError
    def h(self):
        '''A base-class stub.'''
        raise NotImplementedError
    def i(self, x):
        if x: return x
        raise NotImplementedError('concrete')
    def j(self): raise StopIteration
def handler(signum, frame): raise SystemExit(128 + signum)
"""
    assert bare_raises(probe) == [
        (3, "ValueError"),
        (4, "KeyError"),
        (5, "RuntimeError"),
        (20, "NotImplementedError"),
        (21, "StopIteration"),
    ]
