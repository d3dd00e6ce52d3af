"""The shop's domain: money, catalogue, accounts, orders and payments, with the ports and use
cases that drive them. Pure Python (standard library and attrs): other services import it."""
