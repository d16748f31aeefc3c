-- Reference query: the nodes koku finds for a run before the summary (spec §1.2 step 3, §6.4),
-- one row per (node, resource_id), with the capacity and role it then merges into
-- postgres.<schema>.reporting_ocp_nodes (populate_ocp_nodes.sql). The project's own port of the
-- spec, in Trino's dialect, with the same template parameters as reference_summary.sql; it runs
-- once for the whole range D0..D1, not per chunk.
--
-- Rows: the DAILY pod rows in the window joined to the DAILY node-label rows in the window on the
-- node alone (not the day). koku writes a LEFT JOIN but filters the node-label side's partitions
-- and interval_start in its WHERE clause, which makes it an inner join: a node without node-label
-- rows in the window gets no row here, and so no role from this run. No node != '' filter.
--
-- role = the operator's own node_role (max), else:
--   'master'  if one of the node's namespaces is exactly openshift-kube-apiserver;
--   'infra'   if one of its raw node-label texts (Python json.dumps spacing, §2.3) matches
--             LIKE '%"node_role_kubernetes_io": "infra"%' (each _ in the pattern is a wildcard);
--   'worker'  otherwise.
-- "One of" is bool_or over the node's rows: true when a row tests true, else false or NULL,
-- on which the CASE falls through, as on a false or NULL contains / any-match over the node's
-- distinct namespaces and label texts.
--
-- §9.3: koku's PostgreSQL port computes the same (ANY(array_agg), EXISTS over unnest); its LIKE
-- escapes with a backslash, but the pattern holds none, so nothing differs and this text has no
-- postgres block.
SELECT
    ocp.node,
    ocp.resource_id,
    max(ocp.node_capacity_cpu_cores) AS node_capacity_cpu_cores,
    coalesce(
        max(ocp.node_role),
        CASE
            WHEN bool_or(ocp.namespace = 'openshift-kube-apiserver') THEN 'master'
            WHEN bool_or(nl.node_labels LIKE '%"node_role_kubernetes_io": "infra"%') THEN 'infra'
            ELSE 'worker'
        END
    ) AS node_role
FROM hive.{{schema}}.openshift_pod_usage_line_items_daily AS ocp
JOIN hive.{{schema}}.openshift_node_labels_line_items_daily AS nl
    ON nl.node = ocp.node
WHERE ocp.source = {{source}}
  AND ocp.year = {{year}}
  AND ocp.month = {{month}}
  AND ocp.interval_start >= {{start_date}}
  AND ocp.interval_start < {{end_date}} + INTERVAL '1' DAY
  AND nl.source = {{source}}
  AND nl.year = {{year}}
  AND nl.month = {{month}}
  AND nl.interval_start >= {{start_date}}
  AND nl.interval_start < {{end_date}} + INTERVAL '1' DAY
GROUP BY ocp.node, ocp.resource_id
