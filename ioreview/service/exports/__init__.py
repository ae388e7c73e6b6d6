"""Exports of a trial to the analysis pipeline and to readers of results: tables, SR, report."""
