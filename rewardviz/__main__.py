"""``python -m rewardviz ...``: the same command line as the ``rewardviz`` console script."""

import sys

from rewardviz.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    sys.exit(main())
