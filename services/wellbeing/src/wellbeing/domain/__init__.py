"""Pure rules and typed entities of the wellbeing service: no I/O."""
