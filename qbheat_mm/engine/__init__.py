"""Training-loop extensions: hooks registered in ``mmpretrain.registry.HOOKS``, the Runner
the configs name (``AtomicCheckpointRunner``, in mmengine's ``RUNNERS``), and the CPU
multi-process wrapper (``CPUDistributedDataParallel``, in mmengine's ``MODEL_WRAPPERS``)
that the project's tools select on machines without a GPU."""
from . import cpu_distributed, hooks, runner  # noqa: F401  (registration side effects)
