"""The benchmark (``make bench``): our stack against the stock ``rasa init`` assistant."""
