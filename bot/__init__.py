"""fil-rouge: a Mastodon bot that brings a thread back to the essay it is about."""

__version__ = "0.1.0"
