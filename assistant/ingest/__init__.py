"""From an article to stored chunks: sentence-bounded chunking, the embedding model, the ingest pipeline."""
