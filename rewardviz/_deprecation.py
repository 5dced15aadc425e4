"""Old spellings that keep working for one release, warning with the new one.

Four routes, after optax's habit of keeping a renamed name importable while it warns:

* a module replaces a renamed *name* with :func:`module_getattr`, assigned to its
  ``__getattr__`` (PEP 562), so ``rv.learning.old_name`` still resolves;
* a function replaces a renamed *keyword* with :func:`renamed_keywords`, so
  ``f(old=1)`` still calls ``f(new=1)``;
* a function whose MDP moved to the front takes :func:`mdp_first`, so
  ``f(objective, mdp)`` still calls ``f(mdp, objective)``;
* a function whose options became keyword-only takes :func:`positional_options`, so
  ``f(data, "option")`` still calls ``f(data, name="option")``.

Nothing here changes a result: a shimmed call computes exactly what the new call does.

Each warns with a :class:`DeprecationWarning` that names the new spelling; Python shows
it once per calling line (the ``default`` filter), and in notebooks because the warning
is attributed to the caller's frame.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
import warnings
from collections.abc import Callable, Mapping

#: The release in which the old spellings go away.
REMOVAL = "0.3.0"


def warn(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Warn that ``old`` is spelled ``new`` now (``stacklevel`` counts from the caller of this)."""
    warnings.warn(
        f"{old} is deprecated and will be removed in rewardviz {REMOVAL}; use {new} instead.",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


def module_getattr(module: str, renamed: Mapping[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` resolving each old name in ``renamed`` to its new target.

    ``renamed`` maps an old attribute name to the new one's full dotted path
    (``"rewardviz.solve.policy_iteration"``); the target is imported on first use, so a
    shim never changes import order or layering.
    """

    def __getattr__(name: str):
        if name in renamed:
            target = renamed[name]
            warn(f"{module}.{name}", target)
            owner, _, attribute = target.rpartition(".")
            try:
                return getattr(importlib.import_module(owner), attribute)
            except ModuleNotFoundError:  # the target is itself a module
                return importlib.import_module(target)
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__


def renamed_keywords(**renamed: str):
    """Decorator: accept each old keyword (``old="new"``) for one release, warning with the new.

    Passing both spellings is a ``TypeError``, as passing one argument twice is.
    """

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            for old, new in renamed.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(
                            f"{function.__qualname__}() got both {old}= and its new spelling "
                            f"{new}=; pass only {new}=."
                        )
                    warn(f"{function.__qualname__}({old}=...)", f"{new}=", stacklevel=_stacklevel())
                    kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)

        return wrapper

    return decorate


#: Frames in this file are shims; a warning points past them at the user's line.
_SHIM_FILES = frozenset({__file__})


def _stacklevel() -> int:
    """``stacklevel`` for :func:`warn` pointing past every shim frame.

    Called from a shim's wrapper: ``warn``'s level 3 is the wrapper's caller, which may
    itself be another shim (``renamed_keywords`` stacked on top); skip those.
    """
    frame, level = sys._getframe(2), 3
    while frame is not None and frame.f_code.co_filename in _SHIM_FILES:
        frame, level = frame.f_back, level + 1
    return level


def mdp_first(function):
    """Accept ``function(x, mdp, ...)``, the order before ``mdp`` came first, for one release.

    ``function`` must take ``(mdp, x, ...)``. A call whose first argument is not a
    :class:`~rewardviz.TabularMDP` but whose second is, or whose only positional
    argument is not an MDP while ``mdp=`` is given by keyword, is the old order.
    """
    from rewardviz.mdp import TabularMDP  # here, not at the top: mdp imports _checks only

    first, second = list(inspect.signature(function).parameters)[:2]
    name = function.__name__

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        old = (
            len(args) >= 2
            and not isinstance(args[0], TabularMDP)
            and isinstance(args[1], TabularMDP)
        )
        if old:
            args = (args[1], args[0], *args[2:])
        elif len(args) == 1 and first in kwargs and not isinstance(args[0], TabularMDP):
            old, args = True, (kwargs.pop(first), args[0])
        if old:
            warn(
                f"{name}({second}, {first}, ...)",
                f"{name}({first}, {second}, ...) with the MDP first",
                stacklevel=_stacklevel(),
            )
        return function(*args, **kwargs)

    return wrapper


def positional_options(*names: str):
    """Decorator: accept the keyword-only options ``names`` positionally, in that order.

    The decorated function's positional parameters come first; extra positional
    arguments fill ``names`` in order, with a warning naming the keywords to use. On a
    class's ``__init__`` the wrapper is named after the class, so that messages (this
    one's and those of :func:`renamed_keywords` stacked on top)
    name what the user called.
    """

    def decorate(function):
        parameters = inspect.signature(function).parameters.values()
        n_positional = sum(
            p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in parameters
        )
        name = function.__name__
        if name == "__init__":
            name = function.__qualname__.removesuffix(".__init__")

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            extra = args[n_positional:]
            if extra:
                if len(extra) > len(names):
                    raise TypeError(
                        f"{name}() takes {n_positional} positional arguments "
                        f"(then keyword options {', '.join(names)}) but {len(args)} were given."
                    )
                given = names[: len(extra)]
                for option, value in zip(given, extra, strict=True):
                    if option in kwargs:
                        raise TypeError(f"{name}() got multiple values for argument {option!r}.")
                    kwargs[option] = value
                warn(
                    f"passing {', '.join(given)} to {name}() positionally",
                    ", ".join(f"{option}=..." for option in given) + " by keyword",
                    stacklevel=_stacklevel(),
                )
                args = args[:n_positional]
            return function(*args, **kwargs)

        wrapper.__name__ = name
        return wrapper

    return decorate
