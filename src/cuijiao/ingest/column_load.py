"""Charges read in columns (charge_columns.py) into the database, and their seal.

The rows go straight from the columns into multi-row INSERTs (store/bulk.py), a
batch of Python objects at a time, never through a staging copy when the table
is empty. Their seal — which otherwise reads every row back and reprs it — is
hashed from the same columns on a thread while SQLite, without the GIL, rebuilds
the identity indexes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter

from cuijiao.ingest.charge_columns import ChargeColumns
from cuijiao.store import bulk, ledger, seal
from cuijiao.store.seal_text import RowsText

# Rows per multi-row INSERT batch built from columns: bounds the Python objects alive at once.
_INSERT_BATCH = 100_000


def insert_columns(db: sqlite3.Connection, columns: ChargeColumns, *, import_id: int | None = None,
                    src: int | None = None) -> None:
    for start in range(0, len(columns), _INSERT_BATCH):
        rows = columns.value_rows(start, min(start + _INSERT_BATCH, len(columns)))
        bulk.insert_charge_values(db, rows, import_id=import_id, src=src)


def load_in_bulk(db: sqlite3.Connection, table: ledger.LedgerTable, first_import_id: int, files: int,
                 columns: dict[int, ChargeColumns]) -> Counter[int]:
    """Every file's rows into the empty ``table`` in file and line order (ids follow it), from its
    columns or else from staging; returns the rows loaded per file."""
    if not columns:
        return bulk.load_staged(db, table, first_import_id)
    loaded: Counter[int] = Counter()
    for src in range(files):
        if src in columns:
            insert_columns(db, columns[src], import_id=first_import_id + src)
            loaded[src] = len(columns[src])
        else:
            loaded.update(bulk.load_staged(db, table, first_import_id, src))
    return loaded


class SealThread:
    """Hashes the seal of rows bulk-loaded from columns while SQLite rebuilds the indexes
    (which releases the GIL): the rows need not be read back (store/seal_text.py)."""

    def __init__(self, files: dict[int, ChargeColumns], first_id: int, first_import_id: int) -> None:
        self.stream = seal.RowStream()
        self.last_id = first_id - 1 + sum(len(columns) for columns in files.values())
        self._thread = threading.Thread(target=self._hash, args=(files, first_id, first_import_id), daemon=True)
        self._failure: BaseException | None = None
        self._thread.start()

    def _hash(self, files: dict[int, ChargeColumns], first_id: int, first_import_id: int) -> None:
        try:
            for src in sorted(files):
                columns, import_id = files[src], first_import_id + src
                self.stream.add_text(import_id, len(columns), RowsText(columns.seal_columns(first_id, import_id)))
                first_id += len(columns)
        except BaseException as exc:  # handed to the importer's thread by result()
            self._failure = exc

    def result(self) -> seal.Started:
        self._thread.join()
        if self._failure is not None:
            raise self._failure
        return seal.Started("charges", self.stream, self.last_id)
