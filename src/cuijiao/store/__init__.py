"""The SQLite workspace database: schema, ledger writes, audit trail."""
