//! The read phase: the four tables the Pod rows need, scanned in parallel and reduced to compact,
//! interned rows (spec §2.2). What stays in memory is one record per pod-day, the distinct label
//! rows per day, and one capacity pair per (node, hour): never the hourly rows themselves.

use std::collections::{HashMap, HashSet};

use arrow::array::Array;

use crate::capacity::{HourlyCapacity, NodeCapacity};
use crate::error::{Error, Result};
use crate::source::{Batch, ColumnSpec, MonthScan, Table};
use crate::window::{day_of_millis, Day};

/// Identifier of an interned name (namespace, node or resource id).
pub type NameId = u32;
/// Identifier of an interned raw label text.
pub type RawLabelId = u32;

/// Interned strings, each with the file it was first seen in (for error messages).
#[derive(Debug, Default)]
pub struct Interner {
    ids: HashMap<String, u32>,
    texts: Vec<String>,
    first_file: Vec<u32>,
}

impl Interner {
    fn intern(&mut self, text: &str, file: u32) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = self.texts.len() as u32;
        self.ids.insert(text.to_string(), id);
        self.texts.push(text.to_string());
        self.first_file.push(file);
        id
    }

    pub fn text(&self, id: u32) -> &str {
        &self.texts[id as usize]
    }

    /// Index (into [`Inputs::files`]) of the first file the text was seen in.
    pub fn first_file(&self, id: u32) -> u32 {
        self.first_file[id as usize]
    }

    pub fn id(&self, text: &str) -> Option<u32> {
        self.ids.get(text).copied()
    }
}

/// Metric sums of one daily pod row, in this order (spec §3 Pod table).
pub const POD_CPU_USAGE: usize = 0;
pub const POD_CPU_REQUEST: usize = 1;
pub const POD_CPU_EFFECTIVE: usize = 2;
pub const POD_CPU_LIMIT: usize = 3;
pub const POD_MEMORY_USAGE: usize = 4;
pub const POD_MEMORY_REQUEST: usize = 5;
pub const POD_MEMORY_EFFECTIVE: usize = 6;
pub const POD_MEMORY_LIMIT: usize = 7;

/// One row of `openshift_pod_usage_line_items_daily` in the window.
#[derive(Debug, Clone, PartialEq)]
pub struct PodDay {
    pub day: Day,
    pub namespace: Option<NameId>,
    pub node: Option<NameId>,
    pub pod: Option<NameId>,
    pub resource_id: Option<NameId>,
    pub labels: Option<RawLabelId>,
    /// Seconds and byte-seconds, indexed by the `POD_*` constants. The effective columns already
    /// hold `coalesce(effective, greatest(usage, request))` (spec §3).
    pub seconds: [Option<f64>; 8],
    pub node_capacity_cpu_cores: Option<f64>,
    pub node_capacity_memory_bytes: Option<f64>,
}

/// A distinct (day, node or namespace, raw labels) row of a label table.
pub type LabelRow = (Day, Option<NameId>, Option<RawLabelId>);

/// Everything the later phases need from the Parquet.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Paths of the files read, indexed by the interners' `first_file`.
    pub files: Vec<String>,
    pub names: Interner,
    pub raw_labels: Interner,
    pub pod_days: Vec<PodDay>,
    pub node_labels: Vec<LabelRow>,
    pub namespace_labels: Vec<LabelRow>,
    pub capacity: NodeCapacity,
    /// Files read per table (Trino table name → count).
    pub files_per_table: Vec<(String, usize)>,
}

const POD_DAILY_COLUMNS: &[ColumnSpec] = &[
    ColumnSpec::timestamp("interval_start"),
    ColumnSpec::text("namespace"),
    ColumnSpec::text("node"),
    ColumnSpec::text("pod"),
    ColumnSpec::text("resource_id"),
    ColumnSpec::text("pod_labels"),
    ColumnSpec::double("pod_usage_cpu_core_seconds"),
    ColumnSpec::double("pod_request_cpu_core_seconds"),
    ColumnSpec::double("pod_effective_usage_cpu_core_seconds"),
    ColumnSpec::double("pod_limit_cpu_core_seconds"),
    ColumnSpec::double("pod_usage_memory_byte_seconds"),
    ColumnSpec::double("pod_request_memory_byte_seconds"),
    ColumnSpec::double("pod_effective_usage_memory_byte_seconds"),
    ColumnSpec::double("pod_limit_memory_byte_seconds"),
    ColumnSpec::double("node_capacity_cpu_cores"),
    ColumnSpec::double("node_capacity_memory_bytes"),
];

const POD_HOURLY_COLUMNS: &[ColumnSpec] = &[
    ColumnSpec::timestamp("interval_start"),
    ColumnSpec::text("node"),
    ColumnSpec::double("node_capacity_cpu_core_seconds"),
    ColumnSpec::double("node_capacity_memory_byte_seconds"),
];

const NODE_LABEL_COLUMNS: &[ColumnSpec] = &[
    ColumnSpec::timestamp("interval_start"),
    ColumnSpec::text("node"),
    ColumnSpec::text("node_labels"),
];

const NAMESPACE_LABEL_COLUMNS: &[ColumnSpec] = &[
    ColumnSpec::timestamp("interval_start"),
    ColumnSpec::text("namespace"),
    ColumnSpec::text("namespace_labels"),
];

/// Distinct (day, name, labels) texts of one label file.
type LabelTexts = HashSet<(Day, Option<String>, Option<String>)>;

