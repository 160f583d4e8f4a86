"""Developer tools run from the repository root (`uv run --frozen python -m tools.<name>`)."""
