"""
fts_shape.py: the shape of a store's search index (articles_fts): the
segments on each level, read from FTS5's structure record (rowid 10 of
articles_fts_data). SQLite reads that record out only in its test builds
(the fts5_structure function), so it is decoded here, as
store_fts_shape_decode in lib/store_sqlite.c decodes it for the merge
shares: a 4-byte cookie, then varints: the levels, the segments, a write
counter; per level the segments a merge under way takes and their count;
per segment its id and its first and last leaf page.

Used by tests/integration/test_fts_merge.py and bench/fts_rounds.py.
"""

import sqlite3

# The record's second version (SQLite 3.43 and later) starts with this.
V2 = b"\xff\x00\x00\x01"


def varint(buf, i):
    """SQLite's varint at buf[i]: (value, the offset after it)."""
    v = 0
    for k in range(8):
        c = buf[i + k]
        v = (v << 7) | (c & 0x7F)
        if not c & 0x80:
            return v, i + k + 1
    return (v << 8) | buf[i + 8], i + 9


def decode(buf):
    """[(n_merge, [(segment id, leaf pages), ...]) per level], oldest
    level first. ValueError for the second version or a record that does
    not end where its last segment does."""
    if buf[4:8] == V2:
        raise ValueError("an FTS5 structure record of the second version "
                         "(SQLite 3.43 or later): this decoder reads the "
                         "first")
    i = 4
    nlevel, i = varint(buf, i)
    _, i = varint(buf, i)
    _, i = varint(buf, i)
    levels = []
    for _ in range(nlevel):
        nmerge, i = varint(buf, i)
        nseg, i = varint(buf, i)
        segs = []
        for _ in range(nseg):
            sid, i = varint(buf, i)
            first, i = varint(buf, i)
            last, i = varint(buf, i)
            segs.append((sid, last - first + 1))
        levels.append((nmerge, segs))
    if i != len(buf):
        raise ValueError("FTS5 structure record: %d bytes after its last "
                         "segment" % (len(buf) - i))
    return levels


def read(db):
    """decode() of the record in the database file db, read only; [] when
    the index has none yet."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        row = con.execute("SELECT block FROM articles_fts_data "
                          "WHERE id = 10").fetchone()
    finally:
        con.close()
    return decode(row[0]) if row is not None else []
