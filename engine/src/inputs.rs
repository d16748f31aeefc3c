//! The read phase: the five tables the summary reads, scanned in parallel and reduced to compact,
//! interned rows (spec §2.2). What stays in memory is one record per pod-day and per volume-day,
//! the distinct label rows per day, and one capacity pair per (node, hour): never the hourly rows
//! themselves.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use arrow::array::Array;

use crate::capacity::{HourlyCapacity, NodeCapacity};
use crate::error::{Error, Problem, Result};
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
}

/// A row's nullable doubles, packed: the values and one bit per value telling whether it is
/// present (a NULL costs a bit here, where each `Option<f64>` adds eight bytes to the millions of
/// daily records a large month holds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Doubles<const N: usize> {
    values: [f64; N],
    present: u16,
}

impl<const N: usize> Doubles<N> {
    /// The values `value(0)`, …, `value(N - 1)`.
    pub fn from_fn(mut value: impl FnMut(usize) -> Option<f64>) -> Self {
        const { assert!(N <= 16, "one bit of `present` per value") };
        let mut doubles = Doubles {
            values: [0.0; N],
            present: 0,
        };
        for i in 0..N {
            if let Some(v) = value(i) {
                doubles.values[i] = v;
                doubles.present |= 1 << i;
            }
        }
        doubles
    }

    /// Value `i`, `None` where it is NULL.
    pub fn get(&self, i: usize) -> Option<f64> {
        (self.present & (1 << i) != 0).then_some(self.values[i])
    }

    /// Every value, `None` where NULL.
    pub fn all(&self) -> [Option<f64>; N] {
        std::array::from_fn(|i| self.get(i))
    }
}

/// The daily pod row's doubles, in this order: its metric sums (spec §3 Pod table), then the
/// node's capacity.
pub const POD_CPU_USAGE: usize = 0;
pub const POD_CPU_REQUEST: usize = 1;
pub const POD_CPU_EFFECTIVE: usize = 2;
pub const POD_CPU_LIMIT: usize = 3;
pub const POD_MEMORY_USAGE: usize = 4;
pub const POD_MEMORY_REQUEST: usize = 5;
pub const POD_MEMORY_EFFECTIVE: usize = 6;
pub const POD_MEMORY_LIMIT: usize = 7;
pub const NODE_CAPACITY_CPU_CORES: usize = 8;
pub const NODE_CAPACITY_MEMORY_BYTES: usize = 9;
/// How many of the `POD_*` metric sums there are: the first of a [`PodDay`]'s values.
pub const POD_METRICS: usize = 8;

/// One row of `openshift_pod_usage_line_items_daily` in the window.
#[derive(Debug, Clone, PartialEq)]
pub struct PodDay {
    pub day: Day,
    pub namespace: Option<NameId>,
    pub node: Option<NameId>,
    pub pod: Option<NameId>,
    pub resource_id: Option<NameId>,
    pub labels: Option<RawLabelId>,
    /// Seconds and byte-seconds as read, indexed by the `POD_*` constants, then the node's
    /// capacity (`NODE_CAPACITY_*`). The effective columns may be NULL; the Pod rows fall back to
    /// `greatest(usage, request)` (`pod::effective_seconds`).
    pub values: Doubles<10>,
    /// `node_role` as the operator sent it (NULL when it did not; spec §2.2, §6.4).
    pub node_role: Option<NameId>,
}

/// Byte-second sums and capacity of one storage row, in this order (spec §2.2).
pub const PVC_CAPACITY_BYTES: usize = 0;
pub const PVC_CAPACITY_BYTE_SECONDS: usize = 1;
pub const VOLUME_REQUEST_BYTE_SECONDS: usize = 2;
pub const PVC_USAGE_BYTE_SECONDS: usize = 3;

/// One row of `openshift_storage_usage_line_items_daily` in the window. Its own `node` column is
/// not read: the summary takes the node from the pod that mounts the claim (spec §6.3).
#[derive(Debug, Clone, PartialEq)]
pub struct StorageDay {
    pub day: Day,
    pub namespace: Option<NameId>,
    pub pod: Option<NameId>,
    pub persistentvolumeclaim: Option<NameId>,
    pub persistentvolume: Option<NameId>,
    pub storageclass: Option<NameId>,
    pub csi_volume_handle: Option<NameId>,
    pub persistentvolume_labels: Option<RawLabelId>,
    pub persistentvolumeclaim_labels: Option<RawLabelId>,
    /// Indexed by the `PVC_*`/`VOLUME_*` constants.
    pub values: Doubles<4>,
}

