"""Rubrics, rating items and ratings (filled in by the ratings work)."""
