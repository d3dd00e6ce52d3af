"""The shop's delivery edges: the Flask API, the job entry points, the CLI."""
