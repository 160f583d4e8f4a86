"""The mentorship service's pure rules and typed entities: no I/O, no settings, no Mongo."""
