"""The read model of every report: each figure defined once, here. The leadership report,
the overview, the evaluation, the minutes and every export count through it, so that the
same room and period read the same everywhere.

- period.py: the period (whole local days) and its kinds;
- agreements.py: overdue, on time, an agreement's state, the cohorts of a period;
- votes.py: the one decoder of stored ratings, distributions, the pooled mean, the
  agreement rate, the minimum of answers, pulses;
- standing.py: what stood open and overdue at the end of each month (the dashboard's curve).
"""
