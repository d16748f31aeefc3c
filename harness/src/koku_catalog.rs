//! koku's catalog rows in PostgreSQL, as a tenant has them when its summary step starts (spec
//! §2.4 and §1.2 step 2): enabled tag keys, cost-category patterns, the clusters and nodes
//! already recorded, and the month's report period. The tests' helpers (the test kit) and
//! `ocp-harness generate --to-postgres` write them with these functions.

use tokio_postgres::{Client, Error};
use uuid::Uuid;

use crate::synth::ClusterModel;
use ocp_engine::postgres::{insert_cluster, insert_node, koku_tables_sql, quote_ident};

/// Inserts one row per key into `reporting_enabledtagkeys` of `schema` with `enabled = true`,
/// `provider_type = 'OCP'` and a random uuid; a key already there (for OCP) is set enabled.
pub async fn enable_tag_keys(client: &Client, schema: &str, keys: &[&str]) -> Result<(), Error> {
    let sql = format!(
        "INSERT INTO {}.reporting_enabledtagkeys (uuid, key, enabled, provider_type) \
         VALUES ($1, $2, true, 'OCP') \
         ON CONFLICT (key, provider_type) DO UPDATE SET enabled = true",
        quote_ident(schema)
    );
    for key in keys {
        client.execute(&sql, &[&Uuid::new_v4(), key]).await?;
    }
    Ok(())
}

/// For each `(pattern, category_name)`: creates the category in `reporting_ocp_cost_category`
/// if no category has that name, and the pattern row in
/// `reporting_ocp_cost_category_namespace` pointing at it (a pattern already there is pointed at
/// this category). Patterns are koku's LIKE patterns, e.g. `openshift-%`. Returns the category
/// id of each pair, in the order given.
pub async fn add_cost_category_patterns(
    client: &Client,
    schema: &str,
    patterns: &[(&str, &str)],
) -> Result<Vec<i32>, Error> {
    let q = quote_ident(schema);
    let category = format!(
        "WITH new AS (INSERT INTO {q}.reporting_ocp_cost_category (name) VALUES ($1) \
         ON CONFLICT (name) DO NOTHING RETURNING id) \
         SELECT id FROM new UNION ALL \
         SELECT id FROM {q}.reporting_ocp_cost_category WHERE name = $1"
    );
    let mut ids = Vec::with_capacity(patterns.len());
    for (pattern, name) in patterns {
        let id: i32 = client.query_one(&category, &[name]).await?.get(0);
        point_pattern(client, &q, pattern, id).await?;
        ids.push(id);
    }
    Ok(ids)
}

/// `pattern` → category `id` in `reporting_ocp_cost_category_namespace` (`q`: quoted schema).
async fn point_pattern(client: &Client, q: &str, pattern: &str, id: i32) -> Result<(), Error> {
    client
        .execute(
            &format!(
                "INSERT INTO {q}.reporting_ocp_cost_category_namespace (namespace, cost_category_id) \
                 VALUES ($1, $2) \
                 ON CONFLICT (namespace) DO UPDATE SET cost_category_id = EXCLUDED.cost_category_id"
            ),
            &[&pattern, &id],
        )
        .await?;
    Ok(())
}

/// Inserts the `reporting_ocpusagereportperiod` row of a cluster's month: `provider_id` =
/// `source_uuid`, `report_period_start` = the first of `year`-`month` at 00:00 UTC,
/// `report_period_end` = the first of the next month. If the row exists (same cluster, start and
/// source) its alias is updated. Returns its `id`. `month` must be 1..=12.
pub async fn add_report_period(
    client: &Client,
    schema: &str,
    source_uuid: Uuid,
    cluster_id: &str,
    cluster_alias: &str,
    year: i32,
    month: u32,
) -> Result<i32, Error> {
    let sql = format!(
        "WITH p AS (SELECT make_timestamptz($4::int4, $5::int4, 1, 0, 0, 0, 'UTC') AS start) \
         INSERT INTO {}.reporting_ocpusagereportperiod \
             (cluster_id, cluster_alias, report_period_start, report_period_end, provider_id) \
         SELECT $2, $3, p.start, p.start + interval '1 month', $1 FROM p \
         ON CONFLICT (cluster_id, report_period_start, provider_id) \
             DO UPDATE SET cluster_alias = EXCLUDED.cluster_alias \
         RETURNING id",
        quote_ident(schema)
    );
    let month = month as i32;
    let row = client
        .query_one(
            &sql,
            &[&source_uuid, &cluster_id, &cluster_alias, &year, &month],
        )
        .await?;
    Ok(row.get(0))
}

/// koku's tables in `schema` (created when missing) holding `model`'s catalog as its inline
/// catalog states it ([`crate::scenario::inline_catalog`]): its enabled keys; its cost-category
/// patterns with the model's category ids (categories named `category <id>`); its rows already
/// in `reporting_ocp_nodes`, each in a `reporting_ocp_clusters` row of its cluster id (the
/// model's own cluster belongs to the model's source, so the engine's run picks it; another
/// cluster id gets a source of its own); and the model's report period. The engine reading this
/// catalog computes what it computes with the inline one. Returns the report period's id.
pub async fn write_model_catalog(
    client: &Client,
    schema: &str,
    model: &ClusterModel,
) -> Result<i32, Error> {
    let q = quote_ident(schema);
    client.batch_execute(&koku_tables_sql(schema)).await?;
    let keys: Vec<&str> = model.enabled_tag_keys.iter().map(String::as_str).collect();
    enable_tag_keys(client, schema, &keys).await?;
    for (pattern, id) in &model.cost_category_patterns {
        client
            .execute(
                &format!(
                    "INSERT INTO {q}.reporting_ocp_cost_category (id, name) VALUES ($1, $2) \
                     ON CONFLICT (id) DO NOTHING"
                ),
                &[id, &format!("category {id}")],
            )
            .await?;
        point_pattern(client, &q, pattern, *id).await?;
    }
    // Later categories (koku's UI, a test) must not collide with the ids given here.
    client
        .query_one(
            &format!(
                "SELECT setval(pg_get_serial_sequence($1, 'id'), \
                 GREATEST((SELECT max(id) FROM {q}.reporting_ocp_cost_category), 1))"
            ),
            &[&format!("{q}.reporting_ocp_cost_category")],
        )
        .await?;
    for node in &model.existing_nodes {
        let cluster = match &node.cluster_id {
            Some(cluster_id) => Some(cluster_uuid(client, &q, model, cluster_id).await?),
            None => None,
        };
        insert_node(client, &q, node, cluster).await?;
    }
    add_report_period(
        client,
        schema,
        model.source_uuid,
        &model.cluster_id,
        &model.cluster_alias,
        model.year,
        model.month,
    )
    .await
}

/// The `reporting_ocp_clusters` row of `cluster_id`, created when missing: of the model's
/// source for the model's cluster, else of a new source.
async fn cluster_uuid(
    client: &Client,
    q: &str,
    model: &ClusterModel,
    cluster_id: &str,
) -> Result<Uuid, Error> {
    let found = client
        .query_opt(
            &format!("SELECT uuid FROM {q}.reporting_ocp_clusters WHERE cluster_id = $1"),
            &[&cluster_id],
        )
        .await?;
    if let Some(row) = found {
        return Ok(row.get(0));
    }
    let (provider, alias) = if cluster_id == model.cluster_id {
        (model.source_uuid, model.cluster_alias.as_str())
    } else {
        (Uuid::new_v4(), cluster_id)
    };
    insert_cluster(client, q, cluster_id, Some(alias), provider).await
}
