"""koku's OpenShift daily-summary step by ocp-engine, called as koku calls its Trino script.

``summarize(schema, source_uuid, start_date, end_date, report_period_id, cluster_id,
cluster_alias)`` writes the rows of ``reporting_ocpusagelineitem_daily_summary`` that koku's
``populate_line_item_daily_summary_table_trino`` writes for the same arguments, and returns the
run's report. See docs/koku-integration.md in the repository.
"""

from .errors import EngineError, InfrastructureError, InputError, InternalError
from .settings import S3Settings
from .summarize import build_invocation, summarize

__all__ = [
    "EngineError",
    "InfrastructureError",
    "InputError",
    "InternalError",
    "S3Settings",
    "build_invocation",
    "summarize",
]
