"""Quote committed results in the docs, never retype them.

    python docs/quote_results.py            # rewrite every quoted block in place
    python docs/quote_results.py --check    # exit 1 if a block is out of date

A block ``<!-- quote-NAME:start ... -->`` ... ``<!-- quote-NAME:end -->`` in a page of
docs/en holds the tables of ``docs/results/NAME/results.md`` (the file without its title
line and its provenance paragraph, which the quote links to), so a rerun published with
``tools/analysis/publish_results.py`` reaches the docs by running this script.
tests/docs/test_docs.py checks every block equals what this writes.
"""
from __future__ import annotations

import functools
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import blocks  # noqa: E402

REPO = blocks.REPO
DOCS = REPO / 'docs' / 'en'
RESULTS = REPO / 'docs' / 'results'
HEADER = '(quoted by docs/quote_results.py; do not edit)'
BLOCK = blocks.pattern(r'quote-[\w-]+')


def quoted(name: str, page: Path) -> str:
    """The body of ``docs/results/NAME/results.md`` (everything after its title line),
    with a link to it from ``page``."""
    path = RESULTS / name / 'results.md'
    if not path.is_file():
        raise FileNotFoundError(f'quote-{name}: no {path.relative_to(REPO)} (publish the '
                                'results first: tools/analysis/publish_results.py)')
    title, _, body = path.read_text().partition('\n')
    # The provenance paragraph (command, commit, machine) stays in the file, linked.
    body = '\n\n'.join(part for part in body.strip().split('\n\n')
                       if not part.startswith(('Made by `', 'Measured on ')))
    # Headings of the results file become bold lines: the page keeps its own outline.
    body = re.sub(r'^#+ (.+)$', r'**\1**', body.strip(), flags=re.M)
    link = os.path.relpath(path, page.parent)
    return f'From [docs/results/{name}/results.md]({link}):\n\n{body}'


def render(text: str, page: Path) -> str:
    """``text`` of ``page`` with every quoted block replaced by a fresh quote."""
    def fresh(match: re.Match) -> str:
        name = match.group(1)  # quote-NAME
        return blocks.block(name, quoted(name.removeprefix('quote-'), page), HEADER)
    return BLOCK.sub(fresh, text)


def pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob('*.md') if BLOCK.search(p.read_text()))


def main(argv: list[str] | None = None) -> int:
    return blocks.main(__doc__, lambda: {page: functools.partial(render, page=page)
                                         for page in pages()}, argv)


if __name__ == '__main__':
    sys.exit(main())
