"""Delivering the shop's events over HTTP: the signature, the targets the shop will send to,
and the sender. See README.md beside this file for receivers."""
