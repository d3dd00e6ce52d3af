"""E-mail to customers: composed from events, sent through SMTP (or, in development, logged).
Sent by the event delivery machinery, never inside a request or a transaction."""
