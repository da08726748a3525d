//! What the held-out check (`crates/k8s/schema/heldout.py`, objects encoded by Kubernetes' own
//! generated classes of several releases) found, pinned as tests on hand-written wire bytes.

use etcdsnap_k8s::decode_typed;

use crate::pb::{Msg, envelope};

/// Kubernetes 1.26-1.28 typed a PersistentVolumeClaimSpec's `resources` (field 2) as
/// ResourceRequirements, whose field 3 is `claims` (`[]ResourceClaim`, `json:"claims,omitempty"`);
/// 1.29 renamed the type to VolumeResourceRequirements without it. An object stored by those
/// releases (a PVC, or a Pod's ephemeral volume claim template) decodes by name, with no note.
#[test]
fn pvc_resources_claims_of_kubernetes_1_26_decode_by_name() {
    let resources = Msg::new()
        .msg(3, Msg::new().str(1, "gpu"))
        .msg(3, Msg::new().str(1, "fpga"));
    let spec = Msg::new().msg(2, resources);
    let raw = Msg::new()
        .msg(1, Msg::new().str(1, "data").str(3, "ns"))
        .msg(2, spec);
    let r = decode_typed(&envelope("v1", "PersistentVolumeClaim", raw, ""), false).unwrap();
    assert!(r.notes.is_empty(), "{:?}", r.notes);
    assert_eq!(
        r.value["spec"]["resources"],
        serde_json::json!({"claims": [{"name": "gpu"}, {"name": "fpga"}]})
    );
}
