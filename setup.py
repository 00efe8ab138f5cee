"""Packaging: everything is declared in setup.cfg; this file only ships the configs.

A built package (``pip install .`` or a wheel, not an editable install) carries the
configs, the metafiles and the model index under ``qbheat_mm/.mim/``, as MMPretrain and
MMDetection ship theirs, so ``mmpretrain.list_models('*qbheat*')``, ``get_model(NAME)``
and ``qbheat_mm::`` config names work without a source checkout. They are copied into the
build directory only; the source tree is not changed.
"""
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

#: What ships under qbheat_mm/.mim/, relative to the repository root.
MIM_FILES = ('configs', 'metafiles', 'model-index.yml')


class BuildPyWithConfigs(build_py):
    """``build_py`` that also copies :data:`MIM_FILES` into ``qbheat_mm/.mim/``."""

    def run(self):
        super().run()
        root = os.path.dirname(os.path.abspath(__file__))
        target = os.path.join(self.build_lib, 'qbheat_mm', '.mim')
        os.makedirs(target, exist_ok=True)
        for name in MIM_FILES:
            source, dest = os.path.join(root, name), os.path.join(target, name)
            if os.path.isdir(source):
                shutil.copytree(source, dest, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
            else:
                shutil.copy2(source, dest)


setup(cmdclass={'build_py': BuildPyWithConfigs})
