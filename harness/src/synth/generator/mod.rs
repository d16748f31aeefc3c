//! The generator of synthetic clusters: a [`ClusterModel`] from a [`Scale`] and a seed, the same
//! cluster on every machine. Nodes (masters, infra, workers), namespaces with labels that change
//! within a day, pods that run part of the month or without a node; then, in
//! [`volumes_and_roles`], the volumes and claims of the storage report and the node roles of the
//! operator and of koku's node table. The model it builds is validated by the model's own rules.

mod volumes_and_roles;

use std::fmt;
use std::str::FromStr;

use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::model::{ClusterModel, LabelPeriod, NamespaceModel, NodeModel, PodModel, GIB};
use volumes_and_roles::{add_existing_nodes, add_operator_roles, add_volumes, ExtrasShape};

/// How big a generated cluster is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scale {
    /// 3 nodes, 4 namespaces, 12 pods, 2026-09-01..03, every pod every hour, no label changes;
    /// 1–2 claims in one namespace and one claimless volume.
    Tiny,
    /// 50 nodes, 25 namespaces, 500 pods, 2026-09-01..30, sparse hours, pods without a node,
    /// labels changing within a day; 1–2 claims per namespace, 2 shared volumes, 3 claimless
    /// volumes, 2 claims whose pod never reports, 5 nodes with an operator `node_role`, 3 rows
    /// already in `reporting_ocp_nodes`.
    Typical,
    /// 250 nodes, 100 namespaces, 5000 pods, 2026-09-01..30, same shape as `Typical` with 6
    /// shared, 10 claimless and 5 podless volumes and 20 operator roles.
    Large,
    /// 1,000 nodes, 100 namespaces, 140,000 pods, 2026-09-01..30 (about 83 million hourly pod
    /// rows), otherwise the shape of `Large`: for benchmarks at the size of koku's biggest
    /// clusters. Written day by day, never the whole month in memory.
    Xl,
}

impl Scale {
    /// All scales, smallest first.
    pub const ALL: [Scale; 4] = [Scale::Tiny, Scale::Typical, Scale::Large, Scale::Xl];

    /// The lower-case name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scale::Tiny => "tiny",
            Scale::Typical => "typical",
            Scale::Large => "large",
            Scale::Xl => "xl",
        }
    }

    /// The scale's nodes, pods and days, before any [`Size`] override.
    pub fn size(self) -> (usize, usize, u32) {
        let shape = shape(self);
        (shape.nodes, shape.pods, shape.days)
    }
}

/// A cluster sized between the scales: a [`Scale`]'s shape with its number of nodes, pods or
/// days replaced (`None` keeps the scale's). Everything else (masters, infra nodes, namespaces,
/// nodeless pods, volumes, roles) stays the scale's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Size {
    pub nodes: Option<usize>,
    pub pods: Option<usize>,
    pub days: Option<u32>,
}

impl Size {
    /// Whether nothing is overridden (the scale as it is).
    pub fn is_default(&self) -> bool {
        *self == Size::default()
    }

    /// A name for the scale with these overrides: the scale's name alone when nothing is
    /// overridden, else e.g. `large-300nodes-30days` (used for folder and report names).
    pub fn label(&self, scale: Scale) -> String {
        let mut label = scale.name().to_string();
        if let Some(nodes) = self.nodes {
            label.push_str(&format!("-{nodes}nodes"));
        }
        if let Some(pods) = self.pods {
            label.push_str(&format!("-{pods}pods"));
        }
        if let Some(days) = self.days {
            label.push_str(&format!("-{days}days"));
        }
        label
    }

    /// The scale's shape with these overrides, or why the generator cannot build it: at least
    /// one worker beside the scale's masters and infra nodes; enough pods for the masters' API
    /// servers, one pod per other namespace and per non-master node, and the nodeless pods; days
    /// within September (1..=30).
    fn shape(&self, scale: Scale) -> Result<Shape, String> {
        let mut shape = shape(scale);
        shape.nodes = self.nodes.unwrap_or(shape.nodes);
        shape.pods = self.pods.unwrap_or(shape.pods);
        shape.days = self.days.unwrap_or(shape.days);
        let fixed = shape.masters + shape.infra;
        if shape.nodes <= fixed {
            return Err(format!(
                "{} nodes is too few for scale {scale}: at least {} nodes (masters: {}, infra: {}, \
                 and a worker)",
                shape.nodes,
                fixed + 1,
                shape.masters,
                shape.infra,
            ));
        }
        let min_pods = shape.masters
            + (shape.namespaces - 1).max(shape.nodes - shape.masters)
            + shape.nodeless_pods;
        if shape.pods < min_pods {
            return Err(format!(
                "{} pods is too few for scale {scale} with {} nodes: at least {min_pods} (one \
                 API server per master, one pod per other namespace and node, {} without a node)",
                shape.pods, shape.nodes, shape.nodeless_pods
            ));
        }
        if !(1..=30).contains(&shape.days) {
            return Err(format!(
                "{} days is not 1..=30 (the cluster runs in September 2026)",
                shape.days
            ));
        }
        Ok(shape)
    }

