"""Regenerate ``rewardviz/data/grpo_length_hacking.npz``: a synthetic GRPO log with a hacked length reward.

    python tools/make_group_log.py

No model is run: the scores come from a small generative model of a GRPO run, chosen so
that every signal of :mod:`rewardviz.groups` has something to find. 60 training steps;
at each step 12 prompts drawn from a pool of 48 (each with a fixed difficulty and a
typical answer length), 8 completions per prompt. With training progress
``t = step / 59``:

* skill grows linearly: the logit of a correct answer is ``−1 + 3.5 t − difficulty``;
* from about ``t = 0.5`` the policy discovers padding: a completion pads a fraction
  ``pad = h(t)·u`` of its length (``h`` a logistic ramp centred at ``t = 0.55``,
  ``u ~ U(0, 1)`` per completion), its length grows by ``1 + 2·pad`` and padding makes
  it less likely to be right (the logit loses ``2·pad``);
* rewards: ``format`` 1 with probability ``0.75 + 0.24 t`` (it saturates),
  ``accuracy`` 1 if correct, ``length`` = ``min(length / 1024, 1)`` (a "reason more"
  reward that padding hacks); weights 0.5, 1 and 0.5;
* the held-out ``gold`` score is what a careful judge would say:
  ``correct·(1 − 0.8·pad) + 0.1·format + N(0, 0.05²)``. It rises with skill, peaks
  and falls as padding spreads, while the weighted proxy keeps rising.

The output is a plain ``.npz`` (no pickle), well under 1 MB, written atomically.
"""

import pathlib

import numpy as np

import rewardviz as rv

DATA = pathlib.Path(__file__).resolve().parent.parent / "rewardviz" / "data"
N_STEPS, PROMPTS_PER_STEP, GROUP_SIZE, POOL = 60, 12, 8, 48
WEIGHTS = {"format": 0.5, "accuracy": 1.0, "length": 1.0}


def generate(seed: int = 0) -> rv.GroupRewards:
    rng = np.random.default_rng(seed)
    difficulty = rng.uniform(-1.0, 2.0, POOL)
    typical_length = rng.uniform(150.0, 500.0, POOL)
    step = np.repeat(np.arange(N_STEPS), PROMPTS_PER_STEP)
    prompt = np.concatenate(
        [rng.choice(POOL, PROMPTS_PER_STEP, replace=False) for _ in range(N_STEPS)]
    )
    t = (step / (N_STEPS - 1))[:, None]
    shape = (len(step), GROUP_SIZE)
    hacking = 1.0 / (1.0 + np.exp(-(t - 0.55) / 0.07))
    pad = hacking * rng.uniform(0.0, 1.0, shape)
    length = typical_length[prompt][:, None] * np.exp(rng.normal(0.0, 0.25, shape)) * (1 + 2 * pad)
    length = np.round(length)
    skill = 3.0 * (1.0 - np.exp(-t / 0.3))
    logit = -1.0 + skill - difficulty[prompt][:, None] - 1.0 * pad
    correct = (rng.uniform(size=shape) < 1.0 / (1.0 + np.exp(-logit))).astype(float)
    formatted = (rng.uniform(size=shape) < 0.75 + 0.24 * t).astype(float)
    length_reward = np.minimum(length / 1500.0, 1.0)
    gold = correct * (1 - pad) + 0.1 * formatted + rng.normal(0.0, 0.05, shape)
    return rv.GroupRewards.from_arrays(
        np.stack([formatted, correct, length_reward], axis=-1),
        names=list(WEIGHTS),
        weights=list(WEIGHTS.values()),
        length=length,
        gold=gold,
        step=step,
        prompt_ids=prompt.tolist(),
    )


def main() -> None:
    group = generate()
    path = DATA / "grpo_length_hacking.npz"
    rv.groups.write_npz(group, path, overwrite=True)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} kB): {group}")


if __name__ == "__main__":
    main()
