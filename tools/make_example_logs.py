"""Regenerate the reward logs bundled in ``rewardviz/data`` (needs the ``gym`` extra).

python tools/make_example_logs.py
"""

import pathlib

import gymnasium as gym

import rewardviz as rv

DATA = pathlib.Path(__file__).resolve().parent.parent / "rewardviz" / "data"


def main() -> None:
    env = gym.make("Hopper-v5", max_episode_steps=200)
    log = rv.io.collect(env, n_episodes=40, seed=0, progress=False)
    rv.io.write_npz(log, DATA / "hopper_random.npz", overwrite=True)
    print(f"wrote {DATA / 'hopper_random.npz'}: {log}")


if __name__ == "__main__":
    main()
