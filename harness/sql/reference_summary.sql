-- Reference query: the rows koku's daily-summary script writes into
-- reporting_ocpusagelineitem_daily_summary for one source and a date range inside one month:
-- the Pod rows, the Storage rows (§3 statement 2) and the unallocated-capacity rows (§3
-- statement 3). The project's own SELECT-only port of docs/spec.md, written
-- in Trino's dialect. It is not koku's SQL: it was written from the spec alone, one CTE per spec
-- step, the spec's section above each.
--
-- Statement 3 reads the rows statement 2 wrote to koku's Hive staging table; here it reads the
-- Pod rows' CTE (cte_pod_output) instead, which holds the same values. It also reads
-- postgres.<schema>.reporting_ocp_nodes, which koku fills before the summary runs (§6.4); the
-- harness's embedded oracle fills it first with reference_node_roles.sql and
-- populate_ocp_nodes.sql.
--
-- Template, rendered before the text reaches an engine (harness/src/oracle/query.rs):
-- * Parameters, written in double braces, become SQL literals:
--     schema              tenant schema (an identifier), e.g. org1234567
--     source              provider UUID as varchar, e.g. '6795d5e6-...'
--     year, month         partition values as varchar, month zero-padded: '2026', '09'
--     start_date          DATE, first day of the range (D0)
--     end_date            DATE, last day of the range, inclusive (D1)
--     report_period_id    integer or NULL
--     cluster_id, cluster_alias   varchar or NULL
-- * Conditional blocks (brace-percent "if NAME" ... "else" ... "endif", as in koku's jinja
--   templates) keep or drop text on two conditions:
--     storage_exists   the Hive table openshift_storage_usage_line_items_daily exists (§1.3,
--                      §12.9). Without it the Storage CTEs and branch are left out, as in koku.
--     postgres         reproduce koku's on-prem PostgreSQL port instead of its Trino SQL (§9.3).
--                      Every such block has a comment "§9.3" above it saying what differs;
--                      everything outside these blocks is the same in both variants.
-- Catalog tables (enabled keys, cost-category patterns, nodes) are read from postgres.<schema>.*.
--
-- Dialect: Trino. harness/src/oracle/dialect.rs rewrites the few Trino-only functions used here
-- (json_parse, map_filter with its lambda, map_concat, greatest, json_format(CAST(.. AS json)),
-- last_day_of_month) for DuckDB; everything else is SQL both engines read alike.
--
-- "Window" below means (§3 notation): partition source = S, year = Y, month = M, and
-- D0 00:00 <= interval_start < (D1 + 1 day) 00:00.
--
-- Label text: koku's parquet holds labels as JSON object text. In Trino a label filter is
-- map_filter(CAST(json_parse(text) AS map(varchar, varchar)), key in KEYS): NULL text gives NULL,
-- '' is an error (§7.13). §9.3: koku's PostgreSQL port (filter_json_by_keys) turns NULL or blank
-- text into '{}' first, so its filtered maps, and the merges of them, are never NULL; the
-- postgres blocks around each label text below do that.

WITH

-- §3 cte_pg_enabled_keys, §5 "KEYS", §6.1 filtering.
-- One row: 'vm_kubevirt_io_name' plus the enabled OCP keys.
cte_pg_enabled_keys AS (
    SELECT
{% if postgres %}
        -- §9.3: PostgreSQL's array || NULL is the array: with no enabled key, KEYS is
        -- {vm_kubevirt_io_name} and that label survives.
        CASE
            WHEN count(etk.key) = 0 THEN ARRAY['vm_kubevirt_io_name']
            ELSE ARRAY['vm_kubevirt_io_name'] || array_agg(etk.key ORDER BY etk.key)
        END AS keys
{% else %}
        -- Trino: with no enabled key, array_agg is NULL and so is the concatenation (§3 quirk,
        -- §7.14): every label is then dropped, vm_kubevirt_io_name too.
        ARRAY['vm_kubevirt_io_name'] || array_agg(etk.key ORDER BY etk.key) AS keys
{% endif %}
    FROM postgres.{{schema}}.reporting_enabledtagkeys AS etk
    WHERE etk.enabled = true
      AND etk.provider_type = 'OCP'
),

