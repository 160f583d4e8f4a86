import os

from hypothesis import settings

pytest_plugins = ["medsupport_shared.testing.pytest_plugin", "medsupport_shared.testing.browser"]

# `make test` (and CI) runs the property tests on a fixed sequence of examples, so a red run can be
# reproduced; HYPOTHESIS_PROFILE=explore draws fresh random examples to hunt for new counter-examples.
settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
