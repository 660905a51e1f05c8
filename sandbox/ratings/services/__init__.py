"""Writes of the ratings part: each function is one transaction and leaves an audit event.

- rubrics: :func:`rubric_create`, :func:`rubric_ensure`, :func:`rating_config_update`
- items: :func:`rating_items_create_for_run` (the runs engine calls it),
  :func:`rating_item_mark_gold`
- queue: :func:`assignment_next`, :func:`assignment_skip`, :func:`queue_progress`
- submissions: :func:`rating_submit`, :func:`rating_revise`
- adjudication: :func:`item_adjudicate`, :func:`results_release`
"""

from sandbox.ratings.services.adjudication import item_adjudicate, results_release
from sandbox.ratings.services.items import rating_item_mark_gold, rating_items_create_for_run
from sandbox.ratings.services.queue import assignment_next, assignment_skip, queue_progress
from sandbox.ratings.services.rubrics import rating_config_update, rubric_create, rubric_ensure
from sandbox.ratings.services.submissions import rating_revise, rating_submit

__all__ = [
    "assignment_next",
    "assignment_skip",
    "item_adjudicate",
    "queue_progress",
    "rating_config_update",
    "rating_item_mark_gold",
    "rating_items_create_for_run",
    "rating_revise",
    "rating_submit",
    "results_release",
    "rubric_create",
    "rubric_ensure",
]
