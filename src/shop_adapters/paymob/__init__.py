"""Paymob Accept: the live payment gateway (Intention API), callback verification (HMAC),
and an offline sandbox that creates intentions and signs callbacks exactly as Paymob does."""