    /// Checks these overrides against `scale` (see [`generate_sized`]).
    pub fn check(&self, scale: Scale) -> Result<(), String> {
        self.shape(scale).map(|_| ())
    }
}

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scale {
    type Err = String;

    /// Parses `tiny`, `typical` or `large` (case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scale::ALL
            .into_iter()
            .find(|scale| scale.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown scale '{s}' (expected tiny, typical, large or xl)"))
    }
}

struct Shape {
    nodes: usize,
    masters: usize,
    infra: usize,
    platform_namespaces: usize,
    namespaces: usize,
    pods: usize,
    days: u32,
    nodeless_pods: usize,
    sparse_fraction: f64,
    label_changes: bool,
    extras: ExtrasShape,
}

fn shape(scale: Scale) -> Shape {
    match scale {
        Scale::Tiny => Shape {
            nodes: 3,
            masters: 1,
            infra: 1,
            platform_namespaces: 2,
            namespaces: 4,
            pods: 12,
            days: 3,
            nodeless_pods: 0,
            sparse_fraction: 0.0,
            label_changes: false,
            extras: ExtrasShape {
                claim_namespaces: 1,
                shared_volumes: 0,
                claimless_volumes: 1,
                podless_claims: 0,
                operator_roles: 0,
                existing_nodes: false,
            },
        },
        Scale::Typical => Shape {
            nodes: 50,
            masters: 3,
            infra: 3,
            platform_namespaces: 6,
            namespaces: 25,
            pods: 500,
            days: 30,
            nodeless_pods: 4,
            sparse_fraction: 0.3,
            label_changes: true,
            extras: ExtrasShape {
                claim_namespaces: 25,
                shared_volumes: 2,
                claimless_volumes: 3,
                podless_claims: 2,
                operator_roles: 5,
                existing_nodes: true,
            },
        },
        Scale::Large => Shape {
            nodes: 250,
            masters: 3,
            infra: 10,
            platform_namespaces: 8,
            namespaces: 100,
            pods: 5000,
            days: 30,
            nodeless_pods: 20,
            sparse_fraction: 0.3,
            label_changes: true,
            extras: ExtrasShape {
                claim_namespaces: 100,
                shared_volumes: 6,
                claimless_volumes: 10,
                podless_claims: 5,
                operator_roles: 20,
                existing_nodes: true,
            },
        },
        Scale::Xl => Shape {
            nodes: 1000,
            pods: 140_000,
            ..shape(Scale::Large)
        },
    }
}

/// Platform namespaces, in the order they are taken; the first always hosts the API servers.
const PLATFORM_NAMESPACES: [&str; 8] = [
    "openshift-kube-apiserver",
    "openshift-monitoring",
    "kube-system",
    "openshift-ingress",
    "openshift-dns",
    "openshift-image-registry",
    "openshift-logging",
    "kube-public",
];
const NS_PREFIXES: [&str; 12] = [
    "shop", "payments", "data", "ml", "web", "mobile", "search", "billing", "identity", "ads",
    "media", "chat",
];
const NS_SUFFIXES: [&str; 10] = [
    "api", "frontend", "workers", "batch", "db", "cache", "etl", "dev", "stage", "prod",
];
const APPS: [&str; 10] = [
    "web", "api", "worker", "db", "cache", "queue", "auth", "search", "cron", "gateway",
];
const ENVIRONMENTS: [&str; 3] = ["prod", "stage", "dev"];
const TEAMS: [&str; 5] = ["payments", "platform", "data", "growth", "security"];
const TIERS: [&str; 3] = ["frontend", "backend", "data"];
const VERSIONS: [&str; 3] = ["v1", "v2", "v3"];

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Master,
    Infra,
    Worker,
}

fn pick<'a>(rng: &mut ChaCha8Rng, items: &[&'a str]) -> &'a str {
    items.choose(rng).expect("non-empty list")
}

