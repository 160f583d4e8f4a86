import os
import sys
from pathlib import Path

from hypothesis import settings

pytest_plugins = ["medsupport_shared.testing.pytest_plugin", "medsupport_shared.testing.browser"]

# Tests import helpers from the repository (tools.openapi_export) however pytest
# is started: `uv run pytest` does not put the working directory on sys.path the way `python -m pytest` does.
ROOT = str(Path(__file__).resolve().parent)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# `make test` (and CI) runs the property tests on a fixed sequence of examples, so a red run can be
# reproduced; HYPOTHESIS_PROFILE=explore draws fresh random examples to hunt for new counter-examples.
settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