-- §5 step 1 NL[day, node], §3 cte_ocp_node_label_line_item_daily.
-- The distinct filtered node-label maps of a node and day. A node whose filtered labels change
-- within a day has several rows here (§6.1), which duplicates the pod and storage rows joined
-- to it. A map is carried as JSON text with sorted keys: equal maps give equal text (§7.7).
cte_ocp_node_label_line_item_daily AS (
    SELECT DISTINCT
        CAST(nl.interval_start AS date) AS usage_start,
        nl.node,
        json_format(CAST(
            map_filter(
                CAST(json_parse(
{% if postgres %}
                    coalesce(nullif(trim(nl.node_labels), ''), '{}')
{% else %}
                    nl.node_labels
{% endif %}
                ) AS map(varchar, varchar)),
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
                CAST(json_parse(
{% if postgres %}
                    coalesce(nullif(trim(nsl.namespace_labels), ''), '{}')
{% else %}
                    nsl.namespace_labels
{% endif %}
                ) AS map(varchar, varchar)),
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

{% if storage_exists %}
-- §5 step 4 VN, §3 cte_volume_nodes, §6.3.
-- The node (and its resource_id) a volume row belongs to is the node its pod ran on that day:
-- the storage rows in the window joined to the DAILY pod rows of the same source, namespace, pod
-- and day. Distinct rows. Pod rows with node '' are not left out here (§7.10).
cte_volume_nodes AS (
    SELECT DISTINCT
        CAST(sli.interval_start AS date) AS usage_start,
        sli.persistentvolumeclaim,
        sli.persistentvolume,
        sli.pod,
        sli.namespace,
        uli.node,
        uli.resource_id
    FROM hive.{{schema}}.openshift_storage_usage_line_items_daily AS sli
    JOIN hive.{{schema}}.openshift_pod_usage_line_items_daily AS uli
        ON uli.source = sli.source
       AND uli.namespace = sli.namespace
       AND uli.pod = sli.pod
       AND CAST(uli.interval_start AS date) = CAST(sli.interval_start AS date)
    WHERE sli.source = {{source}}
      AND sli.year = {{year}}
      AND sli.month = {{month}}
      AND sli.interval_start >= {{start_date}}
      AND sli.interval_start < {{end_date}} + INTERVAL '1' DAY
      AND uli.source = {{source}}
      AND uli.year = {{year}}
      AND uli.month = {{month}}
),

-- §5 step 4 CNT[day, pv], §3 cte_shared_volume_node_count: how many distinct nodes used a
-- persistent volume that day, over all its claims and pods (count DISTINCT skips NULL).
cte_shared_volume_node_count AS (
    SELECT
        vn.usage_start,
        vn.persistentvolume,
        count(DISTINCT vn.node) AS node_count
    FROM cte_volume_nodes AS vn
    GROUP BY vn.usage_start, vn.persistentvolume
),

{% endif %}
-- §5 step 3, first two bullets; §3 Pod branch FROM / JOIN clauses; §6.1, §6.5, §7.6.
-- Each daily pod row in the window with node not NULL and not '' (§7.10), expanded by ordinary
-- LEFT JOINs: every matching node-label variant, namespace-label variant and cost-category
-- pattern duplicates the row and its metrics.
-- pod_labels is the merged map node < namespace < pod (map_concat: the last map wins), as JSON
-- text with sorted keys. Missing node or namespace labels count as {}; the pod's own map is not
-- wrapped, so in Trino a NULL pod_labels makes the merge NULL (§6.1 NULL handling).
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
                    CAST(json_parse(
{% if postgres %}
                        coalesce(nullif(trim(li.pod_labels), ''), '{}')
{% else %}
                        li.pod_labels
{% endif %}
                    ) AS map(varchar, varchar)),
                    (k, v) -> contains(ek.keys, k)
                )
            ) AS json)) AS pod_labels,
        li.resource_id,
        li.pod_usage_cpu_core_seconds,
        li.pod_request_cpu_core_seconds,
        -- §7.4 the effective-usage fallback when the column is NULL.
{% if postgres %}
        -- §9.3: PostgreSQL's greatest() ignores NULL arguments.
        coalesce(li.pod_effective_usage_cpu_core_seconds,
                 greatest(coalesce(li.pod_usage_cpu_core_seconds, li.pod_request_cpu_core_seconds),
                          coalesce(li.pod_request_cpu_core_seconds, li.pod_usage_cpu_core_seconds)))
            AS pod_effective_usage_cpu_core_seconds,
{% else %}
        -- Trino's greatest() is NULL when an argument is NULL.
        coalesce(li.pod_effective_usage_cpu_core_seconds,
                 greatest(li.pod_usage_cpu_core_seconds, li.pod_request_cpu_core_seconds))
            AS pod_effective_usage_cpu_core_seconds,
{% endif %}
        li.pod_limit_cpu_core_seconds,
        li.pod_usage_memory_byte_seconds,
        li.pod_request_memory_byte_seconds,
{% if postgres %}
        -- §9.3: as above, greatest() ignoring NULL arguments.
        coalesce(li.pod_effective_usage_memory_byte_seconds,
                 greatest(coalesce(li.pod_usage_memory_byte_seconds, li.pod_request_memory_byte_seconds),
                          coalesce(li.pod_request_memory_byte_seconds, li.pod_usage_memory_byte_seconds)))
            AS pod_effective_usage_memory_byte_seconds,
{% else %}
        coalesce(li.pod_effective_usage_memory_byte_seconds,
                 greatest(li.pod_usage_memory_byte_seconds, li.pod_request_memory_byte_seconds))
            AS pod_effective_usage_memory_byte_seconds,
{% endif %}
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
{% if postgres %}
        -- §9.3, §6.5: PostgreSQL's LIKE escapes with a backslash.
        ON li.namespace LIKE cat_ns.namespace ESCAPE '\'
{% else %}
        -- §6.5: Trino's LIKE has no escape character.
        ON li.namespace LIKE cat_ns.namespace
{% endif %}
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
        max(pr.node_capacity_memory_bytes) * power(2, -30) AS node_capacity_memory_gigabytes,
        -- Node and cluster capacity-hours come from the hourly CTEs; without a match:
{% if postgres %}
        -- §9.3: PostgreSQL's port writes COALESCE(max(...), 0): 0.
        coalesce(max(pr.node_capacity_cpu_core_seconds), 0) / 3600.0
            AS node_capacity_cpu_core_hours,
        coalesce(max(pr.node_capacity_memory_byte_seconds), 0) / 3600.0 * power(2, -30)
            AS node_capacity_memory_gigabyte_hours,
        coalesce(max(pr.cluster_capacity_cpu_core_seconds), 0) / 3600.0
            AS cluster_capacity_cpu_core_hours,
        coalesce(max(pr.cluster_capacity_memory_byte_seconds), 0) / 3600.0 * power(2, -30)
            AS cluster_capacity_memory_gigabyte_hours
{% else %}
        -- Trino: NULL.
        max(pr.node_capacity_cpu_core_seconds) / 3600.0 AS node_capacity_cpu_core_hours,
        max(pr.node_capacity_memory_byte_seconds) / 3600.0 * power(2, -30)
            AS node_capacity_memory_gigabyte_hours,
        max(pr.cluster_capacity_cpu_core_seconds) / 3600.0 AS cluster_capacity_cpu_core_hours,
        max(pr.cluster_capacity_memory_byte_seconds) / 3600.0 * power(2, -30)
            AS cluster_capacity_memory_gigabyte_hours
{% endif %}
    FROM cte_pod_rows AS pr
    GROUP BY pr.usage_start, pr.namespace, pr.node, pr.source, pr.pod_labels
),

