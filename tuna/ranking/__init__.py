"""Ranking: probabilistic (teacher log-probs), contextual (self-samples + judge), proxy ranking model."""
