"""Explanations of a classifier's prediction: attributions, rollout, faithfulness, Q/K/V, errors."""
