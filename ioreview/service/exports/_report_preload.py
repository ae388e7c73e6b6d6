"""Imported by the export worker's forkserver before it forks (`_Workers.PRELOAD`): loads
WeasyPrint and the report module once, so every worker starts with them."""
from .report_worker import load

load()
