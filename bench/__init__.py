"""`make bench`: the shop's throughput, latency, expiry time and memory, measured on this
machine in one run and reported as ratios against physical limits measured in the same run
(a minimal Flask app for reads, pgbench for the reservation), because absolute figures on
shared, noisy hardware mean little. Run as `python -m bench` from the repository root."""
