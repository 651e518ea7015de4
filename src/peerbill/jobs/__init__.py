"""The jobs peerbill's commands run, each a plain function over a month (or a store) returning a result
the command line renders; nothing here prints.

- :func:`check.check`: judge a month, write decisions.csv (``peerbill check``).
- :func:`bill.bill`: judge, plan, check, record and write the 837P batches (``peerbill bill``).
- :func:`cost_report.cost_report`: the quarter's CB-496 figures (``peerbill cost-report``).
- :func:`coverage.coverage`: what bills and why the rest does not (``peerbill coverage``).
- :func:`whatif.whatif`: a month under draft rule packs beside the current ones (``peerbill whatif``).
- :mod:`trace`: from a claim, contact or report line back to the contact log and the rules.
- :func:`run.run`: the monthly job, the composition of the ones above.
- :mod:`records`: import, batches, the ledger, rule packs and reasons.
"""
