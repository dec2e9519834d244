"""The helpline bot's own package: catalogue, language detection, NLU components,
channels and the web gateway."""
