"""Components do not import each other: a head reads the Mobile-Former arch table from
``qbheat_mm.models.utils``, not from the backbone module."""
import ast
from pathlib import Path

import pytest

MODELS = Path(__file__).resolve().parents[2] / 'qbheat_mm' / 'models'
COMPONENTS = ('algorithms', 'backbones', 'heads', 'necks')


def imported_packages(path: Path) -> set[str]:
    """The component packages a module imports (relative or absolute imports)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ''
            parts = module.split('.')
            if node.level == 2 and parts[0] in COMPONENTS:
                found.add(parts[0])
            if module.startswith('qbheat_mm.models.') and parts[2] in COMPONENTS:
                found.add(parts[2])
    return found


@pytest.mark.parametrize('component', COMPONENTS)
def test_no_component_imports_another(component):
    for path in sorted((MODELS / component).glob('*.py')):
        assert imported_packages(path) <= {component}, path.name


def test_arch_table_has_one_home():
    from qbheat_mm.models.backbones import mobile_former
    from qbheat_mm.models.heads import mobile_former_cls_head
    from qbheat_mm.models.utils import mobile_former_arch
    assert mobile_former.get_arch is mobile_former_arch.get_arch
    assert mobile_former_cls_head.get_arch is mobile_former_arch.get_arch
    assert not hasattr(mobile_former, 'ARCH_SETTINGS')
