"""Print the environment report (versions, compiled mmcv ops, CUDA, git commit)."""
import sys

from qbheat_mm.utils.collect_env import main

if __name__ == '__main__':
    sys.exit(main())
