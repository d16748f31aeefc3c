//! Node and cluster capacity (spec §3 `cte_ocp_node_capacity`, `cte_ocp_cluster_capacity`, §6.2).
//!
//! From the **hourly** pod-usage table: per (hour, node) the max over the pods reporting that hour
//! of the node's capacity-seconds; per (day, node) the sum of those over the distinct hours; per
//! day the sum over all nodes, `node = ''` included (this CTE has no node filter).

use std::collections::{BTreeMap, HashMap};

use arrow::array::Array;

use crate::source::Batch;
use crate::window::{day_of_millis, Day};

/// A nullable sum or max, as SQL aggregates treat NULL: ignored, and NULL when every input is.
pub trait NullableFold {
    fn add(&mut self, value: Option<f64>);
    fn maximize(&mut self, value: Option<f64>);
}

impl NullableFold for Option<f64> {
    fn add(&mut self, value: Option<f64>) {
        if let Some(v) = value {
            *self = Some(self.map_or(v, |s| s + v));
        }
    }

    fn maximize(&mut self, value: Option<f64>) {
        if let Some(v) = value {
            *self = Some(self.map_or(v, |m| m.max(v)));
        }
    }
}

/// CPU core-seconds and memory byte-seconds of capacity.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CapacitySeconds {
    pub cpu_core_seconds: Option<f64>,
    pub memory_byte_seconds: Option<f64>,
}

/// Per file: node → hour (epoch ms) → max capacity-seconds over the file's rows.
#[derive(Debug, Default)]
pub struct HourlyCapacity {
    nodes: HashMap<String, HashMap<i64, CapacitySeconds>>,
    /// Rows whose node is NULL.
    null_node: HashMap<i64, CapacitySeconds>,
}

impl HourlyCapacity {
    /// Folds a batch of (interval_start, node, cpu seconds, memory byte-seconds) rows.
    pub fn add_batch(&mut self, batch: &Batch) {
        let (millis, nodes) = (batch.millis(0), batch.text(1));
        let (cpu, memory) = (batch.double(2), batch.double(3));
        for row in 0..batch.num_rows {
            let hours = if nodes.is_null(row) {
                &mut self.null_node
            } else {
                let node = nodes.value(row);
                if !self.nodes.contains_key(node) {
                    self.nodes.insert(node.to_string(), HashMap::new());
                }
                self.nodes.get_mut(node).expect("inserted above")
            };
            let hour = hours.entry(millis.value(row)).or_default();
            hour.cpu_core_seconds
                .maximize(cpu.is_valid(row).then(|| cpu.value(row)));
            hour.memory_byte_seconds
                .maximize(memory.is_valid(row).then(|| memory.value(row)));
        }
    }
}

/// Daily node capacity and cluster capacity, in seconds.
#[derive(Debug, Default)]
pub struct NodeCapacity {
    /// (day, node) → Σ over the day's distinct hours of the hourly max.
    pub per_node: HashMap<(Day, Option<String>), CapacitySeconds>,
    /// day → Σ over nodes of `per_node`.
    pub per_cluster: HashMap<Day, CapacitySeconds>,
}

impl NodeCapacity {
    /// Merges per-file partials (an hour can span files: max again), then sums per day.
    pub fn from_hourly(partials: impl IntoIterator<Item = HourlyCapacity>) -> Self {
        let mut hourly: HashMap<Option<String>, BTreeMap<i64, CapacitySeconds>> = HashMap::new();
        for partial in partials {
            let nodes = partial
                .nodes
                .into_iter()
                .map(|(node, hours)| (Some(node), hours));
            for (node, hours) in nodes.chain([(None, partial.null_node)]) {
                let merged = hourly.entry(node).or_default();
                for (hour, capacity) in hours {
                    let entry = merged.entry(hour).or_default();
                    entry.cpu_core_seconds.maximize(capacity.cpu_core_seconds);
                    entry
                        .memory_byte_seconds
                        .maximize(capacity.memory_byte_seconds);
                }
            }
        }
        let mut per_node: HashMap<(Day, Option<String>), CapacitySeconds> = HashMap::new();
        for (node, hours) in hourly {
            // BTreeMap: hours are summed in time order, the same on every run.
            for (hour, capacity) in hours {
                let day = per_node
                    .entry((day_of_millis(hour), node.clone()))
                    .or_default();
                day.cpu_core_seconds.add(capacity.cpu_core_seconds);
                day.memory_byte_seconds.add(capacity.memory_byte_seconds);
            }
        }
        let mut nodes: Vec<_> = per_node.iter().collect();
        nodes.sort_by(|a, b| a.0.cmp(b.0));
        let mut per_cluster: HashMap<Day, CapacitySeconds> = HashMap::new();
        for ((day, _), capacity) in nodes {
            let cluster = per_cluster.entry(*day).or_default();
            cluster.cpu_core_seconds.add(capacity.cpu_core_seconds);
            cluster
                .memory_byte_seconds
                .add(capacity.memory_byte_seconds);
        }
        NodeCapacity {
            per_node,
            per_cluster,
        }
    }

    /// The node's capacity that day, or NULLs when the node never reported that day (LEFT JOIN).
    pub fn node(&self, day: Day, node: &str) -> CapacitySeconds {
        self.per_node
            .get(&(day, Some(node.to_string())))
            .copied()
            .unwrap_or_default()
    }

    pub fn cluster(&self, day: Day) -> CapacitySeconds {
        self.per_cluster.get(&day).copied().unwrap_or_default()
    }
}
