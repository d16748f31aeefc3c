-- Reference query: the Pod rows of reporting_ocpusagelineitem_daily_summary for one source and a
-- date range inside one month. The project's own SELECT-only port of shared/spec/ocp-daily-summary.md
-- (§3 statement 2, Pod branch; §5 steps 1-3), written in Trino's dialect. It is not koku's SQL:
-- it was written from the spec alone, one CTE per spec step, the spec's section above each.
--
-- Parameters, written in double braces in the text below and replaced by SQL literals before the
-- text reaches an engine (harness/src/oracle/query.rs):
--   schema              tenant schema (an identifier), e.g. org1234567
--   source              provider UUID as varchar, e.g. '6795d5e6-...'
--   year, month         partition values as varchar, month zero-padded: '2026', '09'
--   start_date          DATE, first day of the range (D0)
--   end_date            DATE, last day of the range, inclusive (D1)
--   report_period_id    integer or NULL
--   cluster_id, cluster_alias   varchar or NULL
-- Catalog tables (enabled keys, cost-category patterns) are read from postgres.<schema>.*.
--
-- Dialect: Trino. harness/src/oracle/dialect.rs rewrites the few Trino-only functions used here
-- (json_parse, map_filter with its lambda, map_concat, greatest, json_format(CAST(.. AS json)))
-- for DuckDB; everything else is SQL both engines read alike.
--
-- "Window" below means (§3 notation): partition source = S, year = Y, month = M, and
-- D0 00:00 <= interval_start < (D1 + 1 day) 00:00.

WITH

-- §3 cte_pg_enabled_keys, §5 "KEYS", §6.1 filtering.
-- One row: 'vm_kubevirt_io_name' plus the enabled OCP keys. With no enabled key, array_agg is NULL
-- and so is the concatenation (§3 Trino quirk, §7.14): every label is then dropped.
cte_pg_enabled_keys AS (
    SELECT ARRAY['vm_kubevirt_io_name'] || array_agg(etk.key ORDER BY etk.key) AS keys
    FROM postgres.{{schema}}.reporting_enabledtagkeys AS etk
    WHERE etk.enabled = true
      AND etk.provider_type = 'OCP'
),

-- §5 step 1 NL[day, node], §3 cte_ocp_node_label_line_item_daily.
-- The distinct filtered node-label maps of a node and day. A node whose filtered labels change
-- within a day has several rows here (§6.1), which duplicates the pod rows joined to it.
-- A map is carried as JSON text with sorted keys: equal maps give equal text (§7.7).
cte_ocp_node_label_line_item_daily AS (
    SELECT DISTINCT
        CAST(nl.interval_start AS date) AS usage_start,
        nl.node,
        json_format(CAST(
            map_filter(
                CAST(json_parse(nl.node_labels) AS map(varchar, varchar)),
                (k, v) -> contains(ek.keys, k)
            ) AS json)) AS node_labels
    FROM hive.{{schema}}.openshift_node_labels_line_items_daily AS nl
    CROSS JOIN cte_pg_enabled_keys AS ek
    WHERE nl.source = {{source}}
      AND nl.year = {{year}}
      AND nl.month = {{month}}
      AND nl.interval_start >= {{start_date}}
      AND nl.interval_start < {{end_date}} + INTERVAL '1' DAY
),

-- §5 step 1 NSL[day, namespace], §3 cte_ocp_namespace_label_line_item_daily: the same for
-- namespaces.
cte_ocp_namespace_label_line_item_daily AS (
    SELECT DISTINCT
        CAST(nsl.interval_start AS date) AS usage_start,
        nsl.namespace,
        json_format(CAST(
            map_filter(
                CAST(json_parse(nsl.namespace_labels) AS map(varchar, varchar)),
                (k, v) -> contains(ek.keys, k)
            ) AS json)) AS namespace_labels
    FROM hive.{{schema}}.openshift_namespace_labels_line_items_daily AS nsl
    CROSS JOIN cte_pg_enabled_keys AS ek
    WHERE nsl.source = {{source}}
      AND nsl.year = {{year}}
      AND nsl.month = {{month}}
      AND nsl.interval_start >= {{start_date}}
      AND nsl.interval_start < {{end_date}} + INTERVAL '1' DAY
),

-- §5 step 2 HC[ts, node], §3 cte_ocp_node_capacity (inner query), §6.2.
-- Per hour and node, the max over the pods that reported that hour, from the HOURLY table.
-- No node != '' filter here (§7.10).
cte_ocp_node_hourly_capacity AS (
    SELECT
        li.interval_start,
        li.node,
        max(li.node_capacity_cpu_core_seconds) AS cap_cpu_core_seconds,
        max(li.node_capacity_memory_byte_seconds) AS cap_memory_byte_seconds
    FROM hive.{{schema}}.openshift_pod_usage_line_items AS li
    WHERE li.source = {{source}}
      AND li.year = {{year}}
      AND li.month = {{month}}
      AND li.interval_start >= {{start_date}}
      AND li.interval_start < {{end_date}} + INTERVAL '1' DAY
    GROUP BY li.interval_start, li.node
),

