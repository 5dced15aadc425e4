"""Experiments: the STARC regret-versus-distance study, batched and exact.

Skalse et al. (ICLR 2024, "STARC: A general framework for quantifying differences between
reward functions") test whether a reward distance predicts regret: across many random
environments, interpolate between two random rewards, ``R(t) = (1 − t)·R1 + t·R2``, and
compare every distance ``d(R1, R(t))`` with the normalised regret of optimising one
reward when the other is the true one. :func:`interpolation_study` runs that experiment
in a few jitted calls (one per chunk of environments), exactly:

- Every canonicalisation is linear in the reward, so each pair's two endpoints are
  canonicalised once (EPIC and DARD, ``[S, A, S']`` work per reward, ``O(|A||S|³)`` for
  DARD; VAL and the minimal canonicalisation on ``[S, A]`` expected rewards with per-MDP
  matrices computed once per environment) and every distance of ``R(t)`` is a norm of a
  combination of the two canonical endpoints, computed without storing the points.
- The minimal canonicalisation is the closed-form projection of
  :mod:`rewardviz.distances`, not a gradient-descent approximation.
- Optimal values come from policy iteration with exact linear solves (the kernel of
  :func:`rewardviz.solve.policy_iteration`) started from a few value-iteration sweeps,
  which ends in one or two iterations on these MDPs where value iteration alone would
  need hundreds of sweeps to reach the same accuracy; regrets are normalised as in
  :func:`rewardviz.distances.regret`.

Environments (the generator, documented because results depend on it): environment
``e`` draws from ``jax.random.fold_in(jax.random.key(seed), e)`` (independent streams;
environment ``e`` is the same whatever ``n_envs`` is). Its transition kernel is sparse:
each ``(s, a)`` reaches ``n_successors`` distinct states chosen uniformly at random,
with Dirichlet(``concentration``) probabilities over them (:func:`rewardviz.envs.random_mdp`'s
generator); the default 4 of 32 states leaves 87.5% of ``T`` zero. The start
distribution is uniform, no state is terminal. Each reward pair has i.i.d. standard
normal entries ``R(s, a, s')``, also on transitions ``T`` never makes, which is where
EPIC and DARD (not invariant to S'-redistribution) and STARC's canonicalisations differ.

This module draws nothing; :mod:`rewardviz.plots` shows the results.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from rewardviz import _bootstrap, _canonical, _checks, _deprecation, _kernels
from rewardviz.mdp import TabularMDP
from rewardviz.rewards import HIGHEST
from rewardviz.solve import DEFAULT_TIE_TOLERANCE

__all__ = [
    "ORDERS",
    "STUDY_CANONICALS",
    "STUDY_MEMORY",
    "InterpolationStudy",
    "distance_names",
    "interpolation_study",
]

#: Canonicalisations of the study; ``"none"`` standardises the raw reward.
STUDY_CANONICALS = ("none", "epic", "dard", "val", "minimal")
#: Norm and metric orders by their column-name spelling.
ORDERS = {"l1": 1, "l2": 2, "linf": np.inf}
#: Bytes of intermediate arrays one jitted chunk may hold; sets the default chunk size.
STUDY_MEMORY = 256 * 2**20
#: Intermediates of one environment, as counts of arrays of two shapes: ``[P, 2, S, A, S']``
#: (the endpoints, their EPIC and DARD forms, the centred Pearson endpoints, DARD's
#: per-action products) and ``[2, P, T, S, S]`` (policy iteration's systems, their
#: factorisations and the two evaluations). Estimates, generous rather than measured per buffer.
_ENDPOINT_ARRAYS, _SYSTEM_ARRAYS = 10, 8


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class InterpolationStudy:
    """Result of :func:`interpolation_study`.

    Attributes:
        frame: tidy table, one row per point: ``env``, ``pair``, ``step``, ``t``, one
            column per distance ``d(R1, R(t))`` (``"{canonical}-{norm}-{metric}"`` such as
            ``"val-l2-l2"``, and ``"epic-pearson"``), ``regret_forward`` (optimise
            ``R(t)``, measured on ``R1``) and ``regret_backward`` (optimise ``R1``,
            measured on ``R(t)``), both as :func:`rewardviz.distances.regret`.
        transitions: ``[n_envs, S, A, S']`` transition kernels.
        rewards: ``[n_envs, n_rewards, 2, S, A, S']`` the endpoints ``R1``, ``R2`` of each pair.
        gamma: the discount of every environment.
        seed: the seed everything was drawn from (an integer or a ``jax.random`` key).
        distances: the distance column names, in column order.
    """

    frame: pd.DataFrame
    transitions: np.ndarray
    rewards: np.ndarray
    gamma: float
    seed: int | jax.Array
    distances: tuple[str, ...]

    def mdp(self, env: int) -> TabularMDP:
        """Environment ``env`` as a :class:`~rewardviz.mdp.TabularMDP` (uniform start)."""
        return TabularMDP(self.transitions[int(env)], gamma=self.gamma)

    def to_frame(self) -> pd.DataFrame:
        """The tidy per-point table (:attr:`frame`)."""
        return self.frame

    @_deprecation.renamed_keywords(level="confidence")
    def summary(
        self,
        regret: str = "regret_forward",
        *,
        n_bootstrap: int = 200,
        confidence: float = 0.95,
        seed: int | jax.Array = 0,
    ) -> pd.DataFrame:
        """Spearman rank correlation of each distance with ``regret``, with a bootstrap interval.

        The correlation is taken over all points. The interval is a ``confidence``
        percentile interval of ``n_bootstrap`` cluster-bootstrap resamples of whole
        environments (points of one environment share its dynamics and reward pairs, so
        they are not independent), drawn by the package's one bootstrap
        (``rewardviz._bootstrap``, seeded by ``seed``, an integer or a ``jax.random`` key).
        Ties get mid-ranks, as in :func:`scipy.stats.spearmanr`.

        Returns:
            A DataFrame indexed by distance with columns ``spearman``, ``low``, ``high``,
            sorted by ``spearman``, highest first. A correlation is NaN (with a warning)
            where a distance or the regret is constant over the points, so undefined.
        """
        if regret not in ("regret_forward", "regret_backward"):
            raise ValueError(
                f"regret must be 'regret_forward' or 'regret_backward', got {regret!r}."
            )
        n_bootstrap = _checks.positive_int("n_bootstrap", n_bootstrap)
        confidence = _checks.in_range("confidence", confidence, 0.0, 1.0)
        if confidence in (0.0, 1.0):
            raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}.")
        envs = self.frame["env"].to_numpy()
        n_envs = int(envs.max()) + 1
        counts = _bootstrap.resample_counts(_checks.seed_int("seed", seed), n_envs, n_bootstrap)
        weights = np.vstack([np.ones((1, len(envs))), counts[:, envs]])  # row 0: the data
        target = _weighted_ranks(self.frame[regret].to_numpy(), weights)
        tail = (1 - confidence) / 2
        rows = {}
        for name in self.distances:
            correlations = _weighted_pearson(
                _weighted_ranks(self.frame[name].to_numpy(), weights), target, weights
            )
            # nanquantile: a resample of environments where a distance happens to be
            # constant has no correlation; it is left out rather than spoiling the interval.
            low, high = np.nanquantile(correlations[1:], [tail, 1 - tail])
            rows[name] = (correlations[0], low, high)
        table = pd.DataFrame.from_dict(rows, orient="index", columns=["spearman", "low", "high"])
        undefined = table.index[table["spearman"].isna()].tolist()
        if undefined:
            warnings.warn(
                f"rank correlation undefined (constant over the points) for {undefined}.",
                stacklevel=2,
            )
        return table.sort_values("spearman", ascending=False)

    def __repr__(self) -> str:
        n_envs, n_states, n_actions, _ = self.transitions.shape
        return (
            f"InterpolationStudy(envs={n_envs}, pairs={self.rewards.shape[1]}, "
            f"points={len(self.frame)}, states={n_states}, actions={n_actions}, "
            f"gamma={self.gamma}, distances={len(self.distances)})"
        )


@_deprecation.positional_options(
    "n_envs", "n_rewards", "steps", "n_states", "n_actions", "gamma", "seed",
    "canonicals", "norms", "metrics",
)  # fmt: skip
def interpolation_study(
    *,
    n_envs: int = 128,
    n_rewards: int = 8,
    steps: int = 16,
    n_states: int = 32,
    n_actions: int = 4,
    gamma: float = 0.95,
    seed: int | jax.Array = 0,
    canonicals: Sequence[str] = STUDY_CANONICALS,
    norms: Sequence[str] = tuple(ORDERS),
    metrics: Sequence[str] = tuple(ORDERS),
    n_successors: int | None = 4,
    concentration: float = 1.0,
    chunk_size: int | None = None,
    progress: bool = True,
    dtype: str | np.dtype | None = None,
) -> InterpolationStudy:
    """STARC's regret-versus-distance experiment (Skalse et al., ICLR 2024, §6).

    For each of ``n_envs`` random environments (see the module docstring for the
    generator) and each of its ``n_rewards`` reward pairs ``(R1, R2)``, at ``steps``
    points ``t`` evenly spaced in ``[0, 1]`` with ``R(t) = (1 − t)·R1 + t·R2``:

    - the STARC distance ``‖s(R1) − s(R(t))‖_metric`` with ``s(R) = c(R)/‖c(R)‖_norm``
      for every canonicalisation ``c`` in ``canonicals`` (``"none"`` is the identity;
      ``"epic"``, ``"dard"``, ``"val"``, ``"minimal"`` as in
      :func:`rewardviz.distances.canonicalize`, uniform coverage and policy), every
      ``norm`` and every ``metric`` in ``"l1"``, ``"l2"``, ``"linf"``: equal to
      :func:`rewardviz.distances.starc`; plus EPIC's Pearson form ``"epic-pearson"``
      (:func:`rewardviz.distances.epic`) when ``"epic"`` is among ``canonicals``;
    - ``regret_forward``: the regret on ``R1`` of a policy optimal for ``R(t)``, and
      ``regret_backward``: the regret on ``R(t)`` of a policy optimal for ``R1``, both
      ``(J(π*) − J(π̂)) / (max_π J − min_π J)`` as :func:`rewardviz.distances.regret`.

    Environments are processed ``chunk_size`` at a time (by default as many as keep
    intermediates within :data:`STUDY_MEMORY`, 256 MiB), each chunk one call of one jitted,
    vmapped kernel, with a tqdm progress bar over chunks. Peak memory is that bound plus
    the inputs and outputs: ``rewards`` (``n_envs·n_rewards·2·S²·A`` floats, 64 MiB in
    float64 at the defaults) and the frame.

    Args:
        n_envs, n_rewards, steps: environments, reward pairs per environment, points per
            pair (``steps ≥ 2``: ``t = 0`` and ``t = 1`` are included).
        n_states, n_actions, gamma: size and discount of every environment (``γ < 1``).
        seed: an integer or a ``jax.random`` key; the same seed gives the same study.
        canonicals, norms, metrics: the combinations to compute (all by default: 45
            STARC distances plus ``"epic-pearson"``).
        n_successors: states each ``(s, a)`` can reach (``None``: all, a dense kernel).
        concentration: Dirichlet parameter of the transition probabilities.
        chunk_size: environments per jitted call.
        progress: show a progress bar.
        dtype: ``"float32"`` or ``"float64"``: the precision of the whole study (the
            environments are drawn in float32 and cast, so both precisions study the same
            environments and rewards). ``None`` (default) follows JAX's default float: float32
            unless ``jax_enable_x64`` is on. ``"float64"`` works without turning x64 on
            globally (the study runs inside ``jax.enable_x64(True)``) and makes every
            distance and regret agree with float64 loop oracles to ~1e-9; in float32 the
            regrets near a change of optimal policy can differ from float64 by ~1e-3
            (ties between near-equal values are decided by rounding), at about half the
            time and memory.

    Example:
        >>> study = rv.experiments.interpolation_study(
        ...     n_envs=4, n_rewards=2, steps=5, n_states=6, n_actions=2, progress=False)
        >>> study.frame[["val-l2-l2", "regret_forward"]].shape
        (40, 2)
    """
    n_envs = _checks.positive_int("n_envs", n_envs)
    n_rewards = _checks.positive_int("n_rewards", n_rewards)
    steps = _checks.positive_int("steps", steps, minimum=2)
    n_states = _checks.positive_int("n_states", n_states)
    n_actions = _checks.positive_int("n_actions", n_actions)
    gamma = float(gamma)
    if not 0 <= gamma < 1:
        raise ValueError(
            f"gamma must lie in [0, 1), got {gamma}: the random environments have no "
            "terminal states, so returns with gamma = 1 are infinite sums."
        )
    root = _checks.key("seed", seed)
    if isinstance(seed, int | np.integer):
        seed = int(seed)
    if n_successors is not None:
        n_successors = _checks.positive_int("n_successors", n_successors)
        if n_successors > n_states:
            raise ValueError(
                f"n_successors must lie in 1..n_states = 1..{n_states}, got {n_successors}."
            )
    if not concentration > 0:
        raise ValueError(f"concentration must be positive, got {concentration}.")
    canonicals = _choices("canonicals", canonicals, STUDY_CANONICALS)
    norms = _choices("norms", norms, tuple(ORDERS))
    metrics = _choices("metrics", metrics, tuple(ORDERS))
    spec = (canonicals, tuple(ORDERS[n] for n in norms), tuple(ORDERS[m] for m in metrics))
    names = distance_names(canonicals=canonicals, norms=norms, metrics=metrics)
    # The x64 flag decides the precision of every array JAX creates, the random draws
    # included, so the whole study runs under it rather than casting at the end.
    with jax.enable_x64(_study_dtype(dtype) == np.float64):
        return _run_study(
            n_envs, n_rewards, steps, n_states, n_actions, gamma, seed, root, spec, names,
            n_successors, float(concentration), chunk_size, progress,
        )  # fmt: skip


def _study_dtype(dtype) -> np.dtype:
    """The study's float type: ``None`` is JAX's default float; else float32 or float64."""
    if dtype is None:
        return np.dtype(jnp.result_type(float))
    try:
        chosen = np.dtype(dtype)
    except TypeError:
        chosen = None
    if chosen not in (np.float32, np.float64):
        raise ValueError(f'dtype must be "float32", "float64" or None, got {dtype!r}.')
    return chosen


def _run_study(
    n_envs, n_rewards, steps, n_states, n_actions, gamma, seed, root, spec, names,
    n_successors, concentration, chunk_size, progress,
) -> InterpolationStudy:  # fmt: skip
    """:func:`interpolation_study` after validation, in the precision JAX is set to."""

    shape = (n_states, n_actions, n_states)
    keys = jax.vmap(jax.random.fold_in, (None, 0))(root, jnp.arange(n_envs))
    transitions, rewards = _draw(keys, concentration, shape, n_successors, n_rewards)
    # One validated MDP gives gamma, start and terminal leaves; every kernel is a proper
    # stochastic matrix by construction, so the stack is built without re-validating each.
    leaves, treedef = jax.tree_util.tree_flatten(TabularMDP(transitions[0], gamma=gamma))
    stacked = jax.tree_util.tree_unflatten(
        treedef, [transitions] + [jnp.broadcast_to(x, (n_envs, *x.shape)) for x in leaves[1:]]
    )
    ts = jnp.linspace(0, 1, steps, dtype=transitions.dtype)

    if chunk_size is None:
        endpoints = n_rewards * 2 * np.prod(shape)
        systems = 2 * n_rewards * steps * n_states**2
        per_env = (_ENDPOINT_ARRAYS * endpoints + _SYSTEM_ARRAYS * systems) * transitions.itemsize
        chunk_size = int(max(1, min(n_envs, STUDY_MEMORY // per_env)))
    chunk_size = _checks.positive_int("chunk_size", chunk_size)
    # Equal chunks, the last padded with copies of the last environment (results dropped):
    # every call has the same shapes, so each kernel compiles once.
    n_chunks = -(-n_envs // chunk_size)
    chunk_size = -(-n_envs // n_chunks)

    from tqdm.auto import tqdm  # a core dependency; imported here to keep import light

    host_transitions = np.asarray(transitions)
    distances, regrets = [], []
    for start in tqdm(range(0, n_envs, chunk_size), desc="environments", unit="chunk", disable=not progress):  # fmt: skip
        indices = np.minimum(np.arange(start, start + chunk_size), n_envs - 1)
        kept = min(chunk_size, n_envs - start)
        chunk = jax.tree_util.tree_map(lambda leaf, indices=indices: leaf[indices], stacked)
        factors = _factorise(host_transitions[indices], gamma)
        distances.append(
            np.asarray(_study_chunk(chunk, rewards[indices], ts, spec, factors))[:kept]
        )
        regrets.append(np.asarray(_solve_regrets(chunk, rewards[indices], ts))[:kept])
    distances = np.concatenate(distances)  # [E, K, P, T]
    regrets = np.concatenate(regrets)  # [E, 2, P, T]

    env, pair, step = np.meshgrid(
        np.arange(n_envs), np.arange(n_rewards), np.arange(steps), indexing="ij"
    )
    columns = {
        "env": env.ravel(),
        "pair": pair.ravel(),
        "step": step.ravel(),
        "t": np.broadcast_to(np.asarray(ts), env.shape).ravel(),
    }
    for index, name in enumerate(names):
        columns[name] = distances[:, index].ravel()
    columns["regret_forward"] = regrets[:, 0].ravel()
    columns["regret_backward"] = regrets[:, 1].ravel()
    return InterpolationStudy(
        frame=pd.DataFrame(columns),
        transitions=np.asarray(transitions),
        rewards=np.asarray(rewards),
        gamma=gamma,
        seed=seed,
        distances=names,
    )


@_deprecation.positional_options("canonicals", "norms", "metrics")
def distance_names(
    *,
    canonicals: Sequence[str] = STUDY_CANONICALS,
    norms: Sequence[str] = tuple(ORDERS),
    metrics: Sequence[str] = tuple(ORDERS),
) -> tuple[str, ...]:
    """Column names of the distances, in the study's order (``"epic-pearson"`` after EPIC's)."""
    names = []
    for canonical in canonicals:
        names += [f"{canonical}-{n}-{m}" for n in norms for m in metrics]
        if canonical == "epic":
            names.append("epic-pearson")
    return tuple(names)


# ---------------------------------------------------------------------------
# Jitted kernels.


@partial(jax.jit, static_argnames=("shape", "n_successors", "n_rewards"))
def _draw(keys, concentration, shape, n_successors, n_rewards):
    """``[E, S, A, S']`` kernels and ``[E, n_rewards, 2, S, A, S']`` rewards, one key each.

    Drawn in float32 whatever the study's precision, then cast (kernels renormalised), so
    a float64 study has the same environments as a float32 one, to float32 rounding.
    """
    dtype = jnp.result_type(float)

    def draw(key):
        dynamics_key, reward_key = jax.random.split(key)
        transitions, _ = _kernels.random_dynamics(
            dynamics_key, concentration, shape, n_successors, "float32"
        )
        transitions = transitions.astype(dtype)
        rewards = jax.random.normal(reward_key, (n_rewards, 2, *shape), jnp.float32)
        return transitions / transitions.sum(-1, keepdims=True), rewards.astype(dtype)

    return jax.vmap(draw)(keys)


@partial(jax.jit, static_argnames=("spec",))
def _study_chunk(mdps, rewards, ts, spec, factors):
    """Distances ``[E, K, P, T]`` of a chunk of environments; ``factors`` from :func:`_factorise`."""
    return jax.vmap(lambda mdp, pairs, factor: _environment(mdp, pairs, ts, spec, factor))(
        mdps, rewards, factors
    )


def _factorise(transitions: np.ndarray, gamma: float) -> dict:
    """Per-MDP matrices of VAL and the minimal canonicalisation, ``[E, ...]``, in numpy.

    VAL's ``(I − γP_u)⁻¹`` (``P_u`` the uniform policy's state kernel) and the
    pseudo-inverse of the weighted shaping design ``√w·(γT − I)`` with
    ``w = 1/‖T(·|s, a)‖²`` (as :func:`rewardviz.shaping.potential_least_squares`). They
    are computed here, once per environment, with numpy on the host (~50 ms for the
    default study) rather than inside the vmapped kernel, where batched LAPACK calls are
    only safe when :mod:`rewardviz._xla`'s scheduler flag is in effect. The study's environments have no terminal
    states, which keeps both matrices free of the terminal-state masking.
    """
    n_envs, n_states = transitions.shape[:2]
    eye = np.eye(n_states)
    val_inverse = np.linalg.inv(eye - gamma * transitions.mean(axis=2))
    row_norm = (transitions**2).sum(-1).reshape(n_envs, -1)  # ‖T(·|s, a)‖², [E, S·A]
    design = (gamma * transitions - eye[:, None, :]).reshape(n_envs, -1, n_states)
    root = 1 / np.sqrt(row_norm)
    dtype = transitions.dtype
    cutoff = 10 * np.sqrt(max(design.shape[1:])) * np.finfo(dtype).eps
    return {
        "val_inverse": val_inverse.astype(dtype),
        "design": design.astype(dtype),
        "root_weight": root.astype(dtype),
        "pseudo_inverse": np.linalg.pinv(root[..., None] * design, rtol=cutoff).astype(dtype),
    }


def _factored_levels(mdp, expected, factor, canonical):
    """VAL or minimal canonical rewards as ``c(s, a)·g(s, a, s')``: ``c`` ``[..., S·A]``, ``g``.

    VAL: ``c = r − V(s) + γ(TV)(s, a)`` with ``V = (I − γP_u)⁻¹ r_u``, ``g = 1``.
    Minimal: ``c = r − (γTΦ − Φ)`` with ``Φ`` the weighted least-squares potential (one
    step of iterative refinement, as :func:`rewardviz.shaping.potential_least_squares`),
    ``g = T/‖T‖²``. Both are those of :func:`rewardviz.distances.canonicalize`.
    """
    transitions = mdp.transitions.astype(expected.dtype)
    n_states = mdp.n_states
    flat = expected.reshape(*expected.shape[:-2], -1)  # [..., S·A]
    if canonical == "val":
        values = jnp.matmul(expected.mean(-1), factor["val_inverse"].T, precision=HIGHEST)
        following = jnp.matmul(values, transitions.reshape(-1, n_states).T, precision=HIGHEST)
        levels = flat - jnp.repeat(values, mdp.n_actions, axis=-1) + mdp.gamma * following
        return levels, jnp.ones_like(transitions)
    design, root, inverse = factor["design"], factor["root_weight"], factor["pseudo_inverse"]
    potential = jnp.zeros((*flat.shape[:-1], n_states), flat.dtype)
    rest = flat
    for _ in range(2):  # solve, then refine once on the residual
        potential = potential + jnp.matmul(root * rest, inverse.T, precision=HIGHEST)
        rest = flat - jnp.matmul(potential, design.T, precision=HIGHEST)
    row_norm = jnp.sum(transitions**2, axis=-1, keepdims=True)
    return rest, transitions / row_norm


def _combination_norms(endpoints, jobs, weights=None):
    """``‖a_t·c1 + b_t·c2‖_order`` ``[P, T]`` for each job ``(c, a, b, order)``, in job order.

    ``endpoints`` ``[C, 2, P, N]`` holds the pairs ``(c1, c2)`` of ``C`` canonical forms;
    ``a``, ``b`` are ``[P, T]``; ``weights`` ``[C, 3, N]`` (one vector per order 1, 2, ∞)
    makes every norm the weighted norm of :func:`rewardviz._canonical.weighted_norm`.
    One loop per order over its jobs, each step one multiply-add-reduce that XLA fuses
    (the ``[P, T, N]`` combinations are never stored). Measured on the default study
    (2-core CPU): unrolling the jobs into one program instead compiles 2-3x longer, and
    with the combinations written for all jobs at once XLA:CPU stores the broadcast
    endpoints once they feed more than one reduction (3x slower).
    """
    out = [None] * len(jobs)
    for order in dict.fromkeys(job[-1] for job in jobs):
        chosen = [j for j, job in enumerate(jobs) if job[-1] == order]
        canonical = jnp.asarray([jobs[j][0] for j in chosen])
        coefficients = jnp.stack([jnp.stack(jobs[j][1:3]) for j in chosen])  # [J, 2, P, T]

        def one(job, order=order):
            index, (a, b) = job
            first, second = endpoints[index]
            values = a[..., None] * first[:, None] + b[..., None] * second[:, None]
            if weights is None:
                return _canonical.norm(values, order)
            return _canonical.weighted_norm(values, weights[index, _ORDER_INDEX[order]], order)

        for j, norms in zip(chosen, jax.lax.map(one, (canonical, coefficients)), strict=True):
            out[j] = norms
    return out


#: Position of each order in the ``weights`` of :func:`_combination_norms`.
_ORDER_INDEX = {1: 0, 2: 1, np.inf: 2}


def _environment(mdp, pairs, ts, spec, factor):
    """One environment: ``pairs`` ``[P, 2, S, A, S']``, points ``ts`` ``[T]``.

    Every canonicalisation is linear, so the canonical form of ``R(t)`` is
    ``(1 − t)·c1 + t·c2`` with ``c1``, ``c2`` those of the endpoints, its standardised
    form ``s_t = a_t·c1 + b_t·c2`` with ``a_t = (1 − t)/‖c(t)‖``, ``b_t = t/‖c(t)‖`` (0 for a
    zero canonical reward), and the distance ``‖s_0 − s_t‖ = ‖(a_0 − a_t)·c1 − b_t·c2‖``:
    the sizes and then the distances are norms of combinations of the two endpoints.
    VAL and the minimal canonicalisation factor as ``c(s, a)·g(s, a, s')`` with ``g ≥ 0``,
    so their norms over ``(s, a, s')`` are weighted norms of the ``[S·A]`` coefficients.
    """
    canonicals, norms, metrics = spec
    dtype = pairs.dtype
    n_states, n_actions = mdp.n_states, mdp.n_actions
    # Point t = 0 is R1 exactly ((1 − 0)·R1 + 0·R2), so distances at t = 0 are exactly 0.
    second_weight = jnp.broadcast_to(ts, (pairs.shape[0], ts.shape[0]))  # t, [P, T]
    first_weight = 1 - second_weight
    tolerance = _kernels.shaping_zero_tolerance(dtype, mdp.dtype)  # as rewardviz.distances

    def coefficients(size, reward_size):
        """``(a_0 − a_t, −b_t)`` of the standardised points; zero canonical rewards stay 0."""
        zero = size <= tolerance * reward_size
        inverse = jnp.where(zero, 0, 1 / jnp.where(zero, 1, size))
        a, b = first_weight * inverse, second_weight * inverse
        return a[:, :1] - a, b[:, :1] - b

    # Endpoints over (s, a, s'): the reward, EPIC's and DARD's forms, EPIC's centred form.
    uniform_states = jnp.full((n_states,), 1 / n_states, dtype)
    uniform_actions = jnp.full((n_actions,), 1 / n_actions, dtype)
    forms = {"none": pairs}
    if "epic" in canonicals:
        forms["epic"] = _canonical.epic_canonical(mdp, pairs, uniform_states, uniform_actions)
    if "dard" in canonicals:
        forms["dard"] = _canonical.dard_canonical(mdp, pairs, uniform_actions)
    forms = {name: jnp.swapaxes(_canonical.flat(c), 0, 1) for name, c in forms.items()}
    if "epic" in canonicals:
        forms["pearson"] = forms["epic"] - forms["epic"].mean(-1, keepdims=True)
    full = {name: index for index, name in enumerate(forms)}
    endpoints = jnp.stack(list(forms.values()))  # [C, 2, P, S·A·S']
    # Weighted endpoints over (s, a): VAL's and the minimal form's coefficients.
    expected = _kernels.expected_reward(mdp.transitions.astype(dtype), pairs)  # [P, 2, S, A]
    # Their zero test measures the expected reward r·g in the same weights, not R.
    live_expected = jnp.where(mdp.terminal[:, None], 0, expected).reshape(*pairs.shape[:2], -1)
    factored, factored_weights = {}, []
    for canonical in ("val", "minimal"):
        if canonical in canonicals:
            levels, profile = _factored_levels(mdp, expected, factor, canonical)  # [P, 2, S·A]
            weights = jnp.stack([profile.sum(-1), (profile**2).sum(-1), profile.max(-1)])
            factored[canonical] = jnp.swapaxes(levels, 0, 1)
            factored[f"{canonical} reward"] = jnp.swapaxes(live_expected, 0, 1)
            factored_weights += [weights.reshape(3, -1)] * 2
    factored = {name: (index, levels) for index, (name, levels) in enumerate(factored.items())}

    def stacked(entries):
        return jnp.stack([levels for _, levels in entries.values()]) if entries else None

    # Sizes ‖c(t)‖ of every form for every norm (and L2 of the reward for the Pearson form).
    size_jobs = [("none", order) for order in dict.fromkeys((*norms, 2))]
    size_jobs += [(c, order) for c in ("epic", "dard") if c in full for order in norms]
    size_jobs += [("pearson", 2)] if "pearson" in full else []
    found = _combination_norms(
        endpoints, [(full[c], first_weight, second_weight, order) for c, order in size_jobs]
    )
    sizes = dict(zip(size_jobs, found, strict=True))
    if factored:
        factored_jobs = [(c, order) for c in factored for order in norms]
        found = _combination_norms(
            stacked(factored),
            [(factored[c][0], first_weight, second_weight, order) for c, order in factored_jobs],
            jnp.stack(factored_weights),
        )
        sizes.update(zip(factored_jobs, found, strict=True))

    # Distances, in spec order.
    jobs, factored_jobs, order = [], [], []
    for canonical in canonicals:
        is_factored = canonical in factored
        for norm in norms:
            reference = f"{canonical} reward" if is_factored else "none"
            a, b = coefficients(sizes[canonical, norm], sizes[reference, norm])
            for metric in metrics:
                if is_factored:
                    order.append(("factored", len(factored_jobs)))
                    factored_jobs.append((factored[canonical][0], a, b, metric))
                else:
                    order.append(("full", len(jobs)))
                    jobs.append((full[canonical], a, b, metric))
        if canonical == "epic":
            # Pearson form: centred, unit root-mean-square; the distance is ½·RMS difference.
            a, b = coefficients(sizes["pearson", 2], sizes["none", 2])
            order.append(("full", len(jobs)))
            jobs.append((full["pearson"], 0.5 * a, 0.5 * b, 2))
    found = {
        "full": _combination_norms(endpoints, jobs) if jobs else [],
        "factored": (
            _combination_norms(stacked(factored), factored_jobs, jnp.stack(factored_weights))
            if factored_jobs
            else []
        ),
    }
    return jnp.stack([found[kind][index] for kind, index in order])


def _expected_points(mdp, pairs, ts):
    """Expected rewards ``[P, T, S, A]`` of the points (0 in terminal states); t = 0 is R1's."""
    transitions = mdp.transitions.astype(pairs.dtype)
    endpoints = jnp.where(~mdp.terminal[:, None], _kernels.expected_reward(transitions, pairs), 0)
    t = ts[:, None, None]
    return (1 - t) * endpoints[:, None, 0] + t * endpoints[:, None, 1]


#: Bellman sweeps before policy iteration (see :func:`_warm_start`).
_WARM_SWEEPS = 32


def _warm_start(mdp, expected):
    """Greedy actions ``[..., S]`` after :data:`_WARM_SWEEPS` value-iteration sweeps from 0.

    Only a starting policy: policy iteration then makes it exactly optimal. A sweep is
    one matrix product for the whole batch (~1.5 ms for 22 environments of the default
    study on a 2-core CPU) where a policy-iteration step factorises every point's system
    (~50 ms); from the one-step greedy policy the default study needed 6 steps, from
    this start 1 or 2.
    """
    transitions = mdp.transitions.astype(expected.dtype)
    gamma = mdp.gamma.astype(expected.dtype)

    def sweep(_, values):
        return jnp.max(_kernels.backup(transitions, gamma, expected, values), axis=-1)

    values = jax.lax.fori_loop(
        0, _WARM_SWEEPS, sweep, jnp.zeros(expected.shape[:-1], expected.dtype)
    )
    return jnp.argmax(_kernels.backup(transitions, gamma, expected, values), axis=-1)


@partial(jax.jit, static_argnames=("max_steps",))
def _regret_chunk(mdps, pairs, ts, max_steps):
    """Forward and backward regrets ``[E, 2, P, T]`` of a chunk, and whether every
    environment's policy iteration settled within ``max_steps`` steps."""

    def environment(mdp, pairs):
        expected = _expected_points(mdp, pairs, ts)  # [P, T, S, A]
        signed = jnp.stack([-expected, expected])
        _, values, q, _, settled = _kernels.optimal_values(
            mdp, signed, _warm_start(mdp, signed), max_steps
        )
        best = _kernels.start_value(mdp, values[1])  # [P, T]
        worst = -_kernels.start_value(mdp, values[0])
        # The optimal policy with the ties of Q*, as rewardviz.solve.optimal_policy.
        tolerance = DEFAULT_TIE_TOLERANCE.get(np.dtype(q.dtype), 1e-4)
        best_policy = _kernels.greedy(q[1], tolerance)  # [P, T, S, A]
        # Forward: each point's optimal policy evaluated on R1 (the point t = 0).
        forward = _kernels.start_value(
            mdp, _kernels.stochastic_values(mdp, best_policy, expected[:, :1])
        )
        # Backward: R1's optimal policy evaluated on every point: one system per pair,
        # the points' rewards as its right-hand sides.
        first_policy = best_policy[:, 0]  # [P, S, A]
        system = _kernels.continuation(mdp, first_policy, expected.dtype)  # [P, S, S]
        policy_rewards = jnp.sum(first_policy[:, None] * expected, axis=-1)  # [P, T, S]
        backward_values = _kernels.continuation_solve(system, jnp.swapaxes(policy_rewards, 1, 2))
        backward = _kernels.start_value(mdp, jnp.swapaxes(backward_values, 1, 2))
        regrets = jnp.stack(
            [
                _kernels.normalised_regret(best[:, :1], worst[:, :1], forward, mdp.gamma),
                _kernels.normalised_regret(best, worst, backward, mdp.gamma),
            ]
        )
        return regrets, jnp.all(settled)

    regrets, settled = jax.vmap(environment)(mdps, pairs)
    return regrets, jnp.all(settled)


def _solve_regrets(mdps, pairs, ts, max_steps: int = 200):
    """Regrets ``[E, 2, P, T]`` of a chunk by policy iteration (Howard 1960) to convergence.

    The policy iteration of :func:`rewardviz.solve.policy_iteration`, vmapped over the
    chunk's environments: a handful of exact evaluations where value iteration would need
    hundreds of sweeps for the same accuracy. Its last evaluation gives ``V*`` and ``Q*``;
    the optimal policy, ties included, is that of :func:`rewardviz.solve.optimal_policy`,
    and the regret is normalised as in :func:`rewardviz.distances.regret`.
    """
    regrets, settled = _regret_chunk(mdps, pairs, ts, max_steps)
    if not bool(settled):
        raise RuntimeError(
            f"policy iteration did not settle within {max_steps} steps; this should not "
            "happen for gamma < 1. Please report the arguments that caused it."
        )
    return regrets


# ---------------------------------------------------------------------------
# Bootstrap ranks and validation.


def _weighted_ranks(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Mid-ranks ``[B, n]`` of ``values`` ``[n]`` in each sample of multiplicities ``weights`` ``[B, n]``.

    A point of multiplicity ``w`` stands for ``w`` copies; copies and ties share their
    average rank. One sort for every sample: rank = weight strictly below the value's tie
    group plus the average position within the group.
    """
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    group_weight = np.add.reduceat(weights[:, order], starts, axis=1)  # [B, G]
    below = np.cumsum(group_weight, axis=1) - group_weight
    group_rank = below + (group_weight + 1) / 2
    group_of = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(values)]))
    ranks = np.empty_like(weights)
    ranks[:, order] = group_rank[:, group_of]
    return ranks


def _weighted_pearson(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Pearson correlation ``[B]`` of rows of ``x``, ``y`` ``[B, n]`` under ``weights``; NaN if constant."""
    total = weights.sum(axis=1, keepdims=True)
    x = x - (weights * x).sum(axis=1, keepdims=True) / total
    y = y - (weights * y).sum(axis=1, keepdims=True) / total
    covariance = (weights * x * y).sum(axis=1)
    scale = np.sqrt((weights * x**2).sum(axis=1) * (weights * y**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale > 0, covariance / np.where(scale > 0, scale, 1), np.nan)


def _choices(name: str, values, allowed: tuple[str, ...]) -> tuple[str, ...]:
    values = (values,) if isinstance(values, str) else tuple(values)
    unknown = [value for value in values if value not in allowed]
    if unknown or not values:
        raise ValueError(
            f"{name} must be a non-empty selection of {allowed}, got {values!r}"
            + (f" ({unknown} unknown)." if unknown else ".")
        )
    if len(set(values)) != len(values):
        raise ValueError(f"{name} lists an entry twice: {values!r}.")
    return values
