"""The action server's package (``rasa run actions --actions actions``).

One module per concept: ``answer`` renders every answer from the catalogue.
"""
