//! The label and cost-category joins shared by Pod and Storage rows (spec §3 label CTEs, §5
//! "filt", §6.1, §6.5).
//!
//! Raw label texts are parsed and filtered by the enabled keys once per distinct text and
//! interned; node and namespace label rows become the distinct filtered maps per (day, name) that
//! the LEFT JOINs expand over. The cost-category join is a LIKE join, also expanding.

use std::collections::HashMap;

use crate::compat::Compatibility;
use crate::config::CostCategoryPattern;
use crate::error::{Error, Result};
use crate::inputs::{Inputs, LabelRow, NameId, RawLabelId};
use crate::labels::{filter_labels, parse_labels, EnabledKeys, LabelSetId, LabelSets};
use crate::like::like_in;
use crate::window::Day;

/// Filters raw label texts by the enabled keys, each distinct text once, and interns the result.
pub struct LabelFilter<'a> {
    inputs: &'a Inputs,
    keys: EnabledKeys,
    compat: Compatibility,
    pub sets: LabelSets,
    filtered: HashMap<RawLabelId, LabelSetId>,
    /// Merged maps by their parts (node, namespace, own maps), see [`LabelFilter::merge`].
    merged: HashMap<[LabelSetId; 4], LabelSetId>,
}

impl<'a> LabelFilter<'a> {
    /// A filter keeping `enabled` keys the way `compat` does (spec §5 KEYS, §9.3).
    pub fn new(inputs: &'a Inputs, enabled: &[String], compat: Compatibility) -> Self {
        LabelFilter {
            inputs,
            keys: EnabledKeys::new(enabled, compat),
            compat,
            sets: LabelSets::default(),
            filtered: HashMap::new(),
            merged: HashMap::new(),
        }
    }

    /// The koku variant this filter reproduces: the run's one compatibility, which the Pod and
    /// Storage rows and the cost-category join read from here rather than carrying their own.
    pub fn compat(&self) -> Compatibility {
        self.compat
    }

    /// `filt(json)` of spec §5 for a nullable label column. Trino: a NULL text gives a NULL map,
    /// and an unparsable text (the empty string included) is bad input naming its file and
    /// column. koku's PostgreSQL port (`filter_json_by_keys`): NULL or blank gives `{}`, never
    /// NULL (spec §9.3).
    pub fn filtered(
        &mut self,
        raw: Option<RawLabelId>,
        column: &str,
    ) -> Result<Option<LabelSetId>> {
        let Some(raw) = raw else {
            return Ok(self.null_map());
        };
        if let Some(&id) = self.filtered.get(&raw) {
            return Ok(Some(id));
        }
        let text = self.inputs.raw_labels.text(raw);
        if self.compat == Compatibility::Postgres && text.trim().is_empty() {
            return Ok(self.null_map());
        }
        let entries = parse_labels(text).map_err(|reason| {
            let file = &self.inputs.files[self.inputs.raw_labels.first_file(raw) as usize];
            Error::column(
                file,
                column,
                format!(
                "{file}: column `{column}` holds {text:?}, which is {reason}. koku writes labels \
                 as a JSON object of strings (spec §2.3); fix or remove the file."
            ),
            )
        })?;
        let id = self.sets.intern(filter_labels(&entries, &self.keys));
        self.filtered.insert(raw, id);
        Ok(Some(id))
    }

    /// What a NULL label text filters to: NULL in Trino, `{}` in the PostgreSQL port.
    fn null_map(&self) -> Option<LabelSetId> {
        match self.compat {
            Compatibility::Trino => None,
            Compatibility::Postgres => Some(LabelSets::EMPTY),
        }
    }

    /// Distinct filtered maps per (day, name), as the label CTEs' GROUP BY produces them: in
    /// Trino a NULL text stays a NULL map, distinct from `{}` (both are later coalesced to `{}`).
    pub fn per_day(&mut self, rows: &[LabelRow], column: &str) -> Result<LabelsPerDay> {
        let mut per_day = LabelsPerDay::new();
        for &(day, name, raw) in rows {
            let Some(name) = name else { continue }; // a NULL name never equals a join key
            let filtered = self.filtered(raw, column)?;
            let maps = per_day.entry((day, name)).or_default();
            if !maps.contains(&filtered) {
                maps.push(filtered);
            }
        }
        Ok(per_day)
    }

