"""Read the code blocks of the README and the docs, so tests can run what they show."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parents[2]
DOC_FILES = (ROOT / "README.rst", *sorted((ROOT / "docs").rglob("*.rst")))

_DIRECTIVE = re.compile(r"^(?P<indent>\s*)\.\. code-block:: (?P<language>\S+)\s*$")


@attrs.frozen
class Block:
    """One ``code-block`` of a document.

    Attributes:
        path: The document, relative to the repository.
        line: The line of the directive (1-based).
        language: The block's language (``python``, ``text``, ``console`` …).
        code: The block's text, dedented.
    """

    path: str
    line: int
    language: str
    code: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


def code_blocks(path: Path) -> list[Block]:
    """Every ``.. code-block::`` of an reStructuredText file, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks = []
    index = 0
    while index < len(lines):
        match = _DIRECTIVE.match(lines[index])
        index += 1
        if match is None:
            continue
        start = index
        indent = len(match["indent"])
        body: list[str] = []
        while index < len(lines):
            line = lines[index]
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            body.append(line)
            index += 1
        while body and body[0].strip().startswith(":"):
            body.pop(0)  # directive options such as :caption:
        code = textwrap.dedent("\n".join(body)).strip("\n") + "\n"
        blocks.append(Block(str(path.relative_to(ROOT)), start, match["language"].lower(), code))
    return blocks


def blocks_of(language: str) -> list[Block]:
    """Every block of one language in the README and the docs."""
    return [
        block for path in DOC_FILES for block in code_blocks(path) if block.language == language
    ]
