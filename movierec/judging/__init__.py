"""Recommending and judging: top-N lists from embeddings, the held-out split and its metrics,
the baselines, and the search over what the embeddings fit (targets)."""
