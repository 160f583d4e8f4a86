"""The notifications domain: typed alerts and deliveries, and the pure rules that change them (no I/O)."""
