"""The README's protocol table is the module's, written out: a 社協 reads what the code does."""

from __future__ import annotations

from pathlib import Path

from care.protocol import table_markdown

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_shows_the_protocol_as_the_module_states_it() -> None:
    text = README.read_text("utf-8")
    start = text.index("<!-- protocol-table -->") + len("<!-- protocol-table -->")
    end = text.index("<!-- /protocol-table -->")
    assert text[start:end].strip() == table_markdown()
