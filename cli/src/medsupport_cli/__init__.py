"""The medsupport admin command line (`medsupport --help`)."""