    /// `map_concat(coalesce(node, {}), coalesce(namespace, {}), own...)`: NULL when any of the
    /// row's own maps (at most two: the pod's, or the PV's and the PVC's) is NULL (Trino; the
    /// PostgreSQL port never has NULL maps), spec §6.1. Each distinct combination is merged once.
    pub fn merge(
        &mut self,
        node: Option<LabelSetId>,
        namespace: Option<LabelSetId>,
        own: &[Option<LabelSetId>],
    ) -> Option<LabelSetId> {
        assert!(own.len() <= 2, "a row has at most two maps of its own");
        // Unused slots hold the empty map, which leaves a merge unchanged.
        let mut parts = [LabelSets::EMPTY; 4];
        parts[0] = node.unwrap_or(LabelSets::EMPTY);
        parts[1] = namespace.unwrap_or(LabelSets::EMPTY);
        for (slot, map) in parts[2..].iter_mut().zip(own) {
            *slot = (*map)?;
        }
        if let Some(&id) = self.merged.get(&parts) {
            return Some(id);
        }
        let id = self.sets.merge(&parts);
        self.merged.insert(parts, id);
        Some(id)
    }
}

/// Distinct filtered label maps per (day, name); `None` is a NULL label map.
pub type LabelsPerDay = HashMap<(Day, NameId), Vec<Option<LabelSetId>>>;

/// The node and namespace label maps the Pod and Storage rows join: distinct filtered maps per
/// (day, node) and per (day, namespace) (spec §3 `cte_ocp_node_label_line_item_daily`,
/// `cte_ocp_namespace_label_line_item_daily`).
pub struct JoinedLabels {
    pub node: LabelsPerDay,
    pub namespace: LabelsPerDay,
}

/// What a LEFT JOIN that finds nothing contributes: one NULL.
pub const NO_LABEL_MATCH: &[Option<LabelSetId>] = &[None];

impl JoinedLabels {
    /// Filters the node and namespace label rows.
    pub fn new(inputs: &Inputs, labels: &mut LabelFilter) -> Result<Self> {
        Ok(JoinedLabels {
            node: labels.per_day(&inputs.node_labels, "node_labels")?,
            namespace: labels.per_day(&inputs.namespace_labels, "namespace_labels")?,
        })
    }

    /// The node maps a row of `day` on `node` joins (one NULL when there are none).
    pub fn node_maps(&self, day: Day, node: Option<NameId>) -> &[Option<LabelSetId>] {
        node.and_then(|n| self.node.get(&(day, n)))
            .map_or(NO_LABEL_MATCH, Vec::as_slice)
    }

    /// The namespace maps a row of `day` in `namespace` joins (one NULL when there are none).
    pub fn namespace_maps(&self, day: Day, namespace: Option<NameId>) -> &[Option<LabelSetId>] {
        namespace
            .and_then(|ns| self.namespace.get(&(day, ns)))
            .map_or(NO_LABEL_MATCH, Vec::as_slice)
    }
}

/// The LEFT JOIN on `namespace LIKE cat_ns.namespace` (spec §6.5): one entry per matching
/// pattern, or a single NULL when none matches (or the namespace is NULL). Each entry
/// contributes the joined row once more: overlapping patterns multiply sums, as in koku.
pub struct CostCategories<'a> {
    patterns: &'a [CostCategoryPattern],
    compat: Compatibility,
    cache: HashMap<String, Vec<Option<i32>>>,
}

impl<'a> CostCategories<'a> {
    pub fn new(patterns: &'a [CostCategoryPattern], compat: Compatibility) -> Self {
        CostCategories {
            patterns,
            compat,
            cache: HashMap::new(),
        }
    }

    /// The category ids `namespace` joins, one per matching pattern, or `[None]`.
    pub fn of(&mut self, namespace: Option<&str>) -> &[Option<i32>] {
        const NO_MATCH: &[Option<i32>] = &[None];
        let Some(namespace) = namespace else {
            return NO_MATCH; // NULL LIKE anything is NULL
        };
        if !self.cache.contains_key(namespace) {
            let ids: Vec<Option<i32>> = self
                .patterns
                .iter()
                .filter(|p| like_in(self.compat, namespace, &p.pattern))
                .map(|p| Some(p.cost_category_id))
                .collect();
            self.cache.insert(namespace.to_string(), ids);
        }
        let ids = &self.cache[namespace];
        if ids.is_empty() {
            NO_MATCH
        } else {
            ids
        }
    }
}
