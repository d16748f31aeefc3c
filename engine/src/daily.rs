//! The rows of one day: its Pod rows, its Storage rows and the unallocated rows of its nodes
//! (spec §3 statements 2 and 3). Every group koku's script forms has the day in its key, so a
//! month is the days one after another; the run hands each day to the sink as it is done.

use crate::error::Result;
use crate::inputs::{DayRows, Inputs};
use crate::label_joins::{CostCategories, JoinedLabels, LabelFilter};
use crate::node_roles::RoleLookup;
use crate::pod::pod_rows;
use crate::storage::storage_rows;
use crate::summary::SummaryRow;
use crate::unallocated::unallocated_rows;

/// What computing a day needs that lasts the whole month: the parsed labels, the cost-category
/// cache and the node roles.
pub struct DayAggregator<'a, 'l> {
    pub inputs: &'a Inputs,
    pub labels: &'l mut LabelFilter<'a>,
    pub joined: &'a JoinedLabels,
    pub categories: CostCategories<'a>,
    pub roles: RoleLookup,
}

/// The rows of one day, by kind, each kind sorted as its module sorts it.
#[derive(Debug, Default)]
pub struct DaySummary {
    pub pod: Vec<SummaryRow>,
    pub storage: Vec<SummaryRow>,
    pub unallocated: Vec<SummaryRow>,
}

impl DayAggregator<'_, '_> {
    /// The Pod, Storage and unallocated rows of `day`.
    pub fn rows(&mut self, day: DayRows) -> Result<DaySummary> {
        let (inputs, joined) = (self.inputs, self.joined);
        let pod = pod_rows(inputs, day, self.labels, joined, &mut self.categories)?;
        let storage = storage_rows(inputs, day, self.labels, joined, &mut self.categories)?;
        let unallocated = unallocated_rows(&pod, &self.roles, &mut self.categories);
        Ok(DaySummary {
            pod,
            storage,
            unallocated,
        })
    }
}

impl DaySummary {
    /// Every row of the day: Pod, Storage, then unallocated.
    pub fn all(&self) -> Vec<&SummaryRow> {
        self.pod
            .iter()
            .chain(&self.storage)
            .chain(&self.unallocated)
            .collect()
    }
}

/// A month's rows kept for a caller that wants them (the harness compares them), in the order
/// one pass over the month gives: Pod rows and Storage rows each by natural key (day first), then
/// unallocated rows by node and day.
#[derive(Debug, Default)]
pub struct KeptRows {
    days: DaySummary,
}

impl KeptRows {
    pub fn add(&mut self, day: DaySummary) {
        self.days.pod.extend(day.pod);
        self.days.storage.extend(day.storage);
        self.days.unallocated.extend(day.unallocated);
    }

    pub fn into_rows(self) -> Vec<SummaryRow> {
        let DaySummary {
            mut pod,
            storage,
            mut unallocated,
        } = self.days;
        // Stable: the rows of one node and day keep their cost-category order.
        unallocated.sort_by(|a, b| (&a.node, a.usage_start).cmp(&(&b.node, b.usage_start)));
        pod.extend(storage);
        pod.extend(unallocated);
        pod
    }
}
