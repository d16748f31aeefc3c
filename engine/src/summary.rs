//! The output row: one row of `reporting_ocpusagelineitem_daily_summary` as this step writes it
//! (spec §3 statement 4, §4), before the sink adds the run's constants (uuid, report period,
//! cluster, source) and rounds the metrics to numeric(33,15).

use chrono::NaiveDate;

use crate::labels::{to_json, LabelMap};

/// `data_source` of a row. Unallocated rows are `Pod` too (spec §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DataSource {
    Pod,
    Storage,
}

impl DataSource {
    pub fn as_str(&self) -> &'static str {
        match self {
            DataSource::Pod => "Pod",
            DataSource::Storage => "Storage",
        }
    }
}

/// The metric columns, in the order koku's insert lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    PodUsageCpuCoreHours,
    PodRequestCpuCoreHours,
    PodEffectiveUsageCpuCoreHours,
    PodLimitCpuCoreHours,
    PodUsageMemoryGigabyteHours,
    PodRequestMemoryGigabyteHours,
    PodEffectiveUsageMemoryGigabyteHours,
    PodLimitMemoryGigabyteHours,
    NodeCapacityCpuCores,
    NodeCapacityCpuCoreHours,
    NodeCapacityMemoryGigabytes,
    NodeCapacityMemoryGigabyteHours,
    ClusterCapacityCpuCoreHours,
    ClusterCapacityMemoryGigabyteHours,
    PersistentvolumeclaimCapacityGigabyte,
    PersistentvolumeclaimCapacityGigabyteMonths,
    VolumeRequestStorageGigabyteMonths,
    PersistentvolumeclaimUsageGigabyteMonths,
}

impl Metric {
    /// Every metric, in column order.
    pub const ALL: [Metric; 18] = [
        Metric::PodUsageCpuCoreHours,
        Metric::PodRequestCpuCoreHours,
        Metric::PodEffectiveUsageCpuCoreHours,
        Metric::PodLimitCpuCoreHours,
        Metric::PodUsageMemoryGigabyteHours,
        Metric::PodRequestMemoryGigabyteHours,
        Metric::PodEffectiveUsageMemoryGigabyteHours,
        Metric::PodLimitMemoryGigabyteHours,
        Metric::NodeCapacityCpuCores,
        Metric::NodeCapacityCpuCoreHours,
        Metric::NodeCapacityMemoryGigabytes,
        Metric::NodeCapacityMemoryGigabyteHours,
        Metric::ClusterCapacityCpuCoreHours,
        Metric::ClusterCapacityMemoryGigabyteHours,
        Metric::PersistentvolumeclaimCapacityGigabyte,
        Metric::PersistentvolumeclaimCapacityGigabyteMonths,
        Metric::VolumeRequestStorageGigabyteMonths,
        Metric::PersistentvolumeclaimUsageGigabyteMonths,
    ];

    /// koku's column name.
    pub fn column(&self) -> &'static str {
        match self {
            Metric::PodUsageCpuCoreHours => "pod_usage_cpu_core_hours",
            Metric::PodRequestCpuCoreHours => "pod_request_cpu_core_hours",
            Metric::PodEffectiveUsageCpuCoreHours => "pod_effective_usage_cpu_core_hours",
            Metric::PodLimitCpuCoreHours => "pod_limit_cpu_core_hours",
            Metric::PodUsageMemoryGigabyteHours => "pod_usage_memory_gigabyte_hours",
            Metric::PodRequestMemoryGigabyteHours => "pod_request_memory_gigabyte_hours",
            Metric::PodEffectiveUsageMemoryGigabyteHours => {
                "pod_effective_usage_memory_gigabyte_hours"
            }
            Metric::PodLimitMemoryGigabyteHours => "pod_limit_memory_gigabyte_hours",
            Metric::NodeCapacityCpuCores => "node_capacity_cpu_cores",
            Metric::NodeCapacityCpuCoreHours => "node_capacity_cpu_core_hours",
            Metric::NodeCapacityMemoryGigabytes => "node_capacity_memory_gigabytes",
            Metric::NodeCapacityMemoryGigabyteHours => "node_capacity_memory_gigabyte_hours",
            Metric::ClusterCapacityCpuCoreHours => "cluster_capacity_cpu_core_hours",
            Metric::ClusterCapacityMemoryGigabyteHours => "cluster_capacity_memory_gigabyte_hours",
            Metric::PersistentvolumeclaimCapacityGigabyte => {
                "persistentvolumeclaim_capacity_gigabyte"
            }
            Metric::PersistentvolumeclaimCapacityGigabyteMonths => {
                "persistentvolumeclaim_capacity_gigabyte_months"
            }
            Metric::VolumeRequestStorageGigabyteMonths => "volume_request_storage_gigabyte_months",
            Metric::PersistentvolumeclaimUsageGigabyteMonths => {
                "persistentvolumeclaim_usage_gigabyte_months"
            }
        }
    }
}

