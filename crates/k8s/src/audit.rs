//! Encryption-at-rest audit: which Secrets (or other resources) are stored in plaintext.
//!
//! Encryption at rest only protects objects written after it was enabled; objects written
//! before stay plaintext until rewritten. A snapshot answers "is everything encrypted, and
//! with which key?" without the cluster: every stored value of the audited resources is
//! classified by its prefix alone, nothing is decrypted or decoded.

use serde::Serialize;

use crate::classify::{ValueKind, classify};
use crate::key::{DEFAULT_PREFIX, KeyBytes, KeyInfo, parse_key_with_prefix};

/// Values encrypted with one provider and key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct EncryptedCount {
    /// `aescbc`, `aesgcm`, `secretbox`, `kms`, ….
    pub provider: String,
    /// `v1`, or `v2` for KMS v2.
    pub version: String,
    /// The key name (KMS v2: the provider name).
    pub key_name: String,
    /// How many values.
    pub count: u64,
}

/// One audited object that is not encrypted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct AuditItem {
    /// The resource (`secrets`, or `group/resource`).
    pub resource: String,
    /// The namespace, empty for cluster-scoped objects.
    pub namespace: String,
    /// The object name.
    pub name: String,
    /// How the value is stored: `protobuf`, `json`, `text` (plaintext) or `empty`, `binary`.
    pub class: &'static str,
    /// The etcd key.
    pub key: KeyBytes,
}

impl AuditItem {
    /// `namespace/name`, or `name` for cluster-scoped objects.
    pub fn namespaced_name(&self) -> String {
        if self.namespace.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.namespace, self.name)
        }
    }
}

/// The result of [`Audit::finish`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// The audited resources.
    pub resources: Vec<String>,
    /// Values audited.
    pub total: u64,
    /// Encrypted values by (provider, version, key name), sorted.
    pub encrypted: Vec<EncryptedCount>,
    /// Values readable without a key (protobuf, JSON or text), by resource, namespace, name.
    pub plaintext: Vec<AuditItem>,
    /// Values that are neither (empty, or opaque bytes without an encryption prefix).
    pub other: Vec<AuditItem>,
}

impl AuditReport {
    /// Number of plaintext values: nonzero means encryption at rest is not complete.
    pub fn plaintext_count(&self) -> usize {
        self.plaintext.len()
    }

    /// Number of encrypted values.
    pub fn encrypted_count(&self) -> u64 {
        self.encrypted
            .iter()
            .fold(0, |n, e| n.saturating_add(e.count))
    }
}

/// The audit builder: feed it every live key and value (or every stored revision, to audit
/// history too).
#[derive(Debug, Clone)]
pub struct Audit {
    prefix: String,
    resources: Vec<String>,
    total: u64,
    encrypted: Vec<EncryptedCount>,
    plaintext: Vec<AuditItem>,
    other: Vec<AuditItem>,
}

impl Default for Audit {
    fn default() -> Self {
        Self::new()
    }
}

impl Audit {
    /// Audits Secrets.
    pub fn new() -> Self {
        Self::for_resources(["secrets"])
    }

    /// Audits the named resources, as written in keys (`secrets`, `configmaps`,
    /// `example.com/widgets`).
    pub fn for_resources<I, S>(resources: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            prefix: DEFAULT_PREFIX.to_owned(),
            resources: resources.into_iter().map(Into::into).collect(),
            total: 0,
            encrypted: Vec::new(),
            plaintext: Vec::new(),
            other: Vec::new(),
        }
    }

    /// Uses `prefix` instead of `/registry` to recognise object keys.
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        prefix.clone_into(&mut self.prefix);
        self
    }

    /// Looks at one key and value; returns whether the key is one of the audited resources.
    pub fn add(&mut self, key: &[u8], value: &[u8]) -> bool {
        let KeyInfo::Object(object) = parse_key_with_prefix(key, &self.prefix) else {
            return false;
        };
        if !self.resources.iter().any(|r| *r == object.resource_id) {
            return false;
        }
        self.total = self.total.saturating_add(1);
        let kind = classify(value);
        let list = match kind {
            ValueKind::Encrypted(e) => {
                let same = |c: &&mut EncryptedCount| {
                    c.provider == e.provider && c.version == e.version && c.key_name == e.key_name
                };
                match self.encrypted.iter_mut().find(same) {
                    Some(c) => c.count = c.count.saturating_add(1),
                    None => self.encrypted.push(EncryptedCount {
                        provider: e.provider.to_owned(),
                        version: e.version.to_owned(),
                        key_name: e.key_name.to_owned(),
                        count: 1,
                    }),
                }
                return true;
            }
            ValueKind::Protobuf { .. } | ValueKind::Json { .. } | ValueKind::Text => {
                &mut self.plaintext
            }
            ValueKind::Empty | ValueKind::Binary => &mut self.other,
        };
        list.push(AuditItem {
            resource: object.resource_id.into_owned(),
            namespace: object.namespace.map(|n| n.into_owned()).unwrap_or_default(),
            name: object.name.into_owned(),
            class: kind.class(),
            key: KeyBytes(key.to_vec()),
        });
        true
    }

    /// Adds another builder's findings into this one.
    pub fn merge(&mut self, other: Audit) {
        self.total = self.total.saturating_add(other.total);
        for e in other.encrypted {
            match self.encrypted.iter_mut().find(|c| {
                (&c.provider, &c.version, &c.key_name) == (&e.provider, &e.version, &e.key_name)
            }) {
                Some(c) => c.count = c.count.saturating_add(e.count),
                None => self.encrypted.push(e),
            }
        }
        self.plaintext.extend(other.plaintext);
        self.other.extend(other.other);
    }

    /// The report, every list sorted.
    pub fn finish(mut self) -> AuditReport {
        self.encrypted.sort();
        self.plaintext.sort();
        self.other.sort();
        AuditReport {
            resources: self.resources,
            total: self.total,
            encrypted: self.encrypted,
            plaintext: self.plaintext,
            other: self.other,
        }
    }
}