-- §3 Pod branch outer select: data_source 'Pod', the run's constants, the storage columns NULL,
-- every metric a double. These are the Pod rows statement 2 writes; statement 3 reads them.
cte_pod_output AS (
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
        CAST(ps.pod_effective_usage_cpu_core_hours AS double)
            AS pod_effective_usage_cpu_core_hours,
        CAST(ps.pod_limit_cpu_core_hours AS double) AS pod_limit_cpu_core_hours,
        CAST(ps.pod_usage_memory_gigabyte_hours AS double) AS pod_usage_memory_gigabyte_hours,
        CAST(ps.pod_request_memory_gigabyte_hours AS double) AS pod_request_memory_gigabyte_hours,
        CAST(ps.pod_effective_usage_memory_gigabyte_hours AS double)
            AS pod_effective_usage_memory_gigabyte_hours,
        CAST(ps.pod_limit_memory_gigabyte_hours AS double) AS pod_limit_memory_gigabyte_hours,
        CAST(ps.node_capacity_cpu_cores AS double) AS node_capacity_cpu_cores,
        CAST(ps.node_capacity_cpu_core_hours AS double) AS node_capacity_cpu_core_hours,
        CAST(ps.node_capacity_memory_gigabytes AS double) AS node_capacity_memory_gigabytes,
        CAST(ps.node_capacity_memory_gigabyte_hours AS double)
            AS node_capacity_memory_gigabyte_hours,
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
        ps.source_uuid,
        -- §3 statement 2: koku writes this literal text on every Pod and Storage row.
        '{"cpu": 0.000000000, "memory": 0.000000000, "storage": 0.000000000}'
            AS infrastructure_usage_cost
    FROM cte_pod_summary AS ps
),

