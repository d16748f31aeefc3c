//! The parts of a generated cluster ([`super::generate`]) that the storage report and the
//! node-role lookup see: persistent volumes and claims, the operator's `node_role` values and the
//! rows already in `reporting_ocp_nodes`.
//!
//! They are drawn from their own random stream, after the nodes, namespaces and pods, so adding
//! them left every generated pod as it was.

use ocp_engine::config::NodeRecord;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::synth::model::{ClaimModel, ClusterModel, LabelPeriod, PodModel, VolumeModel, GIB};

/// How much storage and how many role sources a generated cluster gets.
pub(super) struct ExtrasShape {
    /// Namespaces (from the last one backwards, so user namespaces first) that get 1–2 claims,
    /// each on its own volume and mounted by one of the namespace's pods.
    pub claim_namespaces: usize,
    /// Shared volumes: even ones hold one RWX claim mounted by 2–3 pods on different nodes, odd
    /// ones are bound by two claims in two namespaces (as nise's random volumes may be).
    pub shared_volumes: usize,
    /// Volumes that report without a claim (§10.3).
    pub claimless_volumes: usize,
    /// Claims mounted by a pod the pod report never mentions (no node in the summary, §6.3).
    pub podless_claims: usize,
    /// Worker nodes whose operator sends a `node_role`.
    pub operator_roles: usize,
    /// Whether `reporting_ocp_nodes` already holds rows (see [`add_existing_nodes`]).
    pub existing_nodes: bool,
}

/// Storage classes: (class, CSI driver, whether its volumes are RWX-capable).
const CLASSES: [(&str, &str, bool); 3] = [
    ("gp3-csi", "ebs.csi.aws.com", false),
    ("gp2-csi", "ebs.csi.aws.com", false),
    (
        "ocs-storagecluster-cephfs",
        "openshift-storage.cephfs.csi.ceph.com",
        true,
    ),
];

/// Volume sizes in GiB.
const SIZES_GIB: [f64; 7] = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0];

/// Operator `node_role` values, standard and not (§12.5), `""` as an operator writes for a node
/// without a role label.
const OPERATOR_ROLES: [&str; 5] = ["worker", "control-plane", "infra", "", "master"];

/// Adds volumes and claims to `model` as `shape` says. Every claim reports in the hours of the
/// pods mounting it (their union), a podless claim and a claimless volume in every hour.
pub(super) fn add_volumes(model: &mut ClusterModel, shape: &ExtrasShape, rng: &mut ChaCha8Rng) {
    let namespaces: Vec<String> = model
        .namespaces
        .iter()
        .rev()
        .take(shape.claim_namespaces)
        .map(|n| n.name.clone())
        .collect();
    for namespace in &namespaces {
        for _ in 0..rng.random_range(1..=2) {
            let pods = running_pods(model, namespace);
            if let Some(pod) = pods.choose(rng).map(|p| (*p).clone()) {
                add_claimed_volume(model, namespace, &[&pod], rng);
            }
        }
    }
    for i in 0..shape.shared_volumes {
        add_shared_volume(model, i % 2 == 1, rng);
    }
    let all_hours: Vec<u32> = (0..model.num_hours()).collect();
    for _ in 0..shape.claimless_volumes {
        let mut volume = new_volume(rng, false);
        volume.claimless_hours = all_hours.clone();
        model.volumes.push(volume);
    }
    for i in 0..shape.podless_claims {
        let Some(namespace) = namespaces.get(i % namespaces.len().max(1)) else {
            break;
        };
        let volume = new_volume(rng, false);
        let pod = format!("restore-{:06x}", rng.random::<u32>() & 0xff_ffff);
        let claim = new_claim(&volume, namespace, &[pod.as_str()], all_hours.clone(), rng);
        model.volumes.push(volume);
        model.claims.push(claim);
    }
}

/// The pods of `namespace` that run on a node in at least one hour.
fn running_pods<'a>(model: &'a ClusterModel, namespace: &str) -> Vec<&'a PodModel> {
    model
        .pods
        .iter()
        .filter(|p| p.namespace == namespace && !p.node.is_empty() && !p.hours.is_empty())
        .collect()
}

/// A new volume with one claim in `namespace` mounted by `pods`.
fn add_claimed_volume(
    model: &mut ClusterModel,
    namespace: &str,
    pods: &[&PodModel],
    rng: &mut ChaCha8Rng,
) {
    let volume = new_volume(rng, pods.len() > 1);
    let names: Vec<&str> = pods.iter().map(|p| p.name.as_str()).collect();
    let claim = new_claim(&volume, namespace, &names, union_of_hours(pods), rng);
    model.volumes.push(volume);
    model.claims.push(claim);
}

/// A volume used on several nodes: one claim mounted by 2–3 pods of one namespace on distinct
/// nodes, or (`two_claims`) two claims in two namespaces, each mounted by one pod. Nothing is
/// added when the model has no such pods.
fn add_shared_volume(model: &mut ClusterModel, two_claims: bool, rng: &mut ChaCha8Rng) {
    if two_claims {
        let mut namespaces: Vec<String> = model.namespaces.iter().map(|n| n.name.clone()).collect();
        namespaces.shuffle(rng);
        let picks: Vec<PodModel> = namespaces
            .iter()
            .filter_map(|ns| running_pods(model, ns).choose(rng).map(|p| (*p).clone()))
            .take(2)
            .collect();
        if picks.len() < 2 {
            return;
        }
        let volume = new_volume(rng, true);
        for pod in &picks {
            let claim = new_claim(
                &volume,
                &pod.namespace,
                &[&pod.name],
                pod.hours.clone(),
                rng,
            );
            model.claims.push(claim);
        }
        model.volumes.push(volume);
        return;
    }
    let mut namespaces: Vec<String> = model.namespaces.iter().map(|n| n.name.clone()).collect();
    namespaces.shuffle(rng);
    for namespace in namespaces {
        let pods = pods_on_distinct_nodes(model, &namespace, rng.random_range(2..=3));
        if pods.len() >= 2 {
            let pods: Vec<PodModel> = pods.into_iter().cloned().collect();
            let refs: Vec<&PodModel> = pods.iter().collect();
            add_claimed_volume(model, &namespace, &refs, rng);
            return;
        }
    }
}