fn kv(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

/// Builds a realistic cluster of the given scale. The same `(scale, seed)` gives the same model on
/// every machine (ChaCha8 seeded with `seed`, no platform-dependent sampling).
///
/// Every scale: account `org1234567`; enabled keys `app`, `environment`, `team` (so `tier`,
/// `version` and `node_role_kubernetes_io` stay disabled); koku's default cost categories; both
/// label reports on; the first node(s) host `openshift-kube-apiserver` (masters), the next carry
/// `node_role_kubernetes_io: infra`; capacities from 4/8/16/32 cores and 16/32/64/128 GiB.
/// See [`Scale`] for the sizes; `Typical` and `Large` add sparse hours for about 30% of the pods,
/// a few pods without a node, and two nodes and two namespaces whose labels change mid-day (one
/// in an enabled key, one in a disabled key).
///
/// Volumes, claims, operator node roles and `reporting_ocp_nodes` rows come from a second
/// stream (ChaCha8 seeded with `seed ^` [`EXTRAS_STREAM`]) after the pods, so that the pods are
/// those generated before storage existed: claims are mounted by pods of their namespace and
/// report in those pods' hours; shared volumes are RWX claims mounted on two or three nodes or
/// volumes bound by claims in two namespaces; claimless and podless volumes report every hour;
/// operator roles go to workers and include `control-plane` and `""`.
pub fn generate(scale: Scale, seed: u64) -> ClusterModel {
    generate_sized(scale, Size::default(), seed).expect("a scale's own shape is valid")
}

/// [`generate`] with the scale's nodes, pods or days replaced by `size`'s; an error says why
/// the overrides do not fit the scale ([`Size::check`]). With no override the model is exactly
/// [`generate`]'s; with one, the cluster id and alias name the size (`synthetic-large-42` becomes
/// e.g. `synthetic-large-300nodes-42`).
pub fn generate_sized(scale: Scale, size: Size, seed: u64) -> Result<ClusterModel, String> {
    let shape = size.shape(scale)?;
    let label = size.label(scale);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut model = ClusterModel::empty(2026, 9, 1, shape.days);
    model.source_uuid = uuid::Builder::from_random_bytes(rng.random()).into_uuid();
    model.cluster_id = format!("synthetic-{label}-{seed}");
    model.cluster_alias = format!("Synthetic {label} cluster (seed {seed})");
    model.enabled_tag_keys = vec!["app".into(), "environment".into(), "team".into()];
    let hours = model.num_hours();

    // Nodes: masters, then infra, then workers.
    let mut roles = Vec::with_capacity(shape.nodes);
    for i in 0..shape.nodes {
        let role = if i < shape.masters {
            Role::Master
        } else if i < shape.masters + shape.infra {
            Role::Infra
        } else {
            Role::Worker
        };
        let mut labels = vec![kv(
            "node_role_kubernetes_io",
            match role {
                Role::Master => "master",
                Role::Infra => "infra",
                Role::Worker => "worker",
            },
        )];
        labels.push(kv("environment", pick(&mut rng, &ENVIRONMENTS)));
        if rng.random_bool(0.5) {
            labels.push(kv("team", pick(&mut rng, &TEAMS)));
        }
        if rng.random_bool(0.2) {
            labels.push(kv("app", pick(&mut rng, &APPS)));
        }
        if rng.random_bool(0.2) {
            labels.push(kv("tier", pick(&mut rng, &TIERS)));
        }
        let cores = *[4.0, 8.0, 16.0, 32.0].choose(&mut rng).expect("non-empty");
        let gib = *[16.0, 32.0, 64.0, 128.0]
            .choose(&mut rng)
            .expect("non-empty");
        let id: u64 = rng.random::<u64>() & 0x0fff_ffff_ffff_ffff;
        model.nodes.push(NodeModel {
            name: format!("ip-10-0-{}-{}.ec2.internal", 1 + i / 200, 10 + i % 200),
            resource_id: format!("i-0{id:016x}"),
            cpu_cores: cores,
            memory_bytes: gib * GIB,
            labels: vec![LabelPeriod {
                from_hour: 0,
                labels,
            }],
        });
        roles.push(role);
    }

    // Namespaces: platform first, then user namespaces from shuffled prefix-suffix pairs.
    let mut user_names: Vec<String> = NS_PREFIXES
        .iter()
        .flat_map(|p| NS_SUFFIXES.iter().map(move |s| format!("{p}-{s}")))
        .collect();
    user_names.shuffle(&mut rng);
    for name in PLATFORM_NAMESPACES.iter().take(shape.platform_namespaces) {
        let labels = if rng.random_bool(0.5) {
            vec![kv("team", "platform")]
        } else {
            Vec::new()
        };
        model.namespaces.push(NamespaceModel {
            name: name.to_string(),
            labels: vec![LabelPeriod {
                from_hour: 0,
                labels,
            }],
        });
    }
    for name in user_names
        .into_iter()
        .take(shape.namespaces - shape.platform_namespaces)
    {
        let mut labels = Vec::new();
        if rng.random_bool(0.7) {
            labels.push(kv("environment", pick(&mut rng, &ENVIRONMENTS)));
        }
        if rng.random_bool(0.7) {
            labels.push(kv("team", pick(&mut rng, &TEAMS)));
        }
        if rng.random_bool(0.3) {
            labels.push(kv("app", pick(&mut rng, &APPS)));
        }
        if rng.random_bool(0.3) {
            labels.push(kv("tier", pick(&mut rng, &TIERS)));
        }
        model.namespaces.push(NamespaceModel {
            name,
            labels: vec![LabelPeriod {
                from_hour: 0,
                labels,
            }],
        });
    }

    if shape.label_changes {
        add_label_changes(&mut model, &roles, &mut rng);
    }

    // Pods.
    let masters: Vec<usize> = (0..shape.nodes)
        .filter(|&i| roles[i] == Role::Master)
        .collect();
    let infra: Vec<usize> = (0..shape.nodes)
        .filter(|&i| roles[i] == Role::Infra)
        .collect();
    let workers: Vec<usize> = (0..shape.nodes)
        .filter(|&i| roles[i] == Role::Worker)
        .collect();
    let platform: Vec<String> = model.namespaces[1..shape.platform_namespaces]
        .iter()
        .map(|n| n.name.clone())
        .collect();
    let user: Vec<String> = model.namespaces[shape.platform_namespaces..]
        .iter()
        .map(|n| n.name.clone())
        .collect();
    for i in 0..shape.pods {
        let (namespace, node, name, mut labels);
        if i < masters.len() {
            namespace = PLATFORM_NAMESPACES[0].to_string();
            node = model.nodes[masters[i]].name.clone();
            name = format!("kube-apiserver-{node}");
            labels = vec![kv("app", "openshift-kube-apiserver")];
        } else {
            // The first ordinary pods cover every namespace and every non-master node once, so
            // each reports at some hour whatever the seed; the rest are placed at random.
            let j = i - masters.len();
            let is_platform = if j < platform.len() {
                true
            } else if j < platform.len() + user.len() {
                false
            } else {
                rng.random_bool(0.15) || user.is_empty()
            };
            namespace = if j < platform.len() {
                platform[j].clone()
            } else if j < platform.len() + user.len() {
                user[j - platform.len()].clone()
            } else if is_platform {
                platform
                    .choose(&mut rng)
                    .expect("platform namespaces")
                    .clone()
            } else {
                user.choose(&mut rng).expect("user namespaces").clone()
            };
            let nodeless = i >= shape.pods - shape.nodeless_pods;
            let candidates = if is_platform && !infra.is_empty() {
                &infra
            } else if !workers.is_empty() {
                &workers
            } else {
                &masters
            };
            let non_masters = infra.len() + workers.len();
            node = if nodeless {
                String::new()
            } else if j < non_masters {
                let k = if j < infra.len() {
                    infra[j]
                } else {
                    workers[j - infra.len()]
                };
                model.nodes[k].name.clone()
            } else {
                model.nodes[*candidates.choose(&mut rng).expect("nodes")]
                    .name
                    .clone()
            };
            let app = pick(&mut rng, &APPS);
            labels = vec![kv("app", app)];
            if rng.random_bool(0.5) {
                labels.push(kv("tier", pick(&mut rng, &TIERS)));
            }
            if rng.random_bool(0.4) {
                labels.push(kv("version", pick(&mut rng, &VERSIONS)));
            }
            if rng.random_bool(0.2) {
                labels.push(kv("environment", pick(&mut rng, &ENVIRONMENTS)));
            }
            if rng.random_bool(0.2) {
                labels.push(kv("team", pick(&mut rng, &TEAMS)));
            }
            let hash: u64 = rng.random::<u64>() & 0xf_ffff_ffff;
            if !is_platform && rng.random_bool(0.03) {
                let vm = format!("rhel9-vm-{i}");
                name = format!("virt-launcher-{vm}-{hash:09x}");
                labels.push(kv("vm_kubevirt_io_name", &vm));
            } else {
                name = format!("{app}-{hash:09x}-{i:05}");
            }
        }
        let pod_hours = pod_hours(&mut rng, hours, shape.sparse_fraction);
        let pod_seconds = if rng.random_bool(0.75) {
            3600.0
        } else {
            f64::from(rng.random_range(60u32..=3600))
        };
        let cpu_request = *[0.0, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0]
            .choose(&mut rng)
            .expect("non-empty");
        let cpu_limit = if cpu_request == 0.0 {
            *[0.0, 0.5, 1.0].choose(&mut rng).expect("non-empty")
        } else {
            cpu_request * *[1.0, 2.0, 4.0].choose(&mut rng).expect("non-empty")
        };
        let cpu_usage = round_to(f64::max(cpu_request, 0.1) * rng.random_range(0.1..1.6), 1e5);
        let mem_request = GIB
            * *[0.0, 0.125, 0.25, 0.5, 1.0, 2.0, 4.0]
                .choose(&mut rng)
                .expect("non-empty");
        let mem_limit = mem_request * *[1.0, 2.0].choose(&mut rng).expect("non-empty");
        let mem_usage =
            (f64::max(mem_request, 64.0 * 1_048_576.0) * rng.random_range(0.2..1.4)).round();
        let usage_variation = if rng.random_bool(0.3) {
            0.0
        } else {
            round_to(rng.random_range(0.0..0.6), 100.0)
        };
        model.pods.push(PodModel {
            name,
            namespace,
            node,
            labels,
            hours: pod_hours,
            pod_seconds,
            cpu_usage_cores: cpu_usage,
            cpu_request_cores: cpu_request,
            cpu_limit_cores: cpu_limit,
            memory_usage_bytes: mem_usage,
            memory_request_bytes: mem_request,
            memory_limit_bytes: mem_limit,
            usage_variation,
        });
    }
    let mut extras_rng = ChaCha8Rng::seed_from_u64(seed ^ EXTRAS_STREAM);
    add_volumes(&mut model, &shape.extras, &mut extras_rng);
    add_operator_roles(&mut model, &workers, &shape.extras, &mut extras_rng);
    add_existing_nodes(&mut model, masters[0], infra[0], &shape.extras);
    debug_assert_eq!(model.validate(), Ok(()));
    Ok(model)
}

/// Mixed into the seed of the stream that draws volumes and roles (see [`generate`]).
pub const EXTRAS_STREAM: u64 = 0x5707_a6e0_0000_0001;

fn round_to(x: f64, scale: f64) -> f64 {
    (x * scale).round() / scale
}

/// All hours, or (with probability `sparse_fraction`) a random contiguous block or a random
/// subset; never empty.
fn pod_hours(rng: &mut ChaCha8Rng, hours: u32, sparse_fraction: f64) -> Vec<u32> {
    if sparse_fraction == 0.0 || !rng.random_bool(sparse_fraction) {
        return (0..hours).collect();
    }
    if rng.random_bool(0.5) {
        let start = rng.random_range(0..hours);
        let len = rng.random_range(1..=hours - start);
        (start..start + len).collect()
    } else {
        let p = rng.random_range(0.2..0.9);
        let mut chosen: Vec<u32> = (0..hours).filter(|_| rng.random_bool(p)).collect();
        if chosen.is_empty() {
            chosen.push(rng.random_range(0..hours));
        }
        chosen
    }
}

/// Two worker nodes and two user namespaces get a second label period starting mid-day: the
/// first of each pair changes an enabled key (`environment` / `team`), the second a disabled one
/// (`version` / `tier`).
fn add_label_changes(model: &mut ClusterModel, roles: &[Role], rng: &mut ChaCha8Rng) {
    let days = model.num_days();
    let mid_day =
        |rng: &mut ChaCha8Rng| 24 * rng.random_range(0..days) + rng.random_range(1..24u32);
    let workers: Vec<usize> = (0..roles.len())
        .filter(|&i| roles[i] == Role::Worker)
        .collect();
    let changes: [(&str, &[&str]); 2] = [("environment", &ENVIRONMENTS), ("version", &VERSIONS)];
    for (&node, (key, values)) in workers.iter().zip(changes) {
        let from_hour = mid_day(rng);
        let periods = &mut model.nodes[node].labels;
        let next = changed_labels(&periods[0].labels, key, values, rng);
        periods.push(LabelPeriod {
            from_hour,
            labels: next,
        });
    }
    let first_user = model
        .namespaces
        .iter()
        .position(|n| !PLATFORM_NAMESPACES.contains(&n.name.as_str()))
        .unwrap_or(model.namespaces.len());
    let changes: [(&str, &[&str]); 2] = [("team", &TEAMS), ("tier", &TIERS)];
    for (ns, (key, values)) in (first_user..model.namespaces.len()).zip(changes) {
        let from_hour = mid_day(rng);
        let periods = &mut model.namespaces[ns].labels;
        let next = changed_labels(&periods[0].labels, key, values, rng);
        periods.push(LabelPeriod {
            from_hour,
            labels: next,
        });
    }
}

/// `labels` with `key` set to a value different from its current one (appended if absent).
fn changed_labels(
    labels: &[(String, String)],
    key: &str,
    values: &[&str],
    rng: &mut ChaCha8Rng,
) -> Vec<(String, String)> {
    let mut next = labels.to_vec();
    let current = next.iter().position(|(k, _)| k == key);
    let old = current.map(|i| next[i].1.clone());
    let choices: Vec<&str> = values
        .iter()
        .copied()
        .filter(|v| Some(*v) != old.as_deref())
        .collect();
    let value = pick(rng, &choices).to_string();
    match current {
        Some(i) => next[i].1 = value,
        None => next.push((key.to_string(), value)),
    }
    next
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn assert_every_node_and_namespace_runs_a_pod(m: &ClusterModel) {
        assert!(m
            .nodes
            .iter()
            .all(|n| m.pods.iter().any(|p| p.node == n.name)));
        assert!(m
            .namespaces
            .iter()
            .all(|n| m.pods.iter().any(|p| p.namespace == n.name)));
    }
    use crate::synth::model::koku_default_cost_categories;

    #[test]
    fn scale_parses_and_displays() {
        for scale in Scale::ALL {
            assert_eq!(scale.to_string().parse::<Scale>(), Ok(scale));
        }
        assert_eq!("Typical".parse::<Scale>(), Ok(Scale::Typical));
        assert!("huge"
            .parse::<Scale>()
            .unwrap_err()
            .contains("tiny, typical, large or xl"));
        assert_eq!("XL".parse::<Scale>(), Ok(Scale::Xl));
    }

    #[test]
    fn xl_is_large_with_more_nodes_and_pods() {
        assert_eq!(Scale::Xl.size(), (1000, 140_000, 30));
        let (xl, large) = (shape(Scale::Xl), shape(Scale::Large));
        assert_eq!(
            (xl.masters, xl.infra, xl.namespaces, xl.nodeless_pods),
            (
                large.masters,
                large.infra,
                large.namespaces,
                large.nodeless_pods
            )
        );
        assert_eq!(xl.extras.operator_roles, large.extras.operator_roles);
        assert_eq!(xl.extras.claimless_volumes, large.extras.claimless_volumes);
        assert_eq!(Size::default().check(Scale::Xl), Ok(()));
    }

    #[test]
    fn sizes_override_the_scale_and_name_themselves() {
        let size = Size {
            nodes: Some(20),
            pods: None,
            days: Some(5),
        };
        assert_eq!(size.label(Scale::Typical), "typical-20nodes-5days");
        assert_eq!(Size::default().label(Scale::Large), "large");
        let m = generate_sized(Scale::Typical, size, 42).unwrap();
        assert_eq!(m.validate(), Ok(()));
        assert_eq!((m.nodes.len(), m.pods.len(), m.num_days()), (20, 500, 5));
        assert_eq!(m.cluster_id, "synthetic-typical-20nodes-5days-42");
        // Every node and namespace still runs a pod.
        assert_every_node_and_namespace_runs_a_pod(&m);
        // No override: exactly generate's model.
        assert_eq!(
            generate_sized(Scale::Typical, Size::default(), 42).unwrap(),
            generate(Scale::Typical, 42)
        );
    }

    #[test]
    fn sizes_the_generator_cannot_build_are_refused() {
        let with = |nodes, pods, days| Size { nodes, pods, days };
        // typical: 3 masters and 3 infra nodes; 25 namespaces; 4 pods without a node.
        let err = with(Some(6), None, None).check(Scale::Typical).unwrap_err();
        assert!(err.contains("at least 7 nodes"), "{err}");
        assert!(!err.contains("  "), "one line of prose: {err}");
        assert_eq!(with(Some(7), None, None).check(Scale::Typical), Ok(()));
        // 3 API servers + max(24 namespaces, 47 nodes) + 4 = 54.
        let err = with(None, Some(53), None)
            .check(Scale::Typical)
            .unwrap_err();
        assert!(err.contains("at least 54"), "{err}");
        assert!(!err.contains("  "), "one line of prose: {err}");
        assert_eq!(with(None, Some(54), None).check(Scale::Typical), Ok(()));
        let m = generate_sized(Scale::Typical, with(None, Some(54), Some(2)), 1).unwrap();
        assert_eq!(m.validate(), Ok(()));
        for days in [0, 31] {
            let err = with(None, None, Some(days)).check(Scale::Tiny).unwrap_err();
            assert!(err.contains("1..=30"), "{err}");
        }
        assert_eq!(with(None, None, Some(30)).check(Scale::Tiny), Ok(()));
        assert!(generate_sized(Scale::Tiny, with(Some(2), None, None), 1).is_err());
    }

    #[test]
    fn same_seed_same_model_different_seed_different_model() {
        assert_eq!(generate(Scale::Tiny, 7), generate(Scale::Tiny, 7));
        assert_ne!(generate(Scale::Tiny, 7), generate(Scale::Tiny, 8));
        assert_eq!(generate(Scale::Typical, 42), generate(Scale::Typical, 42));
        assert_ne!(generate(Scale::Typical, 42), generate(Scale::Typical, 43));
    }

    #[test]
    fn tiny_shape() {
        let m = generate(Scale::Tiny, 1);
        assert_eq!(m.validate(), Ok(()));
        assert_eq!(
            (m.nodes.len(), m.namespaces.len(), m.pods.len()),
            (3, 4, 12)
        );
        assert_eq!((m.year, m.month, m.first_day, m.last_day), (2026, 9, 1, 3));
        // 3 days = 72 hours, every pod in every hour.
        assert!(m
            .pods
            .iter()
            .all(|p| p.hours == (0..72).collect::<Vec<_>>()));
        assert!(m.pods.iter().all(|p| !p.node.is_empty()));
        for seed in 0..20 {
            let m = generate(Scale::Tiny, seed);
            assert_every_node_and_namespace_runs_a_pod(&m);
        }
    }

    #[test]
    fn typical_shape() {
        let m = generate(Scale::Typical, 42);
        assert_eq!(m.validate(), Ok(()));
        assert_eq!(m.nodes.len(), 50);
        assert_eq!(m.pods.len(), 500);
        assert_eq!(m.namespaces.len(), 25);
        assert_eq!((m.first_day, m.last_day, m.num_days()), (1, 30, 30));
        for ns in [
            "openshift-monitoring",
            "openshift-kube-apiserver",
            "kube-system",
        ] {
            assert!(m.namespaces.iter().any(|n| n.name == ns), "{ns} missing");
        }
        let apiserver_nodes: BTreeSet<_> = m
            .pods
            .iter()
            .filter(|p| p.namespace == "openshift-kube-apiserver")
            .map(|p| p.node.as_str())
            .collect();
        assert_eq!(apiserver_nodes.len(), 3);
        let nodeless = m.pods.iter().filter(|p| p.node.is_empty()).count();
        assert!((1..=10).contains(&nodeless), "{nodeless} pods without node");
        let sparse = m.pods.iter().filter(|p| p.hours.len() < 720).count();
        assert!((75..=225).contains(&sparse), "{sparse} sparse pods");
        let infra = m
            .nodes
            .iter()
            .filter(|n| {
                n.labels[0]
                    .labels
                    .contains(&kv("node_role_kubernetes_io", "infra"))
            })
            .count();
        assert_eq!(infra, 3);
        // Two nodes and two namespaces change labels mid-day (from_hour not a multiple of 24).
        let changing_nodes: Vec<_> = m.nodes.iter().filter(|n| n.labels.len() == 2).collect();
        assert_eq!(changing_nodes.len(), 2);
        assert!(changing_nodes
            .iter()
            .all(|n| n.labels[1].from_hour % 24 != 0));
        let changing_ns: Vec<_> = m
            .namespaces
            .iter()
            .filter(|n| n.labels.len() == 2)
            .collect();
        assert_eq!(changing_ns.len(), 2);
        assert!(changing_ns.iter().all(|n| n.labels[1].from_hour % 24 != 0));
        for n in &m.nodes {
            assert!([4.0, 8.0, 16.0, 32.0].contains(&n.cpu_cores));
            assert!([16.0, 32.0, 64.0, 128.0].contains(&(n.memory_bytes / GIB)));
            assert!(n.resource_id.starts_with("i-"));
        }
        // Label keys collide across node, namespace and pod.
        let has_key = |labels: &[(String, String)], k: &str| labels.iter().any(|(key, _)| key == k);
        assert!(m.nodes.iter().any(|n| has_key(&n.labels[0].labels, "team")));
        assert!(m
            .namespaces
            .iter()
            .any(|n| has_key(&n.labels[0].labels, "team")));
        assert!(m.pods.iter().any(|p| has_key(&p.labels, "team")));
        assert_eq!(m.enabled_tag_keys, ["app", "environment", "team"]);
        assert_eq!(m.cost_category_patterns, koku_default_cost_categories());
    }

    #[test]
    fn large_shape() {
        let m = generate(Scale::Large, 3);
        assert_eq!(m.validate(), Ok(()));
        assert_eq!((m.nodes.len(), m.pods.len(), m.num_days()), (250, 5000, 30));
        assert_eq!(m.operator_node_roles.len(), 20);
        assert_eq!(count_claimless(&m), 10);
    }

    fn count_claimless(m: &ClusterModel) -> usize {
        m.volumes
            .iter()
            .filter(|v| !v.claimless_hours.is_empty())
            .count()
    }

    #[test]
    fn tiny_storage_and_roles() {
        for seed in 0..20 {
            let m = generate(Scale::Tiny, seed);
            // 1-2 claims in the last namespace, each on its own volume, mounted by one pod of
            // that namespace and reporting in its hours; one claimless volume.
            let last = &m.namespaces[3].name;
            assert!((1..=2).contains(&m.claims.len()));
            for claim in &m.claims {
                assert_eq!(&claim.namespace, last);
                let pod = m.pods.iter().find(|p| p.name == claim.pods[0]).unwrap();
                assert_eq!((&pod.namespace, &pod.hours), (last, &claim.hours));
                assert_eq!(
                    claim.capacity_bytes,
                    m.volume(&claim.volume).unwrap().capacity_bytes
                );
                assert!(claim.usage_bytes < claim.capacity_bytes);
            }
            assert_eq!(m.volumes.len(), m.claims.len() + 1);
            assert_eq!(count_claimless(&m), 1);
            assert!(m.operator_node_roles.is_empty() && m.existing_nodes.is_empty());
        }
    }

    #[test]
    fn typical_storage_and_roles() {
        let m = generate(Scale::Typical, 42);
        // Every namespace with a running pod has 1-2 claims of its own (plus shared ones).
        for ns in &m.namespaces {
            let own = m
                .claims
                .iter()
                .filter(|c| c.namespace == ns.name && !c.pods[0].starts_with("restore-"))
                .count();
            assert!((1..=4).contains(&own), "{}: {own} claims", ns.name);
        }
        // An RWX claim mounted on distinct nodes, and a volume bound by claims in two namespaces.
        let node_of = |pod: &str| {
            m.pods
                .iter()
                .find(|p| p.name == pod)
                .map(|p| p.node.as_str())
        };
        assert!(m.claims.iter().any(|c| {
            let nodes: BTreeSet<_> = c.pods.iter().map(|p| node_of(p)).collect();
            c.pods.len() >= 2 && nodes.len() == c.pods.len()
        }));
        assert!(m.volumes.iter().any(|v| {
            let namespaces: BTreeSet<_> = m
                .claims
                .iter()
                .filter(|c| c.volume == v.name)
                .map(|c| c.namespace.as_str())
                .collect();
            namespaces.len() == 2
        }));
        assert_eq!(count_claimless(&m), 3);
        let podless: Vec<_> = m
            .claims
            .iter()
            .filter(|c| node_of(&c.pods[0]).is_none())
            .collect();
        assert_eq!(podless.len(), 2);
        assert!(podless.iter().all(|c| c.hours.len() == 720));
        // Operator roles on five workers, standard and not.
        let roles: BTreeSet<&str> = m.operator_node_roles.values().map(String::as_str).collect();
        assert_eq!(
            roles,
            BTreeSet::from(["", "control-plane", "infra", "master", "worker"])
        );
        assert!(m
            .operator_node_roles
            .keys()
            .all(|n| m.node(n).unwrap().labels[0]
                .labels
                .contains(&kv("node_role_kubernetes_io", "worker"))));
        // reporting_ocp_nodes: the first infra node as a worker of this cluster, the first master
        // under another cluster, and another cluster's node.
        let existing: Vec<(&str, Option<&str>, Option<&str>)> = m
            .existing_nodes
            .iter()
            .map(|r| {
                (
                    r.node.as_str(),
                    r.cluster_id.as_deref(),
                    r.node_role.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            existing,
            [
                (
                    m.nodes[3].name.as_str(),
                    Some(m.cluster_id.as_str()),
                    Some("worker")
                ),
                (
                    m.nodes[0].name.as_str(),
                    Some("other-cluster"),
                    Some("worker")
                ),
                (
                    "ip-10-99-0-1.ec2.internal",
                    Some("other-cluster"),
                    Some("infra")
                ),
            ]
        );
        assert_eq!(
            m.existing_nodes[0].node_capacity_cpu_cores,
            Some(m.nodes[3].cpu_cores)
        );
    }
}