{% if storage_exists %}
-- §5 step 4, expansion and labels; §3 Storage branch FROM / JOIN clauses; §6.1, §6.3, §6.5.
-- Each daily storage row in the window (no filter on namespace, claim or node), expanded by
-- LEFT JOINs: its volume-node rows (the nodes its pod ran on that day, or one NULL row), the
-- node count of its volume, the node-label variants of THAT node, the namespace-label variants
-- and the cost-category patterns. volume_labels is the merged map
-- node < namespace < PV < PVC, as JSON text with sorted keys; in Trino a NULL PV or PVC label
-- text makes it NULL.
cte_storage_rows AS (
    SELECT
        CAST(sli.interval_start AS date) AS usage_start,
        sli.namespace,
        vn.node,
        vn.resource_id,
        sli.persistentvolumeclaim,
        sli.persistentvolume,
        sli.storageclass,
        sli.csi_volume_handle,
        sli.source,
        json_format(CAST(
            map_concat(
                coalesce(CAST(json_parse(nl.node_labels) AS map(varchar, varchar)),
                         CAST(MAP() AS map(varchar, varchar))),
                coalesce(CAST(json_parse(nsl.namespace_labels) AS map(varchar, varchar)),
                         CAST(MAP() AS map(varchar, varchar))),
                map_filter(
                    CAST(json_parse(
{% if postgres %}
                        coalesce(nullif(trim(sli.persistentvolume_labels), ''), '{}')
{% else %}
                        sli.persistentvolume_labels
{% endif %}
                    ) AS map(varchar, varchar)),
                    (k, v) -> contains(ek.keys, k)
                ),
                map_filter(
                    CAST(json_parse(
{% if postgres %}
                        coalesce(nullif(trim(sli.persistentvolumeclaim_labels), ''), '{}')
{% else %}
                        sli.persistentvolumeclaim_labels
{% endif %}
                    ) AS map(varchar, varchar)),
                    (k, v) -> contains(ek.keys, k)
                )
            ) AS json)) AS volume_labels,
        sli.persistentvolumeclaim_capacity_bytes,
        sli.persistentvolumeclaim_capacity_byte_seconds,
        sli.volume_request_storage_byte_seconds,
        sli.persistentvolumeclaim_usage_byte_seconds,
        svnc.node_count,
        cat_ns.cost_category_id
    FROM hive.{{schema}}.openshift_storage_usage_line_items_daily AS sli
    CROSS JOIN cte_pg_enabled_keys AS ek
    LEFT JOIN cte_volume_nodes AS vn
        ON vn.usage_start = CAST(sli.interval_start AS date)
       AND vn.persistentvolumeclaim = sli.persistentvolumeclaim
       AND vn.pod = sli.pod
       AND vn.namespace = sli.namespace
    LEFT JOIN cte_shared_volume_node_count AS svnc
        ON svnc.usage_start = CAST(sli.interval_start AS date)
       AND svnc.persistentvolume = sli.persistentvolume
    LEFT JOIN cte_ocp_node_label_line_item_daily AS nl
        ON nl.node = vn.node
       AND nl.usage_start = vn.usage_start
    LEFT JOIN cte_ocp_namespace_label_line_item_daily AS nsl
        ON nsl.namespace = sli.namespace
       AND nsl.usage_start = CAST(sli.interval_start AS date)
    LEFT JOIN postgres.{{schema}}.reporting_ocp_cost_category_namespace AS cat_ns
{% if postgres %}
        -- §9.3, §6.5: PostgreSQL's LIKE escapes with a backslash.
        ON sli.namespace LIKE cat_ns.namespace ESCAPE '\'
{% else %}
        ON sli.namespace LIKE cat_ns.namespace
{% endif %}
    WHERE sli.source = {{source}}
      AND sli.year = {{year}}
      AND sli.month = {{month}}
      AND sli.interval_start >= {{start_date}}
      AND sli.interval_start < {{end_date}} + INTERVAL '1' DAY
),

