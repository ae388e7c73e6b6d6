"""Imported by the export worker's forkserver before it forks (`report_worker.PRELOAD`): loads
WeasyPrint and the report module once, so every worker starts with them."""
from .report_worker import load

load()
