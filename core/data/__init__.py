"""Reading, generating, tokenizing and batching the user's data."""