-- §5 step 4, grouping; §3 Storage branch inner aggregates (table); §6.3.
-- Grouped by (namespace, volume node, its resource_id, claim, volume, storage class, CSI volume
-- handle, day, merged labels, source): NOT by pod. Capacity is not shared between nodes;
-- request and usage are divided by the volume's node count.
cte_storage_summary AS (
    SELECT
        sr.usage_start,
        sr.namespace,
        sr.node,
        sr.resource_id,
        sr.persistentvolumeclaim,
        sr.persistentvolume,
        sr.storageclass,
        sr.csi_volume_handle,
        sr.source AS source_uuid,
        sr.volume_labels,
        max(sr.cost_category_id) AS cost_category_id,
        max(sr.persistentvolumeclaim_capacity_bytes) AS persistentvolumeclaim_capacity_bytes,
        sum(sr.persistentvolumeclaim_capacity_byte_seconds)
            AS persistentvolumeclaim_capacity_byte_seconds,
{% if postgres %}
        -- §9.3: PostgreSQL's port divides by COALESCE(max(node_count), 1): without a volume
        -- node the raw sums are kept.
        sum(sr.volume_request_storage_byte_seconds) / coalesce(max(sr.node_count), 1)
            AS volume_request_storage_byte_seconds,
        sum(sr.persistentvolumeclaim_usage_byte_seconds) / coalesce(max(sr.node_count), 1)
            AS persistentvolumeclaim_usage_byte_seconds
{% else %}
        -- Trino: a double divided by a bigint; without a volume node (claimless volume, pod
        -- without pod-usage rows) max(node_count) is NULL and so are both.
        sum(sr.volume_request_storage_byte_seconds) / max(sr.node_count)
            AS volume_request_storage_byte_seconds,
        sum(sr.persistentvolumeclaim_usage_byte_seconds) / max(sr.node_count)
            AS persistentvolumeclaim_usage_byte_seconds
{% endif %}
    FROM cte_storage_rows AS sr
    GROUP BY sr.namespace, sr.node, sr.resource_id, sr.persistentvolumeclaim,
             sr.persistentvolume, sr.storageclass, sr.csi_volume_handle, sr.usage_start,
             sr.volume_labels, sr.source
),

-- §3 Storage branch outer select, §6.3 units: data_source 'Storage', the pod, node and cluster
-- columns NULL. GiB-months divide byte-seconds by 86400 * the days of the row's month (an
-- integer product; day(last_day_of_month(..)) is 28 to 31), then * 2^-30. (§9.3 computes the
-- same days in month with DATE_TRUNC + INTERVAL: no difference.)
cte_storage_output AS (
    SELECT
        'Storage' AS data_source,
        ss.usage_start,
        ss.usage_start AS usage_end,
        ss.namespace,
        ss.node,
        ss.resource_id,
        CAST(NULL AS varchar) AS pod_labels,
        ss.volume_labels,
        ss.persistentvolumeclaim,
        ss.persistentvolume,
        ss.storageclass,
        ss.cost_category_id,
        CAST(NULL AS double) AS pod_usage_cpu_core_hours,
        CAST(NULL AS double) AS pod_request_cpu_core_hours,
        CAST(NULL AS double) AS pod_effective_usage_cpu_core_hours,
        CAST(NULL AS double) AS pod_limit_cpu_core_hours,
        CAST(NULL AS double) AS pod_usage_memory_gigabyte_hours,
        CAST(NULL AS double) AS pod_request_memory_gigabyte_hours,
        CAST(NULL AS double) AS pod_effective_usage_memory_gigabyte_hours,
        CAST(NULL AS double) AS pod_limit_memory_gigabyte_hours,
        CAST(NULL AS double) AS node_capacity_cpu_cores,
        CAST(NULL AS double) AS node_capacity_cpu_core_hours,
        CAST(NULL AS double) AS node_capacity_memory_gigabytes,
        CAST(NULL AS double) AS node_capacity_memory_gigabyte_hours,
        CAST(NULL AS double) AS cluster_capacity_cpu_core_hours,
        CAST(NULL AS double) AS cluster_capacity_memory_gigabyte_hours,
        CAST(ss.persistentvolumeclaim_capacity_bytes * power(2, -30) AS double)
            AS persistentvolumeclaim_capacity_gigabyte,
        CAST(ss.persistentvolumeclaim_capacity_byte_seconds
             / (86400 * day(last_day_of_month(ss.usage_start))) * power(2, -30) AS double)
            AS persistentvolumeclaim_capacity_gigabyte_months,
        CAST(ss.volume_request_storage_byte_seconds
             / (86400 * day(last_day_of_month(ss.usage_start))) * power(2, -30) AS double)
            AS volume_request_storage_gigabyte_months,
        CAST(ss.persistentvolumeclaim_usage_byte_seconds
             / (86400 * day(last_day_of_month(ss.usage_start))) * power(2, -30) AS double)
            AS persistentvolumeclaim_usage_gigabyte_months,
        {{report_period_id}} AS report_period_id,
        {{cluster_id}} AS cluster_id,
        {{cluster_alias}} AS cluster_alias,
        ss.source_uuid,
        -- §3 statement 2: koku writes this literal text on every Pod and Storage row.
        '{"cpu": 0.000000000, "memory": 0.000000000, "storage": 0.000000000}'
            AS infrastructure_usage_cost
    FROM cte_storage_summary AS ss
),

