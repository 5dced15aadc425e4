"""``python -m rewardviz ...``: the same command line as the ``rewardviz`` console script."""

import sys

from rewardviz.cli import main

if __name__ == "__main__":
    sys.exit(main())
