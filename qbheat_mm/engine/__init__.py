"""Training-loop extensions: hooks registered in ``mmpretrain.registry.HOOKS``, and the
CPU multi-process wrapper (``CPUDistributedDataParallel``, in mmengine's
``MODEL_WRAPPERS``) that the project's tools select on machines without a GPU."""
from . import cpu_distributed, hooks  # noqa: F401  (registration side effects)
