"""From a question to ranked passages: question splitting and hybrid dense + keyword search."""
