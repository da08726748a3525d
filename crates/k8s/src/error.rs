//! The one error type of this crate, so callers match on what went wrong, not on strings.

use crate::wire::WireError;

/// Why a value could not be decoded as a Kubernetes object.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The value is empty, text or opaque bytes: not an object this crate can decode.
    #[error("Value is not a Kubernetes object (it is {0})")]
    NotAnObject(&'static str),
    /// The value is encrypted at rest; decrypting needs the provider's key.
    #[error("Value is encrypted at rest ({0}); it cannot be decoded without the key")]
    Encrypted(String),
    /// The `runtime.Unknown` envelope after `k8s\0` is malformed.
    #[error("Malformed protobuf envelope (runtime.Unknown): {0}")]
    Envelope(#[source] WireError),
    /// The object inside the envelope (`runtime.Unknown.raw`) is not a protobuf message.
    #[error("Malformed object in the protobuf envelope (runtime.Unknown.raw): {0}")]
    Object(#[source] WireError),
    /// A field of `ObjectMeta` is malformed.
    #[error("Malformed ObjectMeta field {field}: {source}")]
    Metadata {
        /// The ObjectMeta field (`labels`, `ownerReferences`, …).
        field: &'static str,
        /// The wire error inside it.
        #[source]
        source: WireError,
    },
    /// A value that starts like a JSON object is not valid JSON.
    #[error("Malformed JSON object: {0}")]
    Json(#[from] serde_json::Error),
}
