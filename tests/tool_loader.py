"""Import a script under ``tools/`` as a module, the one way every test does it."""
import importlib.util
from pathlib import Path
from types import ModuleType

TOOLS = Path(__file__).resolve().parents[1] / 'tools'


def load_tool(path: str) -> ModuleType:
    """``tools/<path>`` (e.g. ``'analysis/knn_eval.py'``) as a fresh module."""
    name = 'tool_' + Path(path).with_suffix('').as_posix().replace('/', '_')
    spec = importlib.util.spec_from_file_location(name, TOOLS / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
