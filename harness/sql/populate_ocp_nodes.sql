-- koku's populate_node_table (spec §6.4), replayed by the embedded oracle on its in-memory copy
-- of postgres.<schema>.reporting_ocp_nodes before the summary query runs. koku does this step in
-- Python, one found node at a time; these two statements give the same table, because the found
-- rows are unique per (node, resource_id) and neither statement changes what the other matches.
--
-- Input: the table node_roles_found, the rows of reference_node_roles.sql for this run. The
-- catalog rows (any cluster of the tenant) were loaded beforehand from the run's inline catalog.
-- A found node matches a row of the table that has the same node, resource_id and capacity (as
-- numeric(18,2), the column's type) and belongs to this run's cluster. NULLs match NULLs, as the
-- ORM's filter(resource_id=None) does.
--
-- Parameters as in reference_summary.sql (schema, cluster_id). DuckDB's SQL: it stands in for
-- koku's Python and never runs on Trino.

-- 1. A matching row without a role (NULL, or '' which Python's "not node_role" also takes for
--    missing) takes the found role. A row that has a role keeps it: the first role wins.
UPDATE postgres.{{schema}}.reporting_ocp_nodes AS existing
SET node_role = found.node_role
FROM node_roles_found AS found
WHERE existing.node IS NOT DISTINCT FROM found.node
  AND existing.resource_id IS NOT DISTINCT FROM found.resource_id
  AND existing.node_capacity_cpu_cores
      IS NOT DISTINCT FROM CAST(found.node_capacity_cpu_cores AS decimal(18, 2))
  AND existing.cluster_id IS NOT DISTINCT FROM {{cluster_id}}
  AND coalesce(existing.node_role, '') = '';

-- 2. A found node without a matching row becomes a new row of this run's cluster.
INSERT INTO postgres.{{schema}}.reporting_ocp_nodes
    (node, resource_id, node_capacity_cpu_cores, cluster_id, node_role)
SELECT
    found.node,
    found.resource_id,
    CAST(found.node_capacity_cpu_cores AS decimal(18, 2)),
    {{cluster_id}},
    found.node_role
FROM node_roles_found AS found
WHERE NOT EXISTS (
    SELECT 1
    FROM postgres.{{schema}}.reporting_ocp_nodes AS existing
    WHERE existing.node IS NOT DISTINCT FROM found.node
      AND existing.resource_id IS NOT DISTINCT FROM found.resource_id
      AND existing.node_capacity_cpu_cores
          IS NOT DISTINCT FROM CAST(found.node_capacity_cpu_cores AS decimal(18, 2))
      AND existing.cluster_id IS NOT DISTINCT FROM {{cluster_id}}
);
