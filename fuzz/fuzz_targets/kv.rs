//! Fuzz target: the borrowed KeyValue decoder against prost's. Where both decode, they agree;
//! where one refuses, so does the other, except for protobuf groups (wire types 3 and 4),
//! which prost skips in unknown fields and our decoder refuses (etcd never writes them).
#![no_main]

use etcdsnap_mvcc::proto::{KeyValue, KeyValueRef, WireError};
use libfuzzer_sys::fuzz_target;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let ours = KeyValueRef::decode(data);
    let theirs = KeyValue::decode(data);
    match (ours, theirs) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.key, &b.key[..]);
            assert_eq!(a.value, &b.value[..]);
            assert_eq!(a.create_revision, b.create_revision);
            assert_eq!(a.mod_revision, b.mod_revision);
            assert_eq!(a.version, b.version);
            assert_eq!(a.lease, b.lease);
        }
        (Err(_), Err(_)) => {}
        (Err(WireError::BadWireType(3 | 4)), Ok(_)) => {}
        (a, b) => panic!("decoders disagree: ours {a:?}, prost {b:?}"),
    }
});