-- §5 step 2 NC[day, node], §3 cte_ocp_node_capacity (outer query): the sum over the distinct
-- hourly timestamps of the day.
cte_ocp_node_capacity AS (
    SELECT
        CAST(hc.interval_start AS date) AS usage_start,
        hc.node,
        sum(hc.cap_cpu_core_seconds) AS node_capacity_cpu_core_seconds,
        sum(hc.cap_memory_byte_seconds) AS node_capacity_memory_byte_seconds
    FROM cte_ocp_node_hourly_capacity AS hc
    GROUP BY CAST(hc.interval_start AS date), hc.node
),

-- §5 step 2 CC[day], §3 cte_ocp_cluster_capacity: the sum over every node of the day
-- (node = '' included).
cte_ocp_cluster_capacity AS (
    SELECT
        nc.usage_start,
        sum(nc.node_capacity_cpu_core_seconds) AS cluster_capacity_cpu_core_seconds,
        sum(nc.node_capacity_memory_byte_seconds) AS cluster_capacity_memory_byte_seconds
    FROM cte_ocp_node_capacity AS nc
    GROUP BY nc.usage_start
),

-- §5 step 3, first two bullets; §3 Pod branch FROM / JOIN clauses; §6.1, §6.5, §7.6.
-- Each daily pod row in the window with node not NULL and not '' (§7.10), expanded by ordinary
-- LEFT JOINs: every matching node-label variant, namespace-label variant and cost-category
-- pattern (LIKE, no escape character) duplicates the row and its metrics.
-- pod_labels is the merged map node < namespace < pod (map_concat: the last map wins), as JSON
-- text with sorted keys. Missing node or namespace labels count as {}; the pod's own map is not
-- wrapped, so a NULL pod_labels makes the merge NULL (§6.1 NULL handling).
cte_pod_rows AS (
    SELECT
        CAST(li.interval_start AS date) AS usage_start,
        li.namespace,
        li.node,
        li.source,
        json_format(CAST(
            map_concat(
                coalesce(CAST(json_parse(nl.node_labels) AS map(varchar, varchar)),
                         CAST(MAP() AS map(varchar, varchar))),
                coalesce(CAST(json_parse(nsl.namespace_labels) AS map(varchar, varchar)),
                         CAST(MAP() AS map(varchar, varchar))),
                map_filter(
                    CAST(json_parse(li.pod_labels) AS map(varchar, varchar)),
                    (k, v) -> contains(ek.keys, k)
                )
            ) AS json)) AS pod_labels,
        li.resource_id,
        li.pod_usage_cpu_core_seconds,
        li.pod_request_cpu_core_seconds,
        coalesce(li.pod_effective_usage_cpu_core_seconds,
                 greatest(li.pod_usage_cpu_core_seconds, li.pod_request_cpu_core_seconds))
            AS pod_effective_usage_cpu_core_seconds,
        li.pod_limit_cpu_core_seconds,
        li.pod_usage_memory_byte_seconds,
        li.pod_request_memory_byte_seconds,
        coalesce(li.pod_effective_usage_memory_byte_seconds,
                 greatest(li.pod_usage_memory_byte_seconds, li.pod_request_memory_byte_seconds))
            AS pod_effective_usage_memory_byte_seconds,
        li.pod_limit_memory_byte_seconds,
        li.node_capacity_cpu_cores,
        li.node_capacity_memory_bytes,
        nc.node_capacity_cpu_core_seconds,
        nc.node_capacity_memory_byte_seconds,
        cc.cluster_capacity_cpu_core_seconds,
        cc.cluster_capacity_memory_byte_seconds,
        cat_ns.cost_category_id
    FROM hive.{{schema}}.openshift_pod_usage_line_items_daily AS li
    CROSS JOIN cte_pg_enabled_keys AS ek
    LEFT JOIN cte_ocp_node_label_line_item_daily AS nl
        ON nl.node = li.node
       AND nl.usage_start = CAST(li.interval_start AS date)
    LEFT JOIN cte_ocp_namespace_label_line_item_daily AS nsl
        ON nsl.namespace = li.namespace
       AND nsl.usage_start = CAST(li.interval_start AS date)
    LEFT JOIN cte_ocp_node_capacity AS nc
        ON nc.usage_start = CAST(li.interval_start AS date)
       AND nc.node = li.node
    LEFT JOIN cte_ocp_cluster_capacity AS cc
        ON cc.usage_start = CAST(li.interval_start AS date)
    LEFT JOIN postgres.{{schema}}.reporting_ocp_cost_category_namespace AS cat_ns
        ON li.namespace LIKE cat_ns.namespace
    WHERE li.source = {{source}}
      AND li.year = {{year}}
      AND li.month = {{month}}
      AND li.interval_start >= {{start_date}}
      AND li.interval_start < {{end_date}} + INTERVAL '1' DAY
      AND li.node != ''
),