/// Up to `count` running pods of `namespace`, no two on the same node, in model order.
fn pods_on_distinct_nodes<'a>(
    model: &'a ClusterModel,
    namespace: &str,
    count: usize,
) -> Vec<&'a PodModel> {
    let mut picked: Vec<&PodModel> = Vec::new();
    for pod in running_pods(model, namespace) {
        if picked.len() < count && !picked.iter().any(|p| p.node == pod.node) {
            picked.push(pod);
        }
    }
    picked
}

/// The sorted union of the pods' hours.
fn union_of_hours(pods: &[&PodModel]) -> Vec<u32> {
    let mut hours: Vec<u32> = pods.iter().flat_map(|p| p.hours.iter().copied()).collect();
    hours.sort_unstable();
    hours.dedup();
    hours
}

/// A volume named like OpenShift's dynamically provisioned ones (`pvc-<hex>`), of a random size
/// (capacity = request, as nise writes it), on an RWX-capable class when `shared`; labelled
/// `environment` one time in five.
fn new_volume(rng: &mut ChaCha8Rng, shared: bool) -> VolumeModel {
    let candidates: Vec<&(&str, &str, bool)> = CLASSES
        .iter()
        .filter(|(_, _, rwx)| *rwx || !shared)
        .collect();
    let (class, driver, _) = **candidates.choose(rng).expect("storage classes");
    let id: u64 = rng.random::<u64>() & 0xffff_ffff_ffff;
    let mut volume = VolumeModel::new(
        &format!("pvc-{id:012x}"),
        SIZES_GIB.choose(rng).expect("sizes") * GIB,
    );
    volume.storage_class = class.to_string();
    volume.csi_driver = driver.to_string();
    volume.csi_volume_handle = format!("vol-0{:016x}", rng.random::<u64>() >> 4);
    if rng.random_bool(0.2) {
        let env = ["prod", "stage", "dev"].choose(rng).expect("environments");
        volume.labels = vec![LabelPeriod::new(0, &[("environment", env)])];
    }
    volume
}

/// A claim on `volume` in `namespace`, of the volume's capacity, using 5–95% of it (whole
/// bytes), labelled `app` (an enabled key) two times in three.
fn new_claim(
    volume: &VolumeModel,
    namespace: &str,
    pods: &[&str],
    hours: Vec<u32>,
    rng: &mut ChaCha8Rng,
) -> ClaimModel {
    let app = ["db", "cache", "search", "queue"]
        .choose(rng)
        .expect("apps");
    let mut claim = ClaimModel::new(
        &format!("{app}-data-{:05x}", rng.random::<u32>() & 0xf_ffff),
        namespace,
        &volume.name,
        pods,
        hours,
    );
    claim.capacity_bytes = volume.capacity_bytes;
    claim.usage_bytes = (volume.capacity_bytes * rng.random_range(0.05..0.95)).round();
    if rng.random_bool(2.0 / 3.0) {
        claim.labels = vec![LabelPeriod::new(0, &[("app", app)])];
    }
    claim
}

/// Gives `shape.operator_roles` of the `workers` (node indexes) an operator `node_role`, cycling
/// through [`OPERATOR_ROLES`].
pub(super) fn add_operator_roles(
    model: &mut ClusterModel,
    workers: &[usize],
    shape: &ExtrasShape,
    rng: &mut ChaCha8Rng,
) {
    let mut picked = workers.to_vec();
    picked.shuffle(rng);
    for (k, &node) in picked.iter().take(shape.operator_roles).enumerate() {
        let role = OPERATOR_ROLES[k % OPERATOR_ROLES.len()];
        model
            .operator_node_roles
            .insert(model.nodes[node].name.clone(), role.to_string());
    }
}

/// When `shape.existing_nodes`, three rows already in `reporting_ocp_nodes` (§6.4): the first
/// infra node with role `worker` under its own identity (the first role recorded wins, so it
/// stays a worker), the first master's (node, resource_id) in another cluster with role `worker`
/// (the lookup spans the tenant, §12.6, and `worker` is the larger string), and a node of that
/// other cluster the model does not have.
pub(super) fn add_existing_nodes(
    model: &mut ClusterModel,
    first_master: usize,
    first_infra: usize,
    shape: &ExtrasShape,
) {
    if !shape.existing_nodes {
        return;
    }
    let record =
        |node: &str, resource_id: &str, cores: f64, cluster: &str, role: &str| NodeRecord {
            node: node.to_string(),
            resource_id: Some(resource_id.to_string()),
            node_capacity_cpu_cores: Some(cores),
            cluster_id: Some(cluster.to_string()),
            node_role: Some(role.to_string()),
        };
    let other = "other-cluster";
    let infra = &model.nodes[first_infra];
    let master = &model.nodes[first_master];
    let rows = vec![
        record(
            &infra.name,
            &infra.resource_id,
            infra.cpu_cores,
            &model.cluster_id,
            "worker",
        ),
        record(&master.name, &master.resource_id, 2.0, other, "worker"),
        record("ip-10-99-0-1.ec2.internal", "i-0099", 8.0, other, "infra"),
    ];
    model.existing_nodes.extend(rows);
}
