//! Kubernetes' own schema for every built-in kind, embedded as data.
//!
//! Decoding a stored object by field name needs each message's field numbers and protobuf
//! types (from Kubernetes' `generated.proto`) and each Go field's `json` tag (name, omitempty,
//! inline, pointer), because the apiserver shows an object as Go's `encoding/json` writes the
//! typed struct. Both are turned by `schema/gen.py` into `schema/k8s-schema.txt`, a small
//! line-based table committed in the repository and compiled into the binary, so nothing is
//! downloaded or generated at build time. The table is parsed once, on first use.
//!
//! Format (tab-separated): `K apiVersion Kind message`, `M message special`, then the message's
//! `F number jsonName type flags` lines. `type` is a protobuf scalar, a message name, or for a
//! map `key,value`; flags: `r` repeated, `m` map, `o` omitempty, `i` inline, `p` pointer, `x`
//! `json:"-"`.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The embedded table (see the module docs).
pub const TABLE: &str = include_str!("../schema/k8s-schema.txt");

/// A protobuf scalar type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Scalar {
    String,
    Bytes,
    Bool,
    Int32,
    Int64,
    Uint32,
    Uint64,
    Sint32,
    Sint64,
    Fixed32,
    Fixed64,
    Sfixed32,
    Sfixed64,
    Double,
    Float,
}

impl Scalar {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "string" => Self::String,
            "bytes" => Self::Bytes,
            "bool" => Self::Bool,
            "int32" => Self::Int32,
            "int64" => Self::Int64,
            "uint32" => Self::Uint32,
            "uint64" => Self::Uint64,
            "sint32" => Self::Sint32,
            "sint64" => Self::Sint64,
            "fixed32" => Self::Fixed32,
            "fixed64" => Self::Fixed64,
            "sfixed32" => Self::Sfixed32,
            "sfixed64" => Self::Sfixed64,
            "double" => Self::Double,
            "float" => Self::Float,
            _ => return None,
        })
    }
}

/// A field's type: a scalar, a message (index into [`Schema::messages`]), or a message the
/// table names but does not define (rendered schema-less, with a note).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// A protobuf scalar.
    Scalar(Scalar),
    /// A message of the schema.
    Message(usize),
    /// A message the schema does not have.
    Unresolved,
}

/// Go types that write their own JSON (`MarshalJSON`), and Go slices carried as messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    /// An ordinary struct.
    None,
    /// `meta/v1.Time`: RFC 3339 in seconds, zero as `null`.
    Time,
    /// `meta/v1.MicroTime`: RFC 3339 with microseconds, zero as `null`.
    MicroTime,
    /// `meta/v1.Duration`: Go's `time.Duration` string (`1h0m0s`).
    Duration,
    /// `resource.Quantity`: its string.
    Quantity,
    /// `intstr.IntOrString`: a number or a string.
    IntOrString,
    /// `RawExtension`, `FieldsV1`, apiextensions `JSON`: the bytes are JSON, embedded.
    RawJson,
    /// `JSONSchemaPropsOrBool`: the schema, or a boolean.
    OrBool,
    /// `JSONSchemaPropsOrArray`: an array of schemas, or one schema.
    OrArray,
    /// `JSONSchemaPropsOrStringArray`: an array of strings, or a schema.
    OrStringArray,
    /// A Go slice type (`type ExtraValue []string`): field 1's items as a JSON array.
    Array,
}

/// One field of a message.
#[derive(Debug, Clone)]
pub struct FieldDef {
    /// Protobuf field number.
    pub number: u32,
    /// The JSON name (from the Go `json` tag).
    pub json: &'static str,
    /// The type (a map's value type for maps).
    pub ty: Type,
    /// A map's key type.
    pub key: Option<Type>,
    /// `repeated`.
    pub repeated: bool,
    /// `map<K, V>`.
    pub map: bool,
    /// `omitempty`.
    pub omitempty: bool,
    /// `json:",inline"` (or an embedded struct): fields merged into the parent.
    pub inline: bool,
    /// A Go pointer: absent means `nil`.
    pub pointer: bool,
    /// `json:"-"`: never shown.
    pub hidden: bool,
}

/// One message.
#[derive(Debug, Clone)]
pub struct Message {
    /// Short name, e.g. `core.v1.Pod`, `m.meta.v1.ObjectMeta`.
    pub name: &'static str,
    /// Custom JSON, if any.
    pub special: Special,
    /// Fields, sorted by number.
    pub fields: Vec<FieldDef>,
}

impl Message {
    /// The field with this number.
    pub fn field(&self, number: u32) -> Option<&FieldDef> {
        self.fields
            .binary_search_by_key(&number, |f| f.number)
            .ok()
            .and_then(|i| self.fields.get(i))
    }
}

/// The parsed table.
#[derive(Debug)]
pub struct Schema {
    /// Every message.
    pub messages: Vec<Message>,
    by_name: HashMap<&'static str, usize>,
    kinds: HashMap<(&'static str, &'static str), usize>,
    /// The source line of the table (releases it was generated from).
    pub source: &'static str,
}

