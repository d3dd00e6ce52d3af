"""Marshmallow schemas: what the API accepts and returns, and the source of its OpenAPI
document. Validation of shape and type lives here; the shop's rules live in the core."""
