"""Print the environment report (versions, the mmcv ops flavour, whether NMS runs on the GPU,
CUDA, git commit)."""
import sys

from qbheat_mm.utils.collect_env import main

if __name__ == '__main__':
    sys.exit(main())
