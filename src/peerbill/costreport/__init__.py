"""Title IV-E prevention figures for the quarterly CB-496 (pure), and their CSV/XML rendering."""
