"""What is kept: the SQLite record of articles and chunks, the Chroma vectors, the keyword index, the write lock."""
