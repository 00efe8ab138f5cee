"""Generated blocks in the docs: the one check-or-rewrite loop of docs/gen_model_zoo.py and
docs/quote_results.py.

A block is ``<!-- NAME:start HEADER -->`` ... ``<!-- NAME:end -->`` on lines of their own;
a script supplies, per file, a function from the file's text to its fresh text.
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]


def pattern(name: str = r'[\w-]+') -> re.Pattern:
    """A block named ``name`` (a regular expression; the default matches any name, which
    is then group 1)."""
    return re.compile(rf'<!-- ({name}):start[^\n]*-->\n(?:.*?\n)?<!-- \1:end -->', re.S)


def block(name: str, body: str, header: str) -> str:
    return f'<!-- {name}:start {header} -->\n{body}\n<!-- {name}:end -->'


def main(description: str, renders: Callable[[], dict[Path, Callable[[str], str]]],
         argv: list[str] | None = None) -> int:
    """Rewrite each file whose text its render function changes, or with ``--check``
    write nothing and exit 1 if any would change."""
    parser = argparse.ArgumentParser(description=description.split('\n')[0])
    parser.add_argument('--check', action='store_true',
                        help='exit 1 if a generated block is out of date, write nothing')
    args = parser.parse_args(argv)
    stale = []
    for path, render in renders().items():
        text = path.read_text()
        fresh = render(text)
        if fresh != text:
            stale.append(str(path.relative_to(REPO)))
            if not args.check:
                path.write_text(fresh)
    if stale:
        print(('out of date: ' if args.check else 'rewrote: ') + ', '.join(stale))
    return 1 if stale and args.check else 0
