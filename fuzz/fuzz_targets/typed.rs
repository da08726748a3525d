//! Fuzz target: any stored value through the typed decoder (Kubernetes' schema) and kubectl's
//! JSON writer. Never a panic; a decoded object always writes.
#![no_main]

use etcdsnap_k8s::{decode_typed, gojson};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for show in [false, true] {
        if let Ok(r) = decode_typed(data, show) {
            let _ = gojson::to_kubectl_json(&r.value);
        }
    }
});
