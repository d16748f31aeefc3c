//! The embedded oracle: the reference queries run by the pinned DuckDB CLI in a child process.
//!
//! One run, in a fresh temporary folder:
//! 1. the script ([`script`]), every text rendered for the run ([`render`], with koku's
//!    `storage_exists` from [`storage_exists`]) and translated to DuckDB:
//!    - [`setup_script`]: koku's tables as `hive.<schema>.*` views over the Parquet files and
//!      `postgres.<schema>.*` catalog tables, `reporting_ocp_nodes` holding the catalog's nodes;
//!    - koku's node step (spec §6.4): `CREATE TEMP TABLE node_roles_found AS <reference_node_roles.sql>`,
//!      then `populate_ocp_nodes.sql` merges it into `reporting_ocp_nodes`;
//!    - `COPY (<reference_summary.sql>) TO 'result.parquet' (FORMAT parquet)`;
//! 2. `duckdb -no-init -batch -bail -f script.sql` on an in-memory database, its own peak RSS
//!    sampled from `/proc/<pid>/status` (`VmHWM`) while it runs ([`crate::child_peak_memory`]:
//!    `wait4`'s `ru_maxrss` would start from the harness's own peak);
//! 3. `result.parquet` read back with arrow into [`ComparableRow`]s (labels canonicalised).
//!
//! [`DuckDbOracle::ocp_nodes`] runs the same script up to the node step and returns
//! `reporting_ocp_nodes` as the summary then reads it.
//!
//! DuckDB's own error output becomes [`OracleError::Query`]; the run's folder is then kept so the
//! script it names can be rerun by hand (`duckdb -f script.sql`).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Date32Type, Float64Type, Int32Type};
use arrow::record_batch::RecordBatch;
use ocp_engine::config::NodeRecord;
use ocp_engine::summary::Metric;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::dialect::{translate, Dialect};
use super::locate::locate_duckdb;
use super::query::{
    render, sql_identifier, sql_string, QueryParams, POPULATE_OCP_NODES_SQL,
    REFERENCE_NODE_ROLES_SQL, REFERENCE_SUMMARY_SQL,
};
use super::tables::{setup_script, storage_exists};
use super::{Oracle, OracleError, OracleRun};
use crate::child_peak_memory::{ChildRun, MeasuredChild};
use crate::compare::{canonical_json, ComparableRow, NaturalKey, WrittenColumns};

/// The file the script writes the rows to, in the run's folder.
const RESULT_FILE: &str = "result.parquet";

/// The reference query on DuckDB (see the module documentation).
#[derive(Debug, Clone)]
pub struct DuckDbOracle {
    binary: PathBuf,
    version: String,
}

impl DuckDbOracle {
    /// The oracle on the pinned CLI, found or installed by [`locate_duckdb`].
    pub fn locate() -> Result<Self, OracleError> {
        Self::with_binary(locate_duckdb()?)
    }

    /// The oracle on the DuckDB binary at `binary` (checked by asking its version).
    pub fn with_binary(binary: PathBuf) -> Result<Self, OracleError> {
        let output = Command::new(&binary)
            .arg("-version")
            .stdin(Stdio::null())
            .output()
            .map_err(|source| OracleError::Io {
                action: "run",
                path: binary.clone(),
                source,
            })?;
        let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
        if !output.status.success() || version.is_empty() {
            return Err(OracleError::Setup(format!(
                "{} -version failed ({}): is it a DuckDB CLI?",
                binary.display(),
                output.status
            )));
        }
        Ok(DuckDbOracle { binary, version })
    }

