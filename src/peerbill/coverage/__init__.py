"""Billable coverage for program managers: figures (pure), then CSV, HTML and terminal renderings."""
