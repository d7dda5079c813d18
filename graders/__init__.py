"""Graders of the Kubernetes pods course: inspect a cluster's live objects and explain every check.

    >>> import graders
    >>> graders.grade("lab1")          # a LabReport; displays itself as HTML in JupyterLab
"""
from graders.api import grade
from graders.results import CheckResult, LabReport, Status

__all__ = ["grade", "LabReport", "CheckResult", "Status"]