/// A record of a daily table, which knows its day.
pub trait Daily {
    fn day(&self) -> Day;
}

impl Daily for PodDay {
    fn day(&self) -> Day {
        self.day
    }
}

impl Daily for StorageDay {
    fn day(&self) -> Day {
        self.day
    }
}

/// Daily records grouped by day, the days ascending. Within a day the records stay in the order
/// they were read, so every sum over a day adds its terms as one pass over the files in order
/// would; and no month-long vector is ever sorted or doubled.
#[derive(Debug)]
pub struct ByDay<T> {
    days: BTreeMap<Day, Vec<T>>,
}

impl<T> Default for ByDay<T> {
    fn default() -> Self {
        ByDay {
            days: BTreeMap::new(),
        }
    }
}

impl<T: Daily> ByDay<T> {
    pub fn push(&mut self, record: T) {
        self.days.entry(record.day()).or_default().push(record);
    }
}

impl<T> ByDay<T> {
    /// Every record, day after day.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.days.values().flatten()
    }

    /// The records of `day` (none when it has none).
    pub fn of(&self, day: Day) -> &[T] {
        self.days.get(&day).map_or(&[], Vec::as_slice)
    }

    fn first_day(&self) -> Option<Day> {
        self.days.keys().next().copied()
    }
}

/// The daily rows of one day: what the Pod, Storage and unallocated rows of that day are computed
/// from (every group of koku's script has the day in its key, spec §3).
#[derive(Debug, Clone, Copy)]
pub struct DayRows<'a> {
    pub pods: &'a [PodDay],
    pub volumes: &'a [StorageDay],
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
    pub pod_days: ByDay<PodDay>,
    pub storage_days: ByDay<StorageDay>,
    /// Whether the partition has a daily storage-usage table at all (koku's `storage_exists`,
    /// spec §12.9): without one there are no Storage rows.
    pub storage_exists: bool,
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
    ColumnSpec::optional_text("node_role"),
];

const STORAGE_DAILY_COLUMNS: &[ColumnSpec] = &[
    ColumnSpec::timestamp("interval_start"),
    ColumnSpec::text("namespace"),
    ColumnSpec::text("pod"),
    ColumnSpec::text("persistentvolumeclaim"),
    ColumnSpec::text("persistentvolume"),
    ColumnSpec::text("storageclass"),
    ColumnSpec::optional_text("csi_volume_handle"),
    ColumnSpec::text("persistentvolume_labels"),
    ColumnSpec::text("persistentvolumeclaim_labels"),
    ColumnSpec::double("persistentvolumeclaim_capacity_bytes"),
    ColumnSpec::double("persistentvolumeclaim_capacity_byte_seconds"),
    ColumnSpec::double("volume_request_storage_byte_seconds"),
    ColumnSpec::double("persistentvolumeclaim_usage_byte_seconds"),
];

