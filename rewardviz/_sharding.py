"""Spread a batch of rewards over several JAX devices with ``jax.sharding`` (a named mesh).

The batched kernels (value iteration, policy evaluation, pairwise distances) treat every
reward of a batch independently, so placing the batch split along its first axis on a
one-dimensional mesh lets XLA's SPMD partitioner run each device's share in place; the
few reductions across the batch (the largest value change that stops value iteration)
become exact all-reduces. Nothing is scheduled by hand. On a single device every
function here is the identity, so the common case pays nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

AXIS = "rewards"


def mesh(devices: int | Sequence[jax.Device] | None = None) -> Mesh | None:
    """A one-axis mesh named ``"rewards"`` over ``devices``; None when that is one device.

    ``devices``: None for every device JAX sees, an integer ``n`` for the first ``n``, or
    a sequence of ``jax.Device`` objects.
    """
    available = jax.devices()
    if isinstance(devices, bool):
        raise TypeError("devices must be None, an integer or a list of devices, not a bool.")
    if devices is None:
        chosen = available
    elif isinstance(devices, (int, np.integer)) and not isinstance(devices, bool):
        if not 1 <= int(devices) <= len(available):
            raise ValueError(
                f"devices={devices} asks for more devices than the {len(available)} JAX sees "
                f"({available[0].platform}); pass 1..{len(available)}, a list of devices, or None."
            )
        chosen = available[: int(devices)]
    else:
        chosen = list(devices)
        unknown = [d for d in chosen if d not in available]
        if not chosen or unknown:
            raise ValueError(
                f"devices must be a non-empty subset of jax.devices() = {available}; got {devices}."
            )
    if len(chosen) == 1:
        return None
    return Mesh(np.array(chosen), (AXIS,))


def put_batch(array: jax.Array, batch_mesh: Mesh | None) -> tuple[jax.Array, int]:
    """Pad the leading axis to a multiple of the mesh size with zeros and shard it.

    Returns the placed array and the original length (slice results back to it).
    """
    length = array.shape[0]
    if batch_mesh is None:
        return array, length
    size = batch_mesh.devices.size
    padding = (-length) % size
    if padding:
        array = jnp.concatenate([array, jnp.zeros((padding, *array.shape[1:]), array.dtype)])
    sharding = NamedSharding(batch_mesh, PartitionSpec(AXIS))
    return jax.device_put(array, sharding), length
