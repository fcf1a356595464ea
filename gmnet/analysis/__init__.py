"""Analyses built on the network and the inference engines."""