pub const POD_HOURLY_COLUMNS: &[ColumnSpec] = &[
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

/// Reads the pod-usage (daily and hourly), storage-usage, node-label and namespace-label tables
/// of `partition` in `window`, all five concurrently.
///
/// Fails with bad input when the partition has no daily pod-usage and no daily storage-usage file
/// at all; a month without label or storage files simply has no labels or volumes of that kind (koku's LEFT JOINs find
/// nothing; its Storage branch is left out).
pub async fn read_inputs(scan: MonthScan<'_>) -> Result<Inputs> {
    // The daily pod rows are interned file by file, in the files' order, as they arrive; the
    // storage rows (far fewer) after them, so that every id is what one pass in file order gives.
    let mut inputs = Inputs::default();
    let mut pod_files = 0;
    let intern_pod_file = |file: String, batches: Vec<Batch>| {
        let file = inputs.add_file(file);
        for batch in &batches {
            inputs.add_pod_days(batch, file);
        }
        pod_files += 1;
        Ok(())
    };
    let (_, storage_daily, hourly, node_labels, namespace_labels) = tokio::try_join!(
        scan.each_file(
            Table::POD_USAGE_DAILY,
            POD_DAILY_COLUMNS,
            Vec::new,
            keep_batch,
            intern_pod_file
        ),
        scan.table(
            Table::STORAGE_USAGE_DAILY,
            STORAGE_DAILY_COLUMNS,
            Vec::new,
            keep_batch
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
    // koku runs the script on a month whose storage table has files even without pod usage
    // (Storage rows without nodes); a month with neither is a wrong source, account or month.
    if pod_files == 0 && storage_daily.is_empty() {
        let searched = source.searched(partition, Table::POD_USAGE_DAILY);
        let message = format!(
            "no pod-usage data for source {} in {:04}-{:02}: nothing in {searched}. {}",
            partition.source_uuid,
            partition.year,
            partition.month,
            source.no_data_hint()
        );
        return Err(Error::input(Problem::NoData { searched }, message));
    }
    inputs.files_per_table = vec![
        (Table::POD_USAGE_DAILY.trino_name(), pod_files),
        (Table::STORAGE_USAGE_DAILY.trino_name(), storage_daily.len()),
        (Table::POD_USAGE_HOURLY.trino_name(), hourly.len()),
        (Table::NODE_LABELS_DAILY.trino_name(), node_labels.len()),
        (
            Table::NAMESPACE_LABELS_DAILY.trino_name(),
            namespace_labels.len(),
        ),
    ];
    inputs.capacity = NodeCapacity::from_hourly(hourly.into_iter().map(|(_, partial)| partial));
    inputs.storage_exists = !storage_daily.is_empty();
    for (file, batches) in storage_daily {
        let file = inputs.add_file(file);
        for batch in &batches {
            inputs.add_storage_days(batch, file);
        }
    }
    inputs.node_labels = inputs.intern_label_rows(node_labels);
    inputs.namespace_labels = inputs.intern_label_rows(namespace_labels);
    Ok(inputs)
}

/// Keeps a file's batches of a daily table whole, to be interned in file order.
fn keep_batch(batches: &mut Vec<Batch>, batch: &Batch) -> Result<()> {
    batches.push(batch.clone());
    Ok(())
}

/// The value of a nullable double column at `row`.
fn double_at(batch: &Batch, column: usize, row: usize) -> Option<f64> {
    let array = batch.double(column);
    array.is_valid(row).then(|| array.value(row))
}

/// The interned value of a nullable text column at `row`.
fn text_at(
    batch: &Batch,
    column: usize,
    row: usize,
    interner: &mut Interner,
    file: u32,
) -> Option<u32> {
    let array = batch.text(column);
    array
        .is_valid(row)
        .then(|| interner.intern(array.value(row), file))
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
        for row in 0..batch.num_rows {
            // Columns 6..=15: the eight metric sums, then the node's two capacities.
            let values = Doubles::from_fn(|i| double_at(batch, 6 + i, row));
            let names = &mut self.names;
            self.pod_days.push(PodDay {
                day: day_of_millis(millis.value(row)),
                namespace: text_at(batch, 1, row, names, file),
                node: text_at(batch, 2, row, names, file),
                pod: text_at(batch, 3, row, names, file),
                resource_id: text_at(batch, 4, row, names, file),
                labels: text_at(batch, 5, row, &mut self.raw_labels, file),
                values,
                node_role: text_at(batch, 16, row, names, file),
            });
        }
    }

    fn add_storage_days(&mut self, batch: &Batch, file: u32) {
        let millis = batch.millis(0);
        for row in 0..batch.num_rows {
            let values = Doubles::from_fn(|i| double_at(batch, 9 + i, row));
            let names = &mut self.names;
            self.storage_days.push(StorageDay {
                day: day_of_millis(millis.value(row)),
                namespace: text_at(batch, 1, row, names, file),
                pod: text_at(batch, 2, row, names, file),
                persistentvolumeclaim: text_at(batch, 3, row, names, file),
                persistentvolume: text_at(batch, 4, row, names, file),
                storageclass: text_at(batch, 5, row, names, file),
                csi_volume_handle: text_at(batch, 6, row, names, file),
                persistentvolume_labels: text_at(batch, 7, row, &mut self.raw_labels, file),
                persistentvolumeclaim_labels: text_at(batch, 8, row, &mut self.raw_labels, file),
                values,
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

    /// Every day with daily pod or storage rows, ascending, with that day's rows.
    pub fn days(&self) -> impl Iterator<Item = DayRows<'_>> {
        let days: BTreeSet<Day> = (self.pod_days.days.keys())
            .chain(self.storage_days.days.keys())
            .copied()
            .collect();
        days.into_iter().map(|day| DayRows {
            pods: self.pod_days.of(day),
            volumes: self.storage_days.of(day),
        })
    }

    /// `max(text)` of two nullable names: the lexicographically greatest non-NULL one.
    pub fn max_name(&self, current: Option<NameId>, candidate: Option<NameId>) -> Option<NameId> {
        match (current, candidate) {
            (Some(c), Some(n)) if self.names.text(n) > self.names.text(c) => Some(n),
            (None, candidate) => candidate,
            (current, _) => current,
        }
    }

    /// The first day with daily pod-usage rows in the window (koku moves the start date up to
    /// it before deleting and summarising: spec §1.2 step 1).
    pub fn first_pod_day(&self) -> Option<Day> {
        self.pod_days.first_day()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(day: Day, pod: NameId) -> PodDay {
        PodDay {
            day,
            namespace: None,
            node: None,
            pod: Some(pod),
            resource_id: None,
            labels: None,
            values: Doubles::from_fn(|_| None),
            node_role: None,
        }
    }

    fn volume(day: Day, pod: NameId) -> StorageDay {
        StorageDay {
            day,
            namespace: None,
            pod: Some(pod),
            persistentvolumeclaim: None,
            persistentvolume: None,
            storageclass: None,
            csi_volume_handle: None,
            persistentvolume_labels: None,
            persistentvolumeclaim_labels: None,
            values: Doubles::from_fn(|_| None),
        }
    }

    /// (pod ids of the day's pod rows, pod ids of its storage rows) per day.
    type DayIds = (Vec<NameId>, Vec<NameId>);

    fn days_of(inputs: &Inputs) -> Vec<DayIds> {
        inputs
            .days()
            .map(|d| {
                let pods = d.pods.iter().filter_map(|p| p.pod).collect();
                (pods, d.volumes.iter().filter_map(|v| v.pod).collect())
            })
            .collect()
    }

    #[test]
    fn days_come_in_order_and_keep_the_read_order_within_a_day() {
        // Read order: day 3 (pod 1), day 1 (pod 2), day 3 (pod 3), day 1 (pod 4); volumes on
        // day 2 only, and day 3 (pod 9). Within a day the read order stays (sums add alike).
        let mut inputs = Inputs::default();
        for record in [pod(3, 1), pod(1, 2), pod(3, 3), pod(1, 4)] {
            inputs.pod_days.push(record);
        }
        for record in [volume(3, 9), volume(2, 7), volume(2, 8)] {
            inputs.storage_days.push(record);
        }
        assert_eq!(
            days_of(&inputs),
            vec![
                (vec![2, 4], vec![]),
                (vec![], vec![7, 8]),
                (vec![1, 3], vec![9]),
            ]
        );
    }

    #[test]
    fn packed_doubles_keep_nulls_apart_from_zeros() {
        let read = [Some(1.5), None, Some(0.0), None, Some(-2.0), Some(f64::MAX)];
        let packed = Doubles::<6>::from_fn(|i| read[i]);
        assert_eq!(packed.all(), read);
        assert_eq!((packed.get(1), packed.get(2)), (None, Some(0.0)));
        // All sixteen bits: the last value is kept, its NULL neighbour is not.
        let wide = Doubles::<16>::from_fn(|i| (i % 2 == 1).then_some(i as f64));
        assert_eq!((wide.get(14), wide.get(15)), (None, Some(15.0)));
    }

    #[test]
    fn a_month_without_rows_has_no_day() {
        assert!(days_of(&Inputs::default()).is_empty());
    }
}
