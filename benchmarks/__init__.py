"""Speed of rewardviz's JAX kernels as ratios against vectorised numpy, measured in one run."""
