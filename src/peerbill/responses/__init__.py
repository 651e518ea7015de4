"""What payers send back: 999 and TA1 acknowledgments, 277CA claim acknowledgments and 835 remittance advice,
read and validated with pyx12, and what each says about peerbill's batches, claims and lines."""
