"""Rasa input channels of our own (referenced from credentials.yml)."""
