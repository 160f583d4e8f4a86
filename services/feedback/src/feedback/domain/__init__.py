"""Pure rules of the feedback service: no I/O, no framework imports.

``feedback``: who may author feedback where, ratings, text limits, request due times, overdue and
turnaround. ``concerns``: categories, triage transitions, follow-up codes for anonymous reports,
the anonymous submission rate limiter. ``cohort``: aggregate summaries with small groups suppressed.
"""