/// The literal koku writes into `infrastructure_usage_cost` of Pod and Storage rows.
pub const ZERO_INFRASTRUCTURE_USAGE_COST: &str =
    r#"{"cpu": 0.000000000, "memory": 0.000000000, "storage": 0.000000000}"#;

/// One summary row, metrics still as doubles.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    pub data_source: DataSource,
    /// `usage_start`; `usage_end` is always the same day.
    pub usage_start: NaiveDate,
    pub namespace: Option<String>,
    pub node: Option<String>,
    pub resource_id: Option<String>,
    pub pod_labels: Option<LabelMap>,
    pub volume_labels: Option<LabelMap>,
    pub persistentvolumeclaim: Option<String>,
    pub persistentvolume: Option<String>,
    pub storageclass: Option<String>,
    /// Indexed by `Metric as usize`.
    pub metrics: [Option<f64>; 18],
    pub cost_category_id: Option<i32>,
    /// Whether `infrastructure_usage_cost` carries [`ZERO_INFRASTRUCTURE_USAGE_COST`] (Pod and
    /// Storage rows) or is NULL (unallocated rows).
    pub has_infrastructure_usage_cost: bool,
}

impl SummaryRow {
    /// A row of `data_source` for `day` with every optional column NULL.
    pub fn new(data_source: DataSource, usage_start: NaiveDate) -> Self {
        SummaryRow {
            data_source,
            usage_start,
            namespace: None,
            node: None,
            resource_id: None,
            pod_labels: None,
            volume_labels: None,
            persistentvolumeclaim: None,
            persistentvolume: None,
            storageclass: None,
            metrics: [None; 18],
            cost_category_id: None,
            has_infrastructure_usage_cost: false,
        }
    }

    /// Whether this is an unallocated-capacity row (statement 3): a `Pod` row without koku's
    /// `infrastructure_usage_cost` literal, which every Pod-branch and Storage row carries.
    pub fn is_unallocated(&self) -> bool {
        self.data_source == DataSource::Pod && !self.has_infrastructure_usage_cost
    }

    pub fn metric(&self, metric: Metric) -> Option<f64> {
        self.metrics[metric as usize]
    }

    pub fn set(&mut self, metric: Metric, value: Option<f64>) {
        self.metrics[metric as usize] = value;
    }

    /// `pod_labels` as compact JSON with sorted keys.
    pub fn pod_labels_json(&self) -> Option<String> {
        self.pod_labels.as_ref().map(to_json)
    }

    pub fn volume_labels_json(&self) -> Option<String> {
        self.volume_labels.as_ref().map(to_json)
    }

    /// `all_labels`: pod labels then volume labels, volume winning, `{}` when both are NULL
    /// (spec §3 statement 4: unallocated rows get `{}`, not NULL).
    pub fn all_labels_json(&self) -> String {
        let mut all = self.pod_labels.clone().unwrap_or_default();
        if let Some(volume) = &self.volume_labels {
            crate::labels::merge_into(&mut all, volume);
        }
        to_json(&all)
    }

    /// The natural key rows are ordered by: (data_source, usage_start, namespace, node,
    /// resource_id, pvc, pv, storageclass, labels).
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            self.data_source,
            self.usage_start,
            &self.namespace,
            &self.node,
            &self.resource_id,
            &self.persistentvolumeclaim,
            &self.persistentvolume,
            &self.storageclass,
            (&self.pod_labels, &self.volume_labels),
        )
    }
}
