"""The role mapping table of docs/focus-systems.md is the one the data files give."""

from __future__ import annotations

from audiolab.focus.roles import COLUMNS, markdown_table, role_mapping
from audiolab.model import Role

from .conftest import REPO


def test_every_role_has_a_row_in_every_system():
    rows = role_mapping()
    assert [r[0] for r in rows] == [r.value for r in Role]
    assert all(len(r) == len(COLUMNS) and all(r) for r in rows)


def test_the_documented_table_is_current():
    doc = (REPO / "docs" / "focus-systems.md").read_text(encoding="utf-8")
    begin, end = "<!-- roles:begin -->\n", "<!-- roles:end -->"
    assert doc[doc.index(begin) + len(begin):doc.index(end)] == markdown_table(), (
        "regenerate the table with audiolab.focus.roles.markdown_table()")
