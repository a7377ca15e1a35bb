"""From passages to a cited answer: the LLM answerer and its check, the offline extractive answerer, citations."""