{% endif %}
-- §3 statement 3 cte_node_role, §6.4: the role of a (node, resource_id) is the string max over
-- EVERY row of reporting_ocp_nodes, whatever its cluster (§12.6).
cte_node_role AS (
    SELECT
        ocp_nodes.node,
        ocp_nodes.resource_id,
        max(ocp_nodes.node_role) AS node_role
    FROM postgres.{{schema}}.reporting_ocp_nodes AS ocp_nodes
    GROUP BY ocp_nodes.node, ocp_nodes.resource_id
),

-- §5 step 5, §3 statement 3 cte_unallocated_capacity, §6.4.
-- Per (node, day) of the Pod rows above, leaving out the rows of the four namespaces
-- statement 3 itself and koku's later steps write, and rows whose namespace is NULL (NOT IN is
-- then NULL): capacity-hours minus the sums over every namespace and label group of the node,
-- unclamped (negative when requests exceed capacity). The namespace comes from the node's role;
-- any other role, or no row in reporting_ocp_nodes (a NULL resource_id never matches), gives a
-- NULL namespace and the row is still written.
cte_unallocated_capacity AS (
    SELECT
        max(po.usage_start) AS usage_start,
        max(po.usage_end) AS usage_end,
        CASE max(nr.node_role)
            WHEN 'master' THEN 'Platform unallocated'
            WHEN 'infra' THEN 'Platform unallocated'
            WHEN 'worker' THEN 'Worker unallocated'
        END AS namespace,
        po.node,
        max(po.resource_id) AS resource_id,
        max(po.node_capacity_cpu_core_hours) - sum(po.pod_usage_cpu_core_hours)
            AS pod_usage_cpu_core_hours,
        max(po.node_capacity_cpu_core_hours) - sum(po.pod_request_cpu_core_hours)
            AS pod_request_cpu_core_hours,
        max(po.node_capacity_cpu_core_hours) - sum(po.pod_effective_usage_cpu_core_hours)
            AS pod_effective_usage_cpu_core_hours,
        max(po.node_capacity_memory_gigabyte_hours) - sum(po.pod_usage_memory_gigabyte_hours)
            AS pod_usage_memory_gigabyte_hours,
        max(po.node_capacity_memory_gigabyte_hours) - sum(po.pod_request_memory_gigabyte_hours)
            AS pod_request_memory_gigabyte_hours,
        max(po.node_capacity_memory_gigabyte_hours)
            - sum(po.pod_effective_usage_memory_gigabyte_hours)
            AS pod_effective_usage_memory_gigabyte_hours,
        max(po.node_capacity_cpu_cores) AS node_capacity_cpu_cores,
        max(po.node_capacity_cpu_core_hours) AS node_capacity_cpu_core_hours,
        max(po.node_capacity_memory_gigabytes) AS node_capacity_memory_gigabytes,
        max(po.node_capacity_memory_gigabyte_hours) AS node_capacity_memory_gigabyte_hours,
        max(po.cluster_capacity_cpu_core_hours) AS cluster_capacity_cpu_core_hours,
        max(po.cluster_capacity_memory_gigabyte_hours) AS cluster_capacity_memory_gigabyte_hours,
        po.source_uuid
    FROM cte_pod_output AS po
    LEFT JOIN cte_node_role AS nr
        ON nr.node = po.node
       AND nr.resource_id = po.resource_id
    WHERE po.namespace NOT IN ('Platform unallocated', 'Worker unallocated',
                               'Network unattributed', 'Storage unattributed')
      AND po.node IS NOT NULL
    GROUP BY po.node, po.usage_start, po.source_uuid
),

