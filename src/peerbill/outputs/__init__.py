"""What peerbill writes for people and other programs: CSV that spreadsheets open safely, decisions.csv,
problems.csv and summary.json, and files that appear whole or not at all."""
