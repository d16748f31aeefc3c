//! `ocp-harness load-onprem` (and `generate --to-postgres`): a koku Parquet tree loaded into
//! koku's on-prem line-item tables in PostgreSQL, as koku's on-prem ingest would have written the
//! same reports, for the engine's PostgreSQL source.

use std::path::{Path, PathBuf};
use std::time::Instant;

use ocp_engine::postgres::connect;
use ocp_engine::redact::redact_password;
use ocp_harness::onprem_tables::load_parquet_tree;

#[derive(clap::Args)]
pub struct LoadArgs {
    /// Folder holding koku's data/parquet tree (what `generate --out` wrote).
    #[arg(long, value_name = "DIR")]
    pub input: PathBuf,
    /// koku's account folder under data/parquet (the generated clusters use org1234567).
    #[arg(long, value_name = "ACCOUNT", default_value = "org1234567")]
    pub account: String,
    /// The database to load into, e.g. postgresql://koku@db:5432/koku.
    #[arg(long, value_name = "URL", env = "OCP_ENGINE_POSTGRES_URL")]
    pub postgres_url: String,
    /// The tenant schema that gets the line-item tables (created if missing).
    #[arg(long, value_name = "SCHEMA", env = "OCP_ENGINE_SCHEMA")]
    pub schema: String,
}

/// Loads the tree `args` names; prints what it loaded.
pub fn run_load(args: &LoadArgs) -> Result<(), String> {
    load_into(&args.postgres_url, &args.schema, &args.input, &args.account)
}

/// Loads every Parquet file of `account` under `dir` into the on-prem tables of `schema`.
pub fn load_into(url: &str, schema: &str, dir: &Path, account: &str) -> Result<(), String> {
    let started = Instant::now();
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("no async runtime: {e}"))?;
    let loaded = runtime.block_on(async {
        let client = connect(url).await.map_err(|e| e.to_string())?;
        load_parquet_tree(&client, dir, account, schema)
            .await
            .map_err(|e| e.to_string())
    })?;
    println!(
        "Loaded {} into koku's on-prem tables of schema {schema} at {}",
        dir.display(),
        redact_password(url)
    );
    for table in &loaded {
        println!(
            "  {:<45} {:>5} files {:>10} rows",
            table.name, table.files, table.rows
        );
    }
    if loaded.iter().all(|t| t.files == 0) {
        return Err(format!(
            "no Parquet file of account {account} under {}/data/parquet: check --input and \
             --account",
            dir.display()
        ));
    }
    println!("in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