impl Schema {
    /// The embedded schema, parsed on first use.
    pub fn get() -> &'static Schema {
        static SCHEMA: OnceLock<Schema> = OnceLock::new();
        SCHEMA.get_or_init(|| Schema::parse(TABLE))
    }

    /// Parses a table. Malformed lines are skipped (the embedded table has none; a test
    /// checks every line is used).
    pub fn parse(table: &'static str) -> Schema {
        let mut messages: Vec<Message> = Vec::new();
        let mut raw_fields: Vec<Vec<[&'static str; 4]>> = Vec::new();
        let mut kind_lines = Vec::new();
        let mut source = "";
        for (i, line) in table.lines().enumerate() {
            if i == 2 {
                source = line.trim_start_matches("# ");
            }
            let cols: Vec<&'static str> = line.split('\t').collect();
            match cols.as_slice() {
                ["K", av, kind, msg] => kind_lines.push((*av, *kind, *msg)),
                ["M", name, special] => {
                    messages.push(Message {
                        name,
                        special: match *special {
                            "time" => Special::Time,
                            "microtime" => Special::MicroTime,
                            "duration" => Special::Duration,
                            "quantity" => Special::Quantity,
                            "intorstring" => Special::IntOrString,
                            "rawjson" => Special::RawJson,
                            "orbool" => Special::OrBool,
                            "orarray" => Special::OrArray,
                            "orstringarray" => Special::OrStringArray,
                            "array" => Special::Array,
                            _ => Special::None,
                        },
                        fields: Vec::new(),
                    });
                    raw_fields.push(Vec::new());
                }
                ["F", num, json, ty, flags] => {
                    if let Some(last) = raw_fields.last_mut() {
                        last.push([num, json, ty, flags]);
                    }
                }
                _ => {}
            }
        }
        let by_name: HashMap<&'static str, usize> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| (m.name, i))
            .collect();
        let resolve = |t: &str| match Scalar::parse(t) {
            Some(s) => Type::Scalar(s),
            None => by_name
                .get(t)
                .map_or(Type::Unresolved, |&i| Type::Message(i)),
        };
        for (message, raws) in messages.iter_mut().zip(raw_fields) {
            for [num, json, ty, flags] in raws {
                let Ok(number) = num.parse() else { continue };
                let map = flags.contains('m');
                let (key, ty) = match ty.split_once(',') {
                    Some((k, v)) if map => (Some(resolve(k)), resolve(v)),
                    _ => (None, resolve(ty)),
                };
                message.fields.push(FieldDef {
                    number,
                    json,
                    ty,
                    key,
                    repeated: flags.contains('r'),
                    map,
                    omitempty: flags.contains('o'),
                    inline: flags.contains('i'),
                    pointer: flags.contains('p'),
                    hidden: flags.contains('x'),
                });
            }
            message.fields.sort_by_key(|f| f.number);
        }
        let kinds = kind_lines
            .into_iter()
            .filter_map(|(av, kind, msg)| Some(((av, kind), *by_name.get(msg)?)))
            .collect();
        Schema {
            messages,
            by_name,
            kinds,
            source,
        }
    }

    /// The message of a kind, by `apiVersion` and `kind`.
    pub fn kind(&self, api_version: &str, kind: &str) -> Option<&Message> {
        let i = *self.kinds.get(&(api_version, kind))?;
        self.messages.get(i)
    }

    /// The index in [`Schema::messages`] of a kind's message.
    pub fn kind_index(&self, api_version: &str, kind: &str) -> Option<usize> {
        self.kinds.get(&(api_version, kind)).copied()
    }

    /// A message by its short name.
    pub fn message(&self, name: &str) -> Option<&Message> {
        self.messages.get(*self.by_name.get(name)?)
    }

    /// Every `(apiVersion, kind)` the schema has, sorted.
    pub fn kinds(&self) -> Vec<(&'static str, &'static str)> {
        let mut v: Vec<_> = self.kinds.keys().copied().collect();
        v.sort_unstable();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_whole() {
        let s = Schema::get();
        let lines = TABLE.lines().filter(|l| !l.starts_with('#')).count();
        let fields: usize = s.messages.iter().map(|m| m.fields.len()).sum();
        assert_eq!(lines, s.messages.len() + fields + s.kinds.len());
        // Every message type the table names is defined.
        for m in &s.messages {
            for f in &m.fields {
                assert_ne!(f.ty, Type::Unresolved, "{}.{}", m.name, f.json);
            }
        }
        let pod = s.kind("v1", "Pod").unwrap();
        assert_eq!(pod.name, "core.v1.Pod");
        let meta = pod.field(1).unwrap();
        assert_eq!(meta.json, "metadata");
        assert!(s.kind("policy/v1beta1", "PodSecurityPolicy").is_some());
        assert!(
            s.kind("autoscaling/v2beta2", "HorizontalPodAutoscaler")
                .is_some()
        );
        assert!(s.kind("extensions/v1beta1", "Deployment").is_some());
        assert!(
            s.kind("apiregistration.k8s.io/v1beta1", "APIService")
                .is_some()
        );
        let vol = s.message("core.v1.Volume").unwrap().field(2).unwrap();
        assert!(vol.inline && !vol.pointer);
    }
}