-- §3 statement 3 final select: data_source 'Pod'; the limits, labels and storage columns NULL;
-- the cost category joined by LIKE AFTER the grouping, not aggregated: a namespace matching k
-- patterns gives k rows, one per category id; a NULL namespace matches none.
cte_unallocated_output AS (
    SELECT
        'Pod' AS data_source,
        uc.usage_start,
        uc.usage_end,
        uc.namespace,
        uc.node,
        uc.resource_id,
        CAST(NULL AS varchar) AS pod_labels,
        CAST(NULL AS varchar) AS volume_labels,
        CAST(NULL AS varchar) AS persistentvolumeclaim,
        CAST(NULL AS varchar) AS persistentvolume,
        CAST(NULL AS varchar) AS storageclass,
        cat_ns.cost_category_id,
        uc.pod_usage_cpu_core_hours,
        uc.pod_request_cpu_core_hours,
        uc.pod_effective_usage_cpu_core_hours,
        CAST(NULL AS double) AS pod_limit_cpu_core_hours,
        uc.pod_usage_memory_gigabyte_hours,
        uc.pod_request_memory_gigabyte_hours,
        uc.pod_effective_usage_memory_gigabyte_hours,
        CAST(NULL AS double) AS pod_limit_memory_gigabyte_hours,
        uc.node_capacity_cpu_cores,
        uc.node_capacity_cpu_core_hours,
        uc.node_capacity_memory_gigabytes,
        uc.node_capacity_memory_gigabyte_hours,
        uc.cluster_capacity_cpu_core_hours,
        uc.cluster_capacity_memory_gigabyte_hours,
        CAST(NULL AS double) AS persistentvolumeclaim_capacity_gigabyte,
        CAST(NULL AS double) AS persistentvolumeclaim_capacity_gigabyte_months,
        CAST(NULL AS double) AS volume_request_storage_gigabyte_months,
        CAST(NULL AS double) AS persistentvolumeclaim_usage_gigabyte_months,
        {{report_period_id}} AS report_period_id,
        {{cluster_id}} AS cluster_id,
        {{cluster_alias}} AS cluster_alias,
        uc.source_uuid,
        -- §3 statement 3 leaves infrastructure_usage_cost out of its column list: NULL.
        CAST(NULL AS varchar) AS infrastructure_usage_cost
    FROM cte_unallocated_capacity AS uc
    LEFT JOIN postgres.{{schema}}.reporting_ocp_cost_category_namespace AS cat_ns
{% if postgres %}
        -- §9.3, §6.5: PostgreSQL's LIKE escapes with a backslash.
        ON uc.namespace LIKE cat_ns.namespace ESCAPE '\'
{% else %}
        ON uc.namespace LIKE cat_ns.namespace
{% endif %}
)

-- Statement 2 (Pod UNION Storage) and statement 3 (unallocated) together. koku's UNION removes
-- duplicates, but no two Pod or Storage rows are equal (every group key is written, and koku
-- also writes csi_volume_handle), so UNION ALL gives the same rows. Then what statement 4 adds
-- on its copy to PostgreSQL (§3 statement 4): all_labels, the pod labels then the volume labels
-- over '{}' for a NULL side, so an unallocated row has '{}', not NULL.
SELECT
    summary.*,
    json_format(CAST(map_concat(
        CAST(json_parse(coalesce(summary.pod_labels, '{}')) AS map(varchar, varchar)),
        CAST(json_parse(coalesce(summary.volume_labels, '{}')) AS map(varchar, varchar))
    ) AS json)) AS all_labels
FROM (
    SELECT * FROM cte_pod_output
{% if storage_exists %}
    UNION ALL
    SELECT * FROM cte_storage_output
{% endif %}
    UNION ALL
    SELECT * FROM cte_unallocated_output
) AS summary
