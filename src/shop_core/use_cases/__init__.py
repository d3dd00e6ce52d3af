"""Use cases: plain functions that load, decide in the domain, save and commit."""
