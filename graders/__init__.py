"""Graders of the Kubernetes pods course: inspect a cluster's live objects and explain every check."""
