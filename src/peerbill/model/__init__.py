"""Pure data types: bundle records, rule packs and verdicts. No I/O here."""
