"""Input checks shared by the public functions: clear errors at the boundary.

Every public function validates its arguments here, in Python and on concrete
arrays, before it calls a jitted kernel. The messages name the argument, say what
is wrong (shape, value, where a NaN sits) and how to fix it. Nothing in this
module is traced by JAX.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np


def float_array(name: str, value, dtype=None) -> jnp.ndarray:
    """Return ``value`` as a floating JAX array, or raise a ``TypeError`` naming ``name``.

    Integer and boolean input becomes JAX's default float type; floating input
    keeps its precision (float32 stays float32, float64 stays float64 when x64 is on).
    """
    source_dtype = _numeric_dtype(name, value)
    if dtype is None:
        dtype = source_dtype if np.issubdtype(source_dtype, np.floating) else float
    # canonicalize_dtype maps float64 to float32 quietly when x64 is off (float32 is
    # the package default); asking jnp for float64 there warns on every call.
    return jnp.asarray(value, dtype=jax.dtypes.canonicalize_dtype(dtype))


def host_float64(name: str, value) -> np.ndarray:
    """``value`` as a float64 NumPy array for host-side summaries, or a ``TypeError`` naming ``name``.

    The checks of :func:`float_array` without the trip through JAX, which would round
    float64 input to float32 when x64 is off.
    """
    _numeric_dtype(name, value)
    return np.asarray(value, dtype=np.float64)


def _numeric_dtype(name: str, value) -> np.dtype:
    """The dtype of ``value`` if it holds real numbers (or booleans), else a ``TypeError``."""
    if isinstance(value, jax.Array):
        source_dtype = value.dtype  # no copy to the host just to look at the type
    else:
        try:
            source_dtype = np.asarray(value).dtype
        except Exception as error:  # any conversion failure is the caller's input
            raise TypeError(
                f"{name} must be array-like of numbers, got {type(value).__name__}"
            ) from error
    if source_dtype.kind == "O" or not (
        np.issubdtype(source_dtype, np.number) or np.issubdtype(source_dtype, np.bool_)
    ):
        raise TypeError(f"{name} must hold numbers, got an array of dtype {source_dtype}")
    if np.issubdtype(source_dtype, np.complexfloating):
        raise TypeError(f"{name} must be real-valued, got dtype {source_dtype}")
    return source_dtype


def number(name: str, value, meaning: str = "") -> float:
    """``value`` as a ``float`` if it is one real number, else a ``TypeError`` naming ``name``.

    Python, numpy and 0-d JAX scalars are numbers; strings, ``None``, booleans, sequences
    and arrays of any other size are refused rather than converted (``float("1e3")`` and
    ``float(np.array([2.0]))`` would succeed, ``float([])`` fails with a message that does
    not say which argument). NaN and infinity pass: callers check the range they need.
    ``meaning`` says what the number is, for the message (``"the discount"``).
    """
    if not isinstance(value, bool | np.bool_ | str | bytes) and np.ndim(value) == 0:
        try:
            return float(value)
        except (TypeError, ValueError):
            pass  # an object() or a complex number: refused below
    what = f" ({meaning})" if meaning else ""
    raise TypeError(f"{name}{what} must be a real number, got {describe(value)}.")


def finite_number(name: str, value, *, why: str = "") -> float:
    """``value`` as a ``float`` if it is one finite real number, else an error naming ``name``.

    Not a number (see :func:`number`: strings are never converted) is a ``TypeError``;
    NaN or infinity a ``ValueError``, whose message ends with ``why`` when given (what a
    non-finite value would do).
    """
    try:
        converted = number(name, value)
    except TypeError as error:
        raise TypeError(f"{name} must be a finite number, got {describe(value)}.") from error
    if not np.isfinite(converted):
        reason = f"; {why}" if why else ""
        raise ValueError(f"{name} must be a finite number, got {value!r}{reason}.")
    return converted


def instance(name: str, value, kind: type, fix: str):
    """``value`` if it is a ``kind``, else a ``TypeError`` naming ``name`` and saying ``fix``.

    Used for the objects public functions work on (an MDP, a reward log, groups), so a
    wrong argument fails here rather than as an ``AttributeError`` deep inside.
    """
    if not isinstance(value, kind):
        raise TypeError(f"{name} must be a {kind.__name__}, got {describe(value)}; {fix}")
    return value


def tabular_mdp(name: str, value):
    """``value`` if it is a :class:`~rewardviz.mdp.TabularMDP`, else a ``TypeError`` naming ``name``."""
    from rewardviz.mdp import TabularMDP  # here, not at the top: mdp.py imports this module

    return instance(
        name,
        value,
        TabularMDP,
        "build one with rv.envs.gridworld(...), rv.envs.chain(n) or "
        "rv.TabularMDP(transitions, gamma=...); the MDP is the first argument.",
    )


def path(name: str, value) -> str | os.PathLike:
    """``value`` if it is a file system path (a ``str`` or ``os.PathLike``), else a ``TypeError``."""
    if not isinstance(value, str | os.PathLike):
        raise TypeError(
            f"{name} must be a file path (a str or pathlib.Path), got {describe(value)}."
        )
    return value


def describe(value) -> str:
    """A short description of ``value`` for error messages: arrays by shape and dtype."""
    if isinstance(value, np.ndarray | jax.Array):
        return f"an array of shape {tuple(value.shape)} and dtype {value.dtype}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def finite(name: str, array) -> None:
    """Raise ``ValueError`` if ``array`` has a NaN or infinity, saying where the first one is.

    A traced array (under the caller's ``jit``/``vmap``) has no values to check: skipped.
    """
    if isinstance(array, jax.core.Tracer) or bool(_all_finite(array)):
        return
    host = np.asarray(array)
    bad = ~np.isfinite(host)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        kind = "NaN" if np.isnan(host[where]) else "an infinite value"
        raise ValueError(
            f"{name} contains {kind} at index {where} ({int(bad.sum())} non-finite "
            f"entries in all); replace them with finite numbers before calling."
        )


@jax.jit
def _all_finite(array) -> jax.Array:
    # One reduction where the data lives; the host copy happens only to locate a NaN.
    # A sum is non-finite whenever a term is (NaN propagates, inf − inf is NaN), and a
    # plain sum runs at memory speed where XLA:CPU's isfinite-and-all is ~3x slower; a
    # sum of finite values that overflows only sends the check to the exact scan below.
    return jnp.isfinite(jnp.sum(array))


def overflow(name: str, dtype, what: str) -> ValueError:
    """The error for finite input whose ``what`` (``"returns"``) overflows ``dtype``.

    Float32 tops out at ~3.4e38: finite rewards near it (or weighted, summed, squared)
    become infinite, and every answer built on them NaN.
    """
    dtype = np.dtype(dtype)
    return ValueError(
        f"{name} holds finite values whose {what} overflow {dtype.name} (largest "
        f"{float(np.finfo(dtype).max):.3g}) and would become infinite. Rescale {name} "
        "(divide it by a constant) or compute in float64: call "
        'jax.config.update("jax_enable_x64", True) first and pass float64 arrays.'
    )


def fits(name: str, values: np.ndarray, dtype, what: str = "values") -> None:
    """Raise :func:`overflow` if finite host ``values`` exceed the range of ``dtype``.

    For float64 host arrays about to become ``dtype`` (float32 unless x64 is on), where
    the cast would turn them into infinities silently.
    """
    if values.size and float(np.abs(values).max()) > float(np.finfo(dtype).max):
        raise overflow(name, dtype, what)


def no_overflow(name: str, result, what: str) -> None:
    """Raise :func:`overflow` if ``result``, computed from finite ``name``, is not finite.

    A traced result (under the caller's ``jit``) has no values to check: skipped.
    """
    if isinstance(result, jax.core.Tracer) or bool(_all_finite(result)):
        return
    if not bool(jnp.isfinite(result).all()):  # the quick sum may itself have overflowed
        raise overflow(name, result.dtype, what)


def trailing_shape(name: str, array, expected: Sequence[int], meaning: str) -> None:
    """Raise ``ValueError`` unless ``array``'s last dimensions equal ``expected``.

    ``meaning`` spells the expected layout, for example ``"[..., S, A, S']"``.
    """
    shape = tuple(np.shape(array))
    expected = tuple(int(n) for n in expected)
    if len(shape) < len(expected) or shape[len(shape) - len(expected) :] != expected:
        raise ValueError(
            f"{name} must have shape {meaning} = (..., {', '.join(map(str, expected))}), "
            f"got {shape}; leading dimensions are batch dimensions, the trailing ones must "
            f"match the MDP."
        )


def in_range(name: str, value: float, low: float, high: float, *, hint: str = "") -> float:
    """Return ``value`` as a float if ``low <= value <= high``, else raise ``ValueError``.

    Anything that is not one real number (a string, ``None``, an array) is a ``TypeError``
    naming ``name`` (see :func:`number`).
    """
    converted = number(name, value)
    if not np.isfinite(converted) or not low <= converted <= high:
        raise ValueError(f"{name} must lie in [{low}, {high}], got {value!r}. {hint}".rstrip())
    return converted


def one_of(name: str, value, allowed: Sequence[str]) -> str:
    """``value`` if it is one of the ``allowed`` option names, else a ``ValueError`` listing them."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}.")
    return value


def integer(name: str, value, meaning: str = "", *, bound: str = "") -> int:
    """``value`` as an ``int`` if it is a whole number, else a ``TypeError`` naming ``name``.

    Python, numpy and 0-d JAX integers and integral floats (``3.0``) are whole numbers;
    booleans, non-integral numbers (``2.7``, never truncated), strings and arrays are
    not. ``meaning`` says what the number counts and ``bound`` the range (``" >= 1"``),
    for the message.
    """
    if not isinstance(value, bool | np.bool_):
        try:
            return operator.index(value)
        except TypeError:
            if isinstance(value, float | np.floating) and float(value).is_integer():
                return int(value)
    what = f" ({meaning})" if meaning else ""
    raise TypeError(f"{name}{what} must be an integer{bound}, got {describe(value)}.")


def positive_int(name: str, value, meaning: str = "", *, minimum: int = 1) -> int:
    """``value`` as an ``int`` if it is an integer ``>= minimum``, else a clear error.

    Booleans and non-integral numbers (``2.7``) are refused rather than truncated.
    ``meaning`` says what the count counts, for the message (``"runs per reward"``).
    """
    value = integer(name, value, meaning, bound=f" >= {minimum}")
    if value < minimum:
        what = f" ({meaning})" if meaning else ""
        raise ValueError(f"{name}{what} must be an integer >= {minimum}, got {value}.")
    return value


def key(name: str, seed) -> jax.Array:
    """A JAX PRNG key from ``seed``: a non-negative integer or a ``jax.random`` key.

    Accepts new-style typed keys (``jax.random.key(0)``) and legacy ``uint32[2]`` keys
    (``jax.random.PRNGKey(0)``), returned as given.
    """
    if isinstance(seed, bool):
        raise TypeError(f"{name} must be an integer or a jax.random key, got {seed!r}.")
    if isinstance(seed, int | np.integer):
        if seed < 0:
            raise ValueError(
                f"{name} must be a non-negative integer or a jax.random key, got {seed}."
            )
        return jax.random.key(int(seed))
    if isinstance(seed, jax.Array) and (
        jax.dtypes.issubdtype(seed.dtype, jax.dtypes.prng_key)
        or (seed.dtype == jnp.uint32 and seed.shape == (2,))
    ):
        return seed
    raise TypeError(
        f"{name} must be an integer or a jax.random key (jax.random.key(0)), got {seed!r}."
    )


def seed_int(name: str, seed) -> int:
    """A non-negative integer seed for numpy from ``seed``: an integer or a JAX key.

    A key is turned into an integer by one ``jax.random.randint`` draw, so a key gives
    the same numpy seed every time.
    """
    if isinstance(seed, int | np.integer) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(
                f"{name} must be a non-negative integer or a jax.random key, got {seed}."
            )
        return int(seed)
    return int(jax.random.randint(key(name, seed), (), 0, np.iinfo(np.int32).max))


def tolerance(name: str, value, *, positive: bool = False) -> float:
    """``value`` as a ``float`` if it is a finite number ``>= 0`` (``> 0`` with ``positive``).

    A negative or NaN tolerance would silently change answers (no action ties, not even
    the best one; a comparison with NaN is always false), an infinite one makes
    everything equal.
    """
    bound = "> 0" if positive else ">= 0"
    try:
        converted = number(name, value)
    except TypeError as error:
        raise TypeError(f"{name} must be a number {bound}, got {describe(value)}.") from error
    if not np.isfinite(converted) or converted < 0 or (positive and converted == 0):
        raise ValueError(
            f"{name} must be a finite number {bound}, got {value!r}; it is a tolerance "
            "(relative to the values' scale), so leave it at its default unless you need "
            "another."
        )
    return converted


def positive_number(name: str, value, meaning: str = "") -> float:
    """``value`` as a ``float`` if it is a finite number ``> 0``, else a ``ValueError``.

    ``meaning`` says what the number is, for the message (``"Adam's step size"``).
    """
    what = f" ({meaning})" if meaning else ""
    try:
        converted = number(name, value)
    except TypeError as error:
        raise TypeError(f"{name}{what} must be a number > 0, got {describe(value)}.") from error
    if not np.isfinite(converted) or converted <= 0:
        raise ValueError(f"{name}{what} must be a finite number > 0, got {value!r}.")
    return converted
