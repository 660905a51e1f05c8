"""Automated checks on model answers, and the registry domain packages extend.

Importing this package registers the built-in check types; call
``load_domain_checks()`` to register the verticals' checks too.
"""

from scenarios.checks import judge, keywords, pii, reference, refusal, similarity, text
from scenarios.checks.base import CheckContext, CheckResult, Outcome, skipped, span
from scenarios.checks.refusal import detect_escalation, detect_refusal
from scenarios.checks.registry import (
    CheckType,
    check_names,
    default_checks,
    get_check,
    load_domain_checks,
    register_check,
)
from scenarios.checks.runner import effective_checks, run_checks

__all__ = [
    "CheckContext",
    "CheckResult",
    "CheckType",
    "Outcome",
    "check_names",
    "default_checks",
    "detect_escalation",
    "detect_refusal",
    "effective_checks",
    "get_check",
    "judge",
    "keywords",
    "load_domain_checks",
    "pii",
    "reference",
    "refusal",
    "register_check",
    "run_checks",
    "similarity",
    "skipped",
    "span",
    "text",
]
