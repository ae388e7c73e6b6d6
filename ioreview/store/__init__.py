"""The only package that writes SQL: schema, migrations, queries and the audit chain."""
from __future__ import annotations

from .db import AuditRecord, DatabaseBusy, Store, StoreError, Transaction, utc_now

__all__ = ["AuditRecord", "DatabaseBusy", "Store", "StoreError", "Transaction", "utc_now"]
