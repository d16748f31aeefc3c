//! The test kit against real services: the shared PostgreSQL, a throwaway cluster, and the
//! in-process S3 server.

use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use ocp_engine::postgres::quote_ident;
use ocp_testkit::{self as testkit, TestS3};

async fn count(client: &tokio_postgres::Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).await.unwrap().get(0)
}

#[tokio::test]
async fn server_url_answers_select_1() {
    let url = testkit::server_url();
    assert!(url.starts_with("postgresql://postgres@127.0.0.1:"), "{url}");
    assert_eq!(
        url,
        testkit::server_url(),
        "the URL is decided once per process"
    );
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let one: i32 = client
        .query_one("SELECT 1::int4", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(one, 1);
}

#[tokio::test]
async fn fresh_schema_has_the_partitioned_daily_summary() {
    let (client, schema) = testkit::fresh_schema("TestKit").await;
    assert!(schema.starts_with("testkit_"), "{schema}");
    assert_eq!(schema, schema.to_lowercase());

    let partitioned = client
        .query_one(
            "SELECT count(*) FROM pg_partitioned_table p \
             JOIN pg_class c ON c.oid = p.partrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname = 'reporting_ocpusagelineitem_daily_summary'",
            &[&schema],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(partitioned, 1, "the daily summary is a partitioned table");

    let default_partition = client
        .query_one(
            "SELECT count(*) FROM pg_inherits i \
             JOIN pg_class parent ON parent.oid = i.inhparent \
             JOIN pg_class child ON child.oid = i.inhrelid \
             JOIN pg_namespace n ON n.oid = parent.relnamespace \
             WHERE n.nspname = $1 AND parent.relname = 'reporting_ocpusagelineitem_daily_summary' \
               AND pg_get_expr(child.relpartbound, child.oid) = 'DEFAULT'",
            &[&schema],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(
        default_partition, 1,
        "the daily summary has a default partition"
    );

    let q = quote_ident(&schema);
    assert_eq!(
        count(
            &client,
            &format!("SELECT count(*) FROM {q}.reporting_ocpusagelineitem_daily_summary")
        )
        .await,
        0
    );
}

#[tokio::test]
async fn two_fresh_schemas_differ() {
    let (_a, first) = testkit::fresh_schema("twice").await;
    let (_b, second) = testkit::fresh_schema("twice").await;
    assert_ne!(first, second);
}

#[tokio::test]
async fn seeding_helpers_insert_what_they_say() {
    let (client, schema) = testkit::fresh_schema("seed").await;
    let q = quote_ident(&schema);

    testkit::enable_tag_keys(&client, &schema, &["app", "environment", "app"]).await;
    assert_eq!(
        count(
            &client,
            &format!(
                "SELECT count(*) FROM {q}.reporting_enabledtagkeys \
                 WHERE enabled AND provider_type = 'OCP' AND key IN ('app', 'environment')"
            )
        )
        .await,
        2
    );

    let ids = testkit::add_cost_category_patterns(
        &client,
        &schema,
        &[
            ("openshift-%", "Platform"),
            ("kube-%", "Platform"),
            ("team-a%", "Team A"),
        ],
    )
    .await;
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[0], ids[1], "one category for both Platform patterns");
    assert_ne!(ids[0], ids[2]);
    assert_eq!(
        count(
            &client,
            &format!("SELECT count(*) FROM {q}.reporting_ocp_cost_category")
        )
        .await,
        2
    );
    let platform_patterns = client
        .query_one(
            &format!(
                "SELECT count(*) FROM {q}.reporting_ocp_cost_category_namespace n \
                 JOIN {q}.reporting_ocp_cost_category c ON c.id = n.cost_category_id \
                 WHERE c.name = 'Platform' AND n.namespace IN ('openshift-%', 'kube-%')"
            ),
            &[],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(platform_patterns, 2);

    let source = "6795d5e6-951c-4382-a8d3-390515d7ec2d";
    let id = testkit::add_report_period(
        &client,
        &schema,
        source,
        "my-cluster",
        "My Cluster",
        2025,
        12,
    )
    .await;
    let again =
        testkit::add_report_period(&client, &schema, source, "my-cluster", "Renamed", 2025, 12)
            .await;
    assert_eq!(id, again, "the same period is one row");
    let row = client
        .query_one(
            &format!(
                "SELECT cluster_id, cluster_alias, provider_id::text, \
                        to_char(report_period_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), \
                        to_char(report_period_end AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') \
                 FROM {q}.reporting_ocpusagereportperiod WHERE id = $1"
            ),
            &[&id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "my-cluster");
    assert_eq!(row.get::<_, String>(1), "Renamed");
    assert_eq!(row.get::<_, String>(2), source);
    assert_eq!(row.get::<_, String>(3), "2025-12-01 00:00");
    assert_eq!(row.get::<_, String>(4), "2026-01-01 00:00");
    assert_eq!(
        count(
            &client,
            &format!("SELECT count(*) FROM {q}.reporting_ocpusagereportperiod")
        )
        .await,
        1
    );
}

/// The fallback path, exercised even when 127.0.0.1:5432 answers.
#[tokio::test]
async fn throwaway_cluster_answers_and_stops() {
    let server = tokio::task::spawn_blocking(testkit::start_throwaway)
        .await
        .unwrap();
    let url = server.url().to_string();
    assert_ne!(server.port(), 5432);
    assert_eq!(
        url,
        format!("postgresql://postgres@127.0.0.1:{}/postgres", server.port())
    );

    {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        let driver = tokio::spawn(connection);
        client
            .batch_execute("CREATE TABLE t (x int); INSERT INTO t VALUES (40), (2);")
            .await
            .unwrap();
        let sum: i64 = client
            .query_one("SELECT sum(x) FROM t", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(sum, 42);
        let fsync: String = client.query_one("SHOW fsync", &[]).await.unwrap().get(0);
        assert_eq!(fsync, "off");
        drop(client);
        let _ = driver.await;
    }

    tokio::task::spawn_blocking(move || server.stop())
        .await
        .unwrap();
    let refused = tokio_postgres::connect(&url, tokio_postgres::NoTls).await;
    assert!(refused.is_err(), "the cluster still answers after stop()");
}

#[tokio::test]
async fn s3_put_then_get_through_object_store() {
    let s3 = TestS3::start();
    let store = s3.object_store();
    let path = ObjectPath::from("data/openshift_pod_usage_line_items_daily/a.parquet");
    store
        .put(&path, PutPayload::from_static(b"hello koku"))
        .await
        .unwrap();
    let got = store.get(&path).await.unwrap().bytes().await.unwrap();
    assert_eq!(&got[..], b"hello koku");
    // Objects put through S3 are files of the bucket folder.
    let on_disk = std::fs::read(
        s3.bucket_dir
            .join("data/openshift_pod_usage_line_items_daily/a.parquet"),
    )
    .unwrap();
    assert_eq!(on_disk, b"hello koku");
}

#[tokio::test]
async fn s3_files_in_the_bucket_folder_are_objects() {
    let s3 = TestS3::start();
    let dir = s3
        .bucket_dir
        .join("org1234567/OCP/source=abc/year=2025/month=12");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("pod_usage.parquet"), b"0123456789").unwrap();
    std::fs::write(dir.join("node_labels.parquet"), b"xyz").unwrap();

    let store = s3.object_store();
    let listed: Vec<_> = store
        .list(Some(&ObjectPath::from("org1234567/OCP")))
        .try_collect()
        .await
        .unwrap();
    let mut keys: Vec<(String, u64)> = listed
        .iter()
        .map(|m| (m.location.to_string(), m.size))
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            (
                "org1234567/OCP/source=abc/year=2025/month=12/node_labels.parquet".to_string(),
                3
            ),
            (
                "org1234567/OCP/source=abc/year=2025/month=12/pod_usage.parquet".to_string(),
                10
            ),
        ]
    );

    let path = ObjectPath::from("org1234567/OCP/source=abc/year=2025/month=12/pod_usage.parquet");
    let whole = store.get(&path).await.unwrap().bytes().await.unwrap();
    assert_eq!(&whole[..], b"0123456789");
    let range = store.get_range(&path, 2..5).await.unwrap();
    assert_eq!(&range[..], b"234");
    assert_eq!(s3.url("x/y"), "s3://koku-bucket/x/y");
}

#[tokio::test]
async fn s3_refuses_wrong_credentials() {
    let s3 = TestS3::start();
    std::fs::write(s3.bucket_dir.join("secret.txt"), b"s").unwrap();
    let path = ObjectPath::from("secret.txt");
    // The right credentials read it, so a refusal below is about the credentials.
    s3.object_store().get(&path).await.unwrap();

    let wrong_secret = s3.object_store_with_credentials(&s3.access_key, "not-the-secret");
    let err = wrong_secret
        .get(&path)
        .await
        .expect_err("a wrong secret key must be refused");
    let message = err.to_string();
    assert!(
        !matches!(err, object_store::Error::NotFound { .. }),
        "refused for the wrong reason: {message}"
    );
    assert!(
        message.contains("SignatureDoesNotMatch") || message.contains("403"),
        "not an auth refusal: {message}"
    );

    let wrong_key = s3.object_store_with_credentials("nobody", &s3.secret_key);
    let err = wrong_key
        .put(
            &ObjectPath::from("intruder.txt"),
            PutPayload::from_static(b"x"),
        )
        .await
        .expect_err("an unknown access key must be refused");
    assert!(
        !s3.bucket_dir.join("intruder.txt").exists(),
        "refused put wrote a file: {err}"
    );
}

#[test]
fn s3_env_vars_name_the_server() {
    let s3 = TestS3::start();
    let env: std::collections::HashMap<_, _> = s3.env_vars().into_iter().collect();
    assert_eq!(env["AWS_ENDPOINT"], s3.endpoint);
    assert_eq!(env["AWS_ACCESS_KEY_ID"], s3.access_key);
    assert_eq!(env["AWS_SECRET_ACCESS_KEY"], s3.secret_key);
    assert_eq!(env["AWS_REGION"], "us-east-1");
    assert_eq!(env["AWS_ALLOW_HTTP"], "true");
    // Dropping outside any runtime stops the server too.
    let endpoint = s3.endpoint.clone();
    drop(s3);
    let addr = endpoint.trim_start_matches("http://");
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the server still listens after drop"
    );
}