    /// The binary this oracle runs.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    fn engine_name(&self) -> String {
        format!("DuckDB {}", self.version)
    }

    /// `DuckDB <version>`, e.g. `DuckDB 1.5.6` (the number alone, without the CLI's `v`,
    /// codename and commit).
    pub fn short_name(&self) -> String {
        let number = self.version.split_whitespace().next().unwrap_or_default();
        format!("DuckDB {}", number.trim_start_matches('v'))
    }

    /// Writes into `dir` the script of one run for `query` ([`script`]) whose rows go to the
    /// Parquet file `result`; returns the script's path. Run it, as many times as wanted, with
    /// [`DuckDbOracle::run_timed`]: the benchmark times DuckDB this way, the rows not read back.
    pub fn write_script(
        &self,
        query: &QueryParams,
        dir: &Path,
        result: &Path,
    ) -> Result<PathBuf, OracleError> {
        let text = script(query, result)?;
        let path = dir.join("script.sql");
        std::fs::write(&path, text).map_err(|source| OracleError::Io {
            action: "write",
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    /// Runs `script` (from [`DuckDbOracle::write_script`]) with the CLI in `dir`: the child's
    /// wall clock and its own peak resident memory.
    pub fn run_timed(&self, dir: &Path, script: &Path) -> Result<ChildStats, OracleError> {
        self.run_script(dir, script)
    }
}

impl Oracle for DuckDbOracle {
    fn describe(&self) -> String {
        format!(
            "{} ({}) running harness/sql/reference_summary.sql",
            self.engine_name(),
            self.binary.display()
        )
    }

    fn run(&self, query: &QueryParams) -> Result<OracleRun, OracleError> {
        let (script, rows, child) = self.run_in_temp_dir(query, script, summary_rows_of)?;
        Ok(OracleRun {
            rows,
            elapsed: child.elapsed,
            peak_rss_bytes: child.peak_rss_bytes,
            query_text: script,
        })
    }
}

impl DuckDbOracle {
    /// `reporting_ocp_nodes` after koku's node step for `query` (spec §6.4): the catalog's rows,
    /// roles filled where they were missing, and a new row for each node found without one. This
    /// is the table the summary's unallocated rows take their roles from. Rows in no particular
    /// order; capacities as their numeric(18,2) values.
    pub fn ocp_nodes(&self, query: &QueryParams) -> Result<Vec<NodeRecord>, OracleError> {
        let (_, nodes, _) = self.run_in_temp_dir(query, nodes_script, nodes_of)?;
        Ok(nodes)
    }

    /// Runs the script `make_script(query, result file)` in a fresh temporary folder and reads
    /// the result file's batches with `read`: the script, the rows and how the child went. On a
    /// failed run the folder is kept, so the script the error names can be rerun by hand.
    fn run_in_temp_dir<T>(
        &self,
        query: &QueryParams,
        make_script: fn(&QueryParams, &Path) -> Result<String, OracleError>,
        read: fn(&RecordBatch) -> Result<Vec<T>, String>,
    ) -> Result<(String, Vec<T>, ChildStats), OracleError> {
        let dir = tempfile::Builder::new()
            .prefix("ocp-oracle-duckdb-")
            .tempdir()
            .map_err(|source| OracleError::Io {
                action: "create a temporary folder in",
                path: std::env::temp_dir(),
                source,
            })?;
        let result = dir.path().join(RESULT_FILE);
        let script = make_script(query, &result)?;
        let script_path = dir.path().join("script.sql");
        std::fs::write(&script_path, &script).map_err(|source| OracleError::Io {
            action: "write",
            path: script_path.clone(),
            source,
        })?;
        let child = match self.run_script(dir.path(), &script_path) {
            Ok(child) => child,
            Err(error) => {
                // Keep the folder: the error names its script, to rerun by hand.
                let _ = dir.keep();
                return Err(error);
            }
        };
        let rows = read_result(&result, read)?;
        Ok((script, rows, child))
    }
}

/// The script's beginning shared by [`script`] and [`nodes_script`]: the catalogs, then koku's
/// node step. Also says whether koku's storage table exists.
fn catalogs_and_node_step(query: &QueryParams) -> Result<(String, bool), OracleError> {
    let storage = storage_exists(query)?;
    let duckdb = |template| -> Result<String, OracleError> {
        Ok(translate(
            &render(template, query, storage)?,
            Dialect::DuckDb,
        )?)
    };
    let node_roles = duckdb(REFERENCE_NODE_ROLES_SQL)?;
    Ok((
        format!(
            "{}\n-- koku's node step before the summary (spec §6.4): the nodes found, then merged.\n\
             CREATE TEMP TABLE node_roles_found AS\n{};\n{}",
            setup_script(query)?,
            node_roles.trim_end(),
            duckdb(POPULATE_OCP_NODES_SQL)?
        ),
        storage,
    ))
}

/// The whole DuckDB script of one run: catalogs, node step, then the reference query's rows
/// copied to `result`.
pub fn script(query: &QueryParams, result: &Path) -> Result<String, OracleError> {
    let (prelude, storage) = catalogs_and_node_step(query)?;
    let sql = translate(
        &render(REFERENCE_SUMMARY_SQL, query, storage)?,
        Dialect::DuckDb,
    )?;
    Ok(format!(
        "{prelude}\nCOPY (\n{}\n) TO {} (FORMAT parquet);\n",
        sql.trim_end(),
        sql_string(&result.display().to_string())
    ))
}

/// The script of [`DuckDbOracle::ocp_nodes`]: catalogs, node step, then `reporting_ocp_nodes`
/// copied to `result`.
fn nodes_script(query: &QueryParams, result: &Path) -> Result<String, OracleError> {
    let (prelude, _) = catalogs_and_node_step(query)?;
    Ok(format!(
        "{prelude}\nCOPY (\nSELECT node, resource_id, \
         CAST(node_capacity_cpu_cores AS DOUBLE) AS node_capacity_cpu_cores, cluster_id, node_role\n\
         FROM postgres.{}.reporting_ocp_nodes\n) TO {} (FORMAT parquet);\n",
        sql_identifier(&query.schema)?,
        sql_string(&result.display().to_string())
    ))
}

/// How the child process went.
#[derive(Debug, Clone, Copy)]
pub struct ChildStats {
    /// Wall clock from just before the spawn to the exit.
    pub elapsed: Duration,
    /// The child's own peak resident set size ([`crate::child_peak_memory`]).
    pub peak_rss_bytes: Option<u64>,
}

impl DuckDbOracle {
    /// Runs `script` with the CLI in `dir`; DuckDB's output becomes the error on failure.
    fn run_script(&self, dir: &Path, script: &Path) -> Result<ChildStats, OracleError> {
        let mut child = MeasuredChild::spawn(
            Command::new(&self.binary)
                .args(["-no-init", "-batch", "-bail", "-f"])
                .arg(script)
                .current_dir(dir)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        )
        .map_err(|source| OracleError::Io {
            action: "start",
            path: self.binary.clone(),
            source,
        })?;
        let stdout = drain(child.take_stdout());
        let stderr = drain(child.take_stderr());
        let ChildRun {
            status,
            elapsed,
            peak_rss_bytes,
        } = child.wait().map_err(|source| OracleError::Io {
            action: "wait for",
            path: self.binary.clone(),
            source,
        })?;
        let (stdout, stderr) = (joined(stdout), joined(stderr));
        if !status.success() {
            let message = [stderr.trim(), stdout.trim()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("\n");
            return Err(OracleError::Query {
                engine: self.engine_name(),
                message: format!("{message} ({status}; script {})", script.display()),
            });
        }
        Ok(ChildStats {
            elapsed,
            peak_rss_bytes,
        })
    }
}

/// Reads a child's pipe to the end on a thread, so a full pipe never blocks the child.
fn drain(pipe: Option<impl Read + Send + 'static>) -> Option<JoinHandle<String>> {
    pipe.map(|mut pipe| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    })
}

fn joined(reader: Option<JoinHandle<String>>) -> String {
    reader
        .and_then(|handle| handle.join().ok())
        .unwrap_or_default()
}

/// The summary rows of a Parquet file with koku's column names, as the reference query's
/// result and the engine's output file (`--out x.parquet`: decimals, dates, text) both carry
/// them: what an oracle's rows are compared with can be the file a run wrote.
pub fn summary_rows_in(path: &Path) -> Result<Vec<ComparableRow>, OracleError> {
    read_result(path, summary_rows_of)
}

/// The rows of a result file, each batch read by `read`.
fn read_result<T>(
    path: &Path,
    read: fn(&RecordBatch) -> Result<Vec<T>, String>,
) -> Result<Vec<T>, OracleError> {
    let fail = |message: String| OracleError::Result {
        path: path.to_path_buf(),
        message,
    };
    let file = File::open(path).map_err(|e| fail(e.to_string()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|builder| builder.build())
        .map_err(|e| fail(e.to_string()))?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| fail(e.to_string()))?;
        rows.extend(read(&batch).map_err(fail)?);
    }
    Ok(rows)
}

/// The batch's column `name` cast to `ty`; an error names the column.
fn column_as(batch: &RecordBatch, name: &str, ty: DataType) -> Result<ArrayRef, String> {
    let array = batch
        .column_by_name(name)
        .ok_or_else(|| format!("no column {name}"))?;
    arrow::compute::cast(array, &ty).map_err(|e| format!("column {name}: {e}"))
}

/// The `reporting_ocp_nodes` rows of a batch written by [`nodes_script`].
fn nodes_of(batch: &RecordBatch) -> Result<Vec<NodeRecord>, String> {
    let column = |name: &str, ty: DataType| column_as(batch, name, ty);
    let text = |name: &str| column(name, DataType::Utf8);
    let (node, resource_id) = (text("node")?, text("resource_id")?);
    let (cluster_id, node_role) = (text("cluster_id")?, text("node_role")?);
    let cores = column("node_capacity_cpu_cores", DataType::Float64)?;
    let cores = cores.as_primitive::<Float64Type>();
    let string = |array: &ArrayRef, i: usize| {
        let array = array.as_string::<i32>();
        array.is_valid(i).then(|| array.value(i).to_string())
    };
    (0..batch.num_rows())
        .map(|i| {
            Ok(NodeRecord {
                node: string(&node, i).ok_or("node is NULL")?,
                resource_id: string(&resource_id, i),
                node_capacity_cpu_cores: cores.is_valid(i).then(|| cores.value(i)),
                cluster_id: string(&cluster_id, i),
                node_role: string(&node_role, i),
            })
        })
        .collect::<Result<Vec<_>, &str>>()
        .map_err(str::to_string)
}

/// The batch's rows, columns found by name (koku's column names) and cast to the types read.
pub fn summary_rows_of(batch: &RecordBatch) -> Result<Vec<ComparableRow>, String> {
    let column = |name: &str, ty: DataType| column_as(batch, name, ty);
    let text = |name: &str| column(name, DataType::Utf8);
    let data_source = text("data_source")?;
    let usage_start = column("usage_start", DataType::Date32)?;
    let namespace = text("namespace")?;
    let node = text("node")?;
    let resource_id = text("resource_id")?;
    let pvc = text("persistentvolumeclaim")?;
    let pv = text("persistentvolume")?;
    let storageclass = text("storageclass")?;
    let pod_labels = text("pod_labels")?;
    let volume_labels = text("volume_labels")?;
    let cost_category_id = column("cost_category_id", DataType::Int32)?;
    let usage_end = column("usage_end", DataType::Date32)?;
    let all_labels = text("all_labels")?;
    let infrastructure_usage_cost = text("infrastructure_usage_cost")?;
    let report_period_id = column("report_period_id", DataType::Int32)?;
    let cluster_id = text("cluster_id")?;
    let cluster_alias = text("cluster_alias")?;
    let source_uuid = text("source_uuid")?;
    let metrics = Metric::ALL
        .iter()
        .map(|m| column(m.column(), DataType::Float64))
        .collect::<Result<Vec<_>, _>>()?;

    let string = |array: &ArrayRef, i: usize| {
        let array = array.as_string::<i32>();
        array.is_valid(i).then(|| array.value(i).to_string())
    };
    let labels = |array: &ArrayRef, i: usize| string(array, i).map(|t| canonical_json(&t));
    let dates = usage_start.as_primitive::<Date32Type>();
    let end_dates = usage_end.as_primitive::<Date32Type>();
    let period_ids = report_period_id.as_primitive::<Int32Type>();
    let ids = cost_category_id.as_primitive::<Int32Type>();
    (0..batch.num_rows())
        .map(|i| {
            let key = NaturalKey {
                data_source: string(&data_source, i).ok_or("data_source is NULL")?,
                usage_start: dates
                    .is_valid(i)
                    .then(|| dates.value_as_date(i))
                    .flatten()
                    .ok_or("usage_start is NULL")?,
                namespace: string(&namespace, i),
                node: string(&node, i),
                resource_id: string(&resource_id, i),
                persistentvolumeclaim: string(&pvc, i),
                persistentvolume: string(&pv, i),
                storageclass: string(&storageclass, i),
                pod_labels: labels(&pod_labels, i),
                volume_labels: labels(&volume_labels, i),
                written: WrittenColumns {
                    usage_end: end_dates
                        .is_valid(i)
                        .then(|| end_dates.value_as_date(i))
                        .flatten(),
                    all_labels: labels(&all_labels, i),
                    infrastructure_usage_cost: labels(&infrastructure_usage_cost, i),
                    report_period_id: period_ids.is_valid(i).then(|| period_ids.value(i)),
                    cluster_id: string(&cluster_id, i),
                    cluster_alias: string(&cluster_alias, i),
                    source_uuid: string(&source_uuid, i),
                },
            };
            let mut values = [None; 18];
            for (value, array) in values.iter_mut().zip(&metrics) {
                let array = array.as_primitive::<Float64Type>();
                *value = array.is_valid(i).then(|| array.value(i));
            }
            Ok(ComparableRow {
                key,
                cost_category_id: ids.is_valid(i).then(|| ids.value(i)),
                metrics: values,
            })
        })
        .collect::<Result<Vec<_>, &str>>()
        .map_err(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_short_name_is_the_version_number_alone() {
        let oracle = DuckDbOracle {
            binary: PathBuf::from("duckdb"),
            version: "v1.5.6 (Variegata) 069cc9f9b5".to_string(),
        };
        assert_eq!(oracle.short_name(), "DuckDB 1.5.6");
        assert_eq!(oracle.engine_name(), "DuckDB v1.5.6 (Variegata) 069cc9f9b5");
    }
}