-- §5 step 3, last bullet; §3 Pod branch inner aggregates (table); §6.2; §7.1.
-- Grouped by (day, namespace, node, source, merged labels): NOT by pod. Hours are seconds / 3600.0
-- (divided, never multiplied by a reciprocal); GiB is * 2^-30.
cte_pod_summary AS (
    SELECT
        pr.usage_start,
        pr.namespace,
        pr.node,
        pr.source AS source_uuid,
        pr.pod_labels,
        max(pr.resource_id) AS resource_id,
        max(pr.cost_category_id) AS cost_category_id,
        sum(pr.pod_usage_cpu_core_seconds) / 3600.0 AS pod_usage_cpu_core_hours,
        sum(pr.pod_request_cpu_core_seconds) / 3600.0 AS pod_request_cpu_core_hours,
        sum(pr.pod_effective_usage_cpu_core_seconds) / 3600.0 AS pod_effective_usage_cpu_core_hours,
        sum(pr.pod_limit_cpu_core_seconds) / 3600.0 AS pod_limit_cpu_core_hours,
        sum(pr.pod_usage_memory_byte_seconds) / 3600.0 * power(2, -30)
            AS pod_usage_memory_gigabyte_hours,
        sum(pr.pod_request_memory_byte_seconds) / 3600.0 * power(2, -30)
            AS pod_request_memory_gigabyte_hours,
        sum(pr.pod_effective_usage_memory_byte_seconds) / 3600.0 * power(2, -30)
            AS pod_effective_usage_memory_gigabyte_hours,
        sum(pr.pod_limit_memory_byte_seconds) / 3600.0 * power(2, -30)
            AS pod_limit_memory_gigabyte_hours,
        max(pr.node_capacity_cpu_cores) AS node_capacity_cpu_cores,
        max(pr.node_capacity_cpu_core_seconds) / 3600.0 AS node_capacity_cpu_core_hours,
        max(pr.node_capacity_memory_bytes) * power(2, -30) AS node_capacity_memory_gigabytes,
        max(pr.node_capacity_memory_byte_seconds) / 3600.0 * power(2, -30)
            AS node_capacity_memory_gigabyte_hours,
        max(pr.cluster_capacity_cpu_core_seconds) / 3600.0 AS cluster_capacity_cpu_core_hours,
        max(pr.cluster_capacity_memory_byte_seconds) / 3600.0 * power(2, -30)
            AS cluster_capacity_memory_gigabyte_hours
    FROM cte_pod_rows AS pr
    GROUP BY pr.usage_start, pr.namespace, pr.node, pr.source, pr.pod_labels
)

-- §3 Pod branch outer select: data_source 'Pod', the run's constants, the storage columns NULL,
-- every metric a double.
SELECT
    'Pod' AS data_source,
    ps.usage_start,
    ps.usage_start AS usage_end,
    ps.namespace,
    ps.node,
    ps.resource_id,
    ps.pod_labels,
    CAST(NULL AS varchar) AS volume_labels,
    CAST(NULL AS varchar) AS persistentvolumeclaim,
    CAST(NULL AS varchar) AS persistentvolume,
    CAST(NULL AS varchar) AS storageclass,
    ps.cost_category_id,
    CAST(ps.pod_usage_cpu_core_hours AS double) AS pod_usage_cpu_core_hours,
    CAST(ps.pod_request_cpu_core_hours AS double) AS pod_request_cpu_core_hours,
    CAST(ps.pod_effective_usage_cpu_core_hours AS double) AS pod_effective_usage_cpu_core_hours,
    CAST(ps.pod_limit_cpu_core_hours AS double) AS pod_limit_cpu_core_hours,
    CAST(ps.pod_usage_memory_gigabyte_hours AS double) AS pod_usage_memory_gigabyte_hours,
    CAST(ps.pod_request_memory_gigabyte_hours AS double) AS pod_request_memory_gigabyte_hours,
    CAST(ps.pod_effective_usage_memory_gigabyte_hours AS double)
        AS pod_effective_usage_memory_gigabyte_hours,
    CAST(ps.pod_limit_memory_gigabyte_hours AS double) AS pod_limit_memory_gigabyte_hours,
    CAST(ps.node_capacity_cpu_cores AS double) AS node_capacity_cpu_cores,
    CAST(ps.node_capacity_cpu_core_hours AS double) AS node_capacity_cpu_core_hours,
    CAST(ps.node_capacity_memory_gigabytes AS double) AS node_capacity_memory_gigabytes,
    CAST(ps.node_capacity_memory_gigabyte_hours AS double) AS node_capacity_memory_gigabyte_hours,
    CAST(ps.cluster_capacity_cpu_core_hours AS double) AS cluster_capacity_cpu_core_hours,
    CAST(ps.cluster_capacity_memory_gigabyte_hours AS double)
        AS cluster_capacity_memory_gigabyte_hours,
    CAST(NULL AS double) AS persistentvolumeclaim_capacity_gigabyte,
    CAST(NULL AS double) AS persistentvolumeclaim_capacity_gigabyte_months,
    CAST(NULL AS double) AS volume_request_storage_gigabyte_months,
    CAST(NULL AS double) AS persistentvolumeclaim_usage_gigabyte_months,
    {{report_period_id}} AS report_period_id,
    {{cluster_id}} AS cluster_id,
    {{cluster_alias}} AS cluster_alias,
    ps.source_uuid
FROM cte_pod_summary AS ps
