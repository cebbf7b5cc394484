"""Which members a search of the list of people could find, by an index (migration 0063):
SQLite's FTS5 trigram table `people_search`, PostgreSQL's pg_trgm indexes over a table of the
same name holding the searched columns (kept by a trigger, apart from the members' rows, which
the wave changes every morning). Only a first cut: the search's LIKE
(storage.desk._matching) still decides who matches, over these few instead of every member, so
the index finds at least everyone LIKE finds and the results are LIKE's.

A trigram index needs three characters of each thing searched for. Shorter words (a two-kanji
surname: 佐藤) are searched as before, by LIKE over the members in order, and the list stops
reading at its page and at the count its pages can show (storage.desk.DeskRepository
.people_page): the same people as ever, found fast when many have the words (a common
surname fills the page at once), slower when few do. A prefix match on an index would be fast
for every surname but miss the given names (花子) LIKE finds, and a desk that types a given
name expects to find her.

pg_trgm takes only what the database's locale calls letters and digits: in a cluster made with
--no-locale (the tests') Japanese makes no trigrams, and a Japanese search is still right (the
index is rechecked) but reads the whole index."""

from __future__ import annotations

from typing import Any

from storage.database import POSTGRESQL

TRIGRAM = 3  # characters a trigram index needs of each thing searched for


def digits_of(column: str) -> str:
    """The column as the search compares numbers: without the marks people write in them (as
    migration 0063 keeps them in people_search)."""
    expression = column
    for mark in ("-", " ", "+", "(", ")"):
        expression = f"REPLACE({expression}, '{mark}', '')"
    return expression


def _phrase(text: str) -> str:
    """An FTS5 string: the text as it is, quotes doubled (no operator inside it)."""
    return '"' + text.replace('"', '""') + '"'


def candidates(
    dialect: str, names: tuple[str, ...], numbers: tuple[str, ...], member_id: int | None
) -> tuple[str, list[Any]] | None:
    """A condition on `m` (the members table) that every member the search's LIKE finds
    meets, read by the index; None where a name is too short for it (then LIKE reads them in
    order). `names` are the forms of the words the names are compared with (lowercased and
    each kana), `numbers` the digits of a phone number, `member_id` a 会員ID."""
    if any(len(name) < TRIGRAM for name in names) or any(len(n) < TRIGRAM for n in numbers):
        return None
    said: list[str] = []
    params: list[Any] = []
    if member_id is not None:
        said.append("m.id = ?")
        params.append(member_id)
    if dialect == POSTGRESQL:
        # people_search holds the columns as LIKE compares them: the LINE name lowercased,
        # the numbers as digits (migration 0063).
        found: list[str] = []
        for name in names:
            found += [
                "s.full_name LIKE ? ESCAPE '\\'",
                "s.furigana LIKE ? ESCAPE '\\'",
                "s.display_name LIKE ? ESCAPE '\\'",
            ]
            params += [like(name)] * 3
        for number in numbers:
            found += ["s.phone LIKE ?", "s.channel_address LIKE ?"]
            params += [f"%{number}%"] * 2
        if found:
            said.append(f"m.id IN (SELECT s.id FROM people_search s WHERE {' OR '.join(found)})")
    else:
        terms = []
        if names:
            forms = " OR ".join(_phrase(name) for name in names)
            terms.append(f"{{display_name full_name furigana}} : ({forms})")
        if numbers:
            forms = " OR ".join(_phrase(number) for number in numbers)
            terms.append(f"{{phone channel_address}} : ({forms})")
        if terms:
            said.append("m.id IN (SELECT rowid FROM people_search WHERE people_search MATCH ?)")
            params.append(" OR ".join(terms))
    if not said:
        return None
    return "(" + " OR ".join(said) + ")", params


def like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
