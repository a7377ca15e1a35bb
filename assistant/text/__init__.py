"""Text analysis shared by the stages: who said what (quotes and speakers)."""
