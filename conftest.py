pytest_plugins = ["medsupport_shared.testing.pytest_plugin"]
