"""Training-loop extensions (hooks) registered in ``mmpretrain.registry.HOOKS``."""
from . import hooks  # noqa: F401  (registration side effects)