/// Reads the pod-usage (daily and hourly), node-label and namespace-label tables of `partition`
/// in `window`, all four concurrently.
///
/// Fails with bad input when the partition has no daily pod-usage file at all; a month without
/// label files simply has no labels of that kind (koku's LEFT JOINs find nothing).
pub async fn read_inputs(scan: MonthScan<'_>) -> Result<Inputs> {
    let (pod_daily, hourly, node_labels, namespace_labels) = tokio::try_join!(
        scan.table(
            Table::POD_USAGE_DAILY,
            POD_DAILY_COLUMNS,
            Vec::new,
            |batches: &mut Vec<Batch>, batch| {
                batches.push(batch.clone());
                Ok(())
            }
        ),
        scan.table(
            Table::POD_USAGE_HOURLY,
            POD_HOURLY_COLUMNS,
            HourlyCapacity::default,
            |capacity, batch| {
                capacity.add_batch(batch);
                Ok(())
            }
        ),
        scan.table(
            Table::NODE_LABELS_DAILY,
            NODE_LABEL_COLUMNS,
            LabelTexts::new,
            collect_label_texts
        ),
        scan.table(
            Table::NAMESPACE_LABELS_DAILY,
            NAMESPACE_LABEL_COLUMNS,
            LabelTexts::new,
            collect_label_texts
        ),
    )?;
    let (source, partition) = (scan.source, scan.partition);
    if pod_daily.is_empty() {
        return Err(Error::input(format!(
            "no pod-usage files for source {} in {:04}-{:02}: nothing under {}/{}. Check the \
             source UUID, the account and the month, and that koku has converted the month's \
             reports to Parquet.",
            partition.source_uuid,
            partition.year,
            partition.month,
            source.display.trim_end_matches('/'),
            partition.prefix(Table::POD_USAGE_DAILY)
        )));
    }
    let mut inputs = Inputs {
        files_per_table: vec![
            (Table::POD_USAGE_DAILY.trino_name(), pod_daily.len()),
            (Table::POD_USAGE_HOURLY.trino_name(), hourly.len()),
            (Table::NODE_LABELS_DAILY.trino_name(), node_labels.len()),
            (
                Table::NAMESPACE_LABELS_DAILY.trino_name(),
                namespace_labels.len(),
            ),
        ],
        capacity: NodeCapacity::from_hourly(hourly.into_iter().map(|(_, partial)| partial)),
        ..Inputs::default()
    };
    for (file, batches) in pod_daily {
        let file = inputs.add_file(file);
        for batch in &batches {
            inputs.add_pod_days(batch, file);
        }
    }
    inputs.node_labels = inputs.intern_label_rows(node_labels);
    inputs.namespace_labels = inputs.intern_label_rows(namespace_labels);
    Ok(inputs)
}

fn collect_label_texts(texts: &mut LabelTexts, batch: &Batch) -> Result<()> {
    let (millis, names, labels) = (batch.millis(0), batch.text(1), batch.text(2));
    for row in 0..batch.num_rows {
        texts.insert((
            day_of_millis(millis.value(row)),
            names.is_valid(row).then(|| names.value(row).to_string()),
            labels.is_valid(row).then(|| labels.value(row).to_string()),
        ));
    }
    Ok(())
}

impl Inputs {
    fn add_file(&mut self, file: String) -> u32 {
        self.files.push(file);
        (self.files.len() - 1) as u32
    }

    fn add_pod_days(&mut self, batch: &Batch, file: u32) {
        let millis = batch.millis(0);
        let seconds: Vec<_> = (6..14).map(|i| batch.double(i)).collect();
        for row in 0..batch.num_rows {
            let text = |column: usize, interner: &mut Interner| {
                let array = batch.text(column);
                array
                    .is_valid(row)
                    .then(|| interner.intern(array.value(row), file))
            };
            let namespace = text(1, &mut self.names);
            let node = text(2, &mut self.names);
            let pod = text(3, &mut self.names);
            let resource_id = text(4, &mut self.names);
            let labels = text(5, &mut self.raw_labels);
            let mut values = [None; 8];
            for (value, column) in values.iter_mut().zip(&seconds) {
                *value = column.is_valid(row).then(|| column.value(row));
            }
            // Trino: coalesce(effective, greatest(usage, request)); greatest is NULL if any
            // argument is NULL (spec §3, §7.4).
            for (effective, usage, request) in [
                (POD_CPU_EFFECTIVE, POD_CPU_USAGE, POD_CPU_REQUEST),
                (POD_MEMORY_EFFECTIVE, POD_MEMORY_USAGE, POD_MEMORY_REQUEST),
            ] {
                if values[effective].is_none() {
                    values[effective] = match (values[usage], values[request]) {
                        (Some(u), Some(r)) => Some(u.max(r)),
                        _ => None,
                    };
                }
            }
            let optional = |i: usize| {
                let column = batch.double(i);
                column.is_valid(row).then(|| column.value(row))
            };
            self.pod_days.push(PodDay {
                day: day_of_millis(millis.value(row)),
                namespace,
                node,
                pod,
                resource_id,
                labels,
                seconds: values,
                node_capacity_cpu_cores: optional(14),
                node_capacity_memory_bytes: optional(15),
            });
        }
    }

    fn intern_label_rows(&mut self, partials: Vec<(String, LabelTexts)>) -> Vec<LabelRow> {
        let mut rows = HashSet::new();
        for (file, texts) in partials {
            let file = self.add_file(file);
            for (day, name, labels) in texts {
                let name = name.map(|n| self.names.intern(&n, file));
                let labels = labels.map(|l| self.raw_labels.intern(&l, file));
                rows.insert((day, name, labels));
            }
        }
        let mut rows: Vec<LabelRow> = rows.into_iter().collect();
        rows.sort_unstable();
        rows
    }

    /// The first day with daily pod-usage rows in the window (koku moves the start date up to
    /// it before deleting and summarising: spec §1.2 step 1).
    pub fn first_pod_day(&self) -> Option<Day> {
        self.pod_days.iter().map(|p| p.day).min()
    }
}
