//! kubectl's resource names mapped to the apiserver's etcd key layout.
//!
//! A user asks for `deploy`, `po`, `svc`, `nodes` or `widgets.example.com`; the apiserver
//! stores them at `/registry/deployments/`, `/registry/pods/`, `/registry/services/specs/`,
//! `/registry/minions/` and `/registry/example.com/widgets/`. The table below is the built-in
//! resources with their singular and short names (as `kubectl api-resources` lists them) and
//! the key prefix the apiserver's storage uses for each, including its historical exceptions
//! (`services/specs`, `services/endpoints`, `minions`, `controllers` for
//! replicationcontrollers, `ingress`, `podsecuritypolicy`, and the group-prefixed
//! `apiextensions.k8s.io/customresourcedefinitions` and `apiregistration.k8s.io/apiservices`).
//! Anything else is taken for a custom resource, stored under `<group>/<plural>`.

/// One resource kind as the user names it and as etcd stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource {
    /// Plural name, e.g. `deployments`.
    pub plural: &'static str,
    /// Singular name, e.g. `deployment`.
    pub singular: &'static str,
    /// Short names, e.g. `deploy`.
    pub short: &'static [&'static str],
    /// API group (`""` for core).
    pub group: &'static str,
    /// Kind, e.g. `Deployment`.
    pub kind: &'static str,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// The key path under the etcd prefix, e.g. `services/specs`.
    pub etcd: &'static str,
}

macro_rules! r {
    ($plural:literal, $singular:literal, [$($s:literal),*], $group:literal, $kind:literal, $ns:literal, $etcd:literal) => {
        Resource { plural: $plural, singular: $singular, short: &[$($s),*], group: $group, kind: $kind, namespaced: $ns, etcd: $etcd }
    };
}

/// The built-in resources (Kubernetes 1.36) that are stored in etcd, and those of removed API
/// groups and versions that old clusters may still hold (ResourceClass, PodSchedulingContext,
/// PodScheduling, ClusterCIDR, PodPreset, AuditSink: the apiserver's default key, the plural).
pub const BUILTIN: &[Resource] = &[
    r!(
        "configmaps",
        "configmap",
        ["cm"],
        "",
        "ConfigMap",
        true,
        "configmaps"
    ),
    r!(
        "endpoints",
        "endpoints",
        ["ep"],
        "",
        "Endpoints",
        true,
        "services/endpoints"
    ),
    r!("events", "event", ["ev"], "", "Event", true, "events"),
    r!(
        "limitranges",
        "limitrange",
        ["limits"],
        "",
        "LimitRange",
        true,
        "limitranges"
    ),
    r!(
        "namespaces",
        "namespace",
        ["ns"],
        "",
        "Namespace",
        false,
        "namespaces"
    ),
    r!("nodes", "node", ["no"], "", "Node", false, "minions"),
    r!(
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        ["pvc"],
        "",
        "PersistentVolumeClaim",
        true,
        "persistentvolumeclaims"
    ),
    r!(
        "persistentvolumes",
        "persistentvolume",
        ["pv"],
        "",
        "PersistentVolume",
        false,
        "persistentvolumes"
    ),
    r!("pods", "pod", ["po"], "", "Pod", true, "pods"),
    r!(
        "podtemplates",
        "podtemplate",
        [],
        "",
        "PodTemplate",
        true,
        "podtemplates"
    ),
    r!(
        "replicationcontrollers",
        "replicationcontroller",
        ["rc"],
        "",
        "ReplicationController",
        true,
        "controllers"
    ),
    r!(
        "resourcequotas",
        "resourcequota",
        ["quota"],
        "",
        "ResourceQuota",
        true,
        "resourcequotas"
    ),
    r!("secrets", "secret", [], "", "Secret", true, "secrets"),
    r!(
        "serviceaccounts",
        "serviceaccount",
        ["sa"],
        "",
        "ServiceAccount",
        true,
        "serviceaccounts"
    ),
    r!(
        "services",
        "service",
        ["svc"],
        "",
        "Service",
        true,
        "services/specs"
    ),
    r!(
        "mutatingwebhookconfigurations",
        "mutatingwebhookconfiguration",
        [],
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
        false,
        "mutatingwebhookconfigurations"
    ),
    r!(
        "validatingwebhookconfigurations",
        "validatingwebhookconfiguration",
        [],
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
        false,
        "validatingwebhookconfigurations"
    ),
    r!(
        "validatingadmissionpolicies",
        "validatingadmissionpolicy",
        [],
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicy",
        false,
        "validatingadmissionpolicies"
    ),
    r!(
        "validatingadmissionpolicybindings",
        "validatingadmissionpolicybinding",
        [],
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
        false,
        "validatingadmissionpolicybindings"
    ),
    r!(
        "mutatingadmissionpolicies",
        "mutatingadmissionpolicy",
        [],
        "admissionregistration.k8s.io",
        "MutatingAdmissionPolicy",
        false,
        "mutatingadmissionpolicies"
    ),
    r!(
        "mutatingadmissionpolicybindings",
        "mutatingadmissionpolicybinding",
        [],
        "admissionregistration.k8s.io",
        "MutatingAdmissionPolicyBinding",
        false,
        "mutatingadmissionpolicybindings"
    ),
    r!(
        "customresourcedefinitions",
        "customresourcedefinition",
        ["crd", "crds"],
        "apiextensions.k8s.io",
        "CustomResourceDefinition",
        false,
        "apiextensions.k8s.io/customresourcedefinitions"
    ),
    r!(
        "apiservices",
        "apiservice",
        [],
        "apiregistration.k8s.io",
        "APIService",
        false,
        "apiregistration.k8s.io/apiservices"
    ),
    r!(
        "controllerrevisions",
        "controllerrevision",
        [],
        "apps",
        "ControllerRevision",
        true,
        "controllerrevisions"
    ),
    r!(
        "daemonsets",
        "daemonset",
        ["ds"],
        "apps",
        "DaemonSet",
        true,
        "daemonsets"
    ),
    r!(
        "deployments",
        "deployment",
        ["deploy"],
        "apps",
        "Deployment",
        true,
        "deployments"
    ),
    r!(
        "replicasets",
        "replicaset",
        ["rs"],
        "apps",
        "ReplicaSet",
        true,
        "replicasets"
    ),
    r!(
        "statefulsets",
        "statefulset",
        ["sts"],
        "apps",
        "StatefulSet",
        true,
        "statefulsets"
    ),
    r!(
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        ["hpa"],
        "autoscaling",
        "HorizontalPodAutoscaler",
        true,
        "horizontalpodautoscalers"
    ),
    r!(
        "cronjobs",
        "cronjob",
        ["cj"],
        "batch",
        "CronJob",
        true,
        "cronjobs"
    ),
    r!("jobs", "job", [], "batch", "Job", true, "jobs"),
    r!(
        "certificatesigningrequests",
        "certificatesigningrequest",
        ["csr"],
        "certificates.k8s.io",
        "CertificateSigningRequest",
        false,
        "certificatesigningrequests"
    ),
    r!(
        "clustertrustbundles",
        "clustertrustbundle",
        [],
        "certificates.k8s.io",
        "ClusterTrustBundle",
        false,
        "clustertrustbundles"
    ),
    r!(
        "podcertificaterequests",
        "podcertificaterequest",
        [],
        "certificates.k8s.io",
        "PodCertificateRequest",
        true,
        "podcertificaterequests"
    ),
    r!(
        "leases",
        "lease",
        [],
        "coordination.k8s.io",
        "Lease",
        true,
        "leases"
    ),
    r!(
        "leasecandidates",
        "leasecandidate",
        [],
        "coordination.k8s.io",
        "LeaseCandidate",
        true,
        "leasecandidates"
    ),
    r!(
        "endpointslices",
        "endpointslice",
        [],
        "discovery.k8s.io",
        "EndpointSlice",
        true,
        "endpointslices"
    ),
    r!(
        "flowschemas",
        "flowschema",
        [],
        "flowcontrol.apiserver.k8s.io",
        "FlowSchema",
        false,
        "flowschemas"
    ),
    r!(
        "prioritylevelconfigurations",
        "prioritylevelconfiguration",
        [],
        "flowcontrol.apiserver.k8s.io",
        "PriorityLevelConfiguration",
        false,
        "prioritylevelconfigurations"
    ),
    r!(
        "ingressclasses",
        "ingressclass",
        [],
        "networking.k8s.io",
        "IngressClass",
        false,
        "ingressclasses"
    ),
    r!(
        "clustercidrs",
        "clustercidr",
        [],
        "networking.k8s.io",
        "ClusterCIDR",
        false,
        "clustercidrs"
    ),
    r!(
        "ingresses",
        "ingress",
        ["ing"],
        "networking.k8s.io",
        "Ingress",
        true,
        "ingress"
    ),
    r!(
        "networkpolicies",
        "networkpolicy",
        ["netpol"],
        "networking.k8s.io",
        "NetworkPolicy",
        true,
        "networkpolicies"
    ),
    r!(
        "ipaddresses",
        "ipaddress",
        ["ip"],
        "networking.k8s.io",
        "IPAddress",
        false,
        "ipaddresses"
    ),
    r!(
        "servicecidrs",
        "servicecidr",
        [],
        "networking.k8s.io",
        "ServiceCIDR",
        false,
        "servicecidrs"
    ),
    r!(
        "runtimeclasses",
        "runtimeclass",
        [],
        "node.k8s.io",
        "RuntimeClass",
        false,
        "runtimeclasses"
    ),
    r!(
        "poddisruptionbudgets",
        "poddisruptionbudget",
        ["pdb"],
        "policy",
        "PodDisruptionBudget",
        true,
        "poddisruptionbudgets"
    ),
    r!(
        "podsecuritypolicies",
        "podsecuritypolicy",
        ["psp"],
        "policy",
        "PodSecurityPolicy",
        false,
        "podsecuritypolicy"
    ),
    r!(
        "clusterrolebindings",
        "clusterrolebinding",
        [],
        "rbac.authorization.k8s.io",
        "ClusterRoleBinding",
        false,
        "clusterrolebindings"
    ),
    r!(
        "clusterroles",
        "clusterrole",
        [],
        "rbac.authorization.k8s.io",
        "ClusterRole",
        false,
        "clusterroles"
    ),
    r!(
        "rolebindings",
        "rolebinding",
        [],
        "rbac.authorization.k8s.io",
        "RoleBinding",
        true,
        "rolebindings"
    ),
    r!(
        "roles",
        "role",
        [],
        "rbac.authorization.k8s.io",
        "Role",
        true,
        "roles"
    ),
    r!(
        "deviceclasses",
        "deviceclass",
        [],
        "resource.k8s.io",
        "DeviceClass",
        false,
        "deviceclasses"
    ),
    r!(
        "devicetaintrules",
        "devicetaintrule",
        [],
        "resource.k8s.io",
        "DeviceTaintRule",
        false,
        "devicetaintrules"
    ),
    r!(
        "resourceclaims",
        "resourceclaim",
        [],
        "resource.k8s.io",
        "ResourceClaim",
        true,
        "resourceclaims"
    ),
    r!(
        "resourceclaimtemplates",
        "resourceclaimtemplate",
        [],
        "resource.k8s.io",
        "ResourceClaimTemplate",
        true,
        "resourceclaimtemplates"
    ),
    r!(
        "resourceslices",
        "resourceslice",
        [],
        "resource.k8s.io",
        "ResourceSlice",
        false,
        "resourceslices"
    ),
    r!(
        "resourcepoolstatusrequests",
        "resourcepoolstatusrequest",
        [],
        "resource.k8s.io",
        "ResourcePoolStatusRequest",
        false,
        "resourcepoolstatusrequests"
    ),
    r!(
        "resourceclasses",
        "resourceclass",
        [],
        "resource.k8s.io",
        "ResourceClass",
        false,
        "resourceclasses"
    ),
    r!(
        "podschedulingcontexts",
        "podschedulingcontext",
        [],
        "resource.k8s.io",
        "PodSchedulingContext",
        true,
        "podschedulingcontexts"
    ),
    r!(
        "podschedulings",
        "podscheduling",
        [],
        "resource.k8s.io",
        "PodScheduling",
        true,
        "podschedulings"
    ),
    r!(
        "priorityclasses",
        "priorityclass",
        ["pc"],
        "scheduling.k8s.io",
        "PriorityClass",
        false,
        "priorityclasses"
    ),
    r!(
        "podgroups",
        "podgroup",
        [],
        "scheduling.k8s.io",
        "PodGroup",
        true,
        "podgroups"
    ),
    r!(
        "workloads",
        "workload",
        [],
        "scheduling.k8s.io",
        "Workload",
        true,
        "workloads"
    ),
    r!(
        "podpresets",
        "podpreset",
        [],
        "settings.k8s.io",
        "PodPreset",
        true,
        "podpresets"
    ),
    r!(
        "auditsinks",
        "auditsink",
        [],
        "auditregistration.k8s.io",
        "AuditSink",
        false,
        "auditsinks"
    ),
    r!(
        "csidrivers",
        "csidriver",
        [],
        "storage.k8s.io",
        "CSIDriver",
        false,
        "csidrivers"
    ),
    r!(
        "csinodes",
        "csinode",
        [],
        "storage.k8s.io",
        "CSINode",
        false,
        "csinodes"
    ),
    r!(
        "csistoragecapacities",
        "csistoragecapacity",
        [],
        "storage.k8s.io",
        "CSIStorageCapacity",
        true,
        "csistoragecapacities"
    ),
    r!(
        "storageclasses",
        "storageclass",
        ["sc"],
        "storage.k8s.io",
        "StorageClass",
        false,
        "storageclasses"
    ),
    r!(
        "volumeattachments",
        "volumeattachment",
        [],
        "storage.k8s.io",
        "VolumeAttachment",
        false,
        "volumeattachments"
    ),
    r!(
        "volumeattributesclasses",
        "volumeattributesclass",
        ["vac"],
        "storage.k8s.io",
        "VolumeAttributesClass",
        false,
        "volumeattributesclasses"
    ),
    r!(
        "storageversionmigrations",
        "storageversionmigration",
        [],
        "storagemigration.k8s.io",
        "StorageVersionMigration",
        false,
        "storageversionmigrations"
    ),
    r!(
        "storageversions",
        "storageversion",
        [],
        "internal.apiserver.k8s.io",
        "StorageVersion",
        false,
        "storageversions"
    ),
];

/// Groups a resource also had in older releases (kubectl accepts `deployments.extensions`,
/// and the objects are stored under the same key).
const OLD_GROUPS: &[(&str, &str)] = &[
    ("deployments", "extensions"),
    ("daemonsets", "extensions"),
    ("replicasets", "extensions"),
    ("ingresses", "extensions"),
    ("networkpolicies", "extensions"),
    ("podsecuritypolicies", "extensions"),
    ("events", "events.k8s.io"),
];

/// What a resource argument resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// A built-in resource.
    Builtin(Resource),
    /// A custom resource `<plural>.<group>`: stored under `<group>/<plural>`, scope unknown
    /// (the key says it: two segments after the resource are namespace and name).
    Custom {
        /// Plural name.
        plural: String,
        /// API group.
        group: String,
    },
    /// A name without a group that is no built-in: the caller looks for `<group>/<name>` in
    /// the snapshot.
    Unknown(String),
}

/// Resolves what a user typed (`po`, `pods`, `pod`, `Pod`, `deployments.apps`,
/// `widgets.example.com`) as kubectl does.
pub fn resolve(arg: &str) -> Resolved {
    let lower = arg.to_ascii_lowercase();
    let (name, group) = match lower.split_once('.') {
        Some((n, g)) => (n, Some(g)),
        None => (lower.as_str(), None),
    };
    let matches = |r: &Resource| {
        (r.plural == name
            || r.singular == name
            || r.short.contains(&name)
            || r.kind.eq_ignore_ascii_case(name))
            && group.is_none_or(|g| {
                g == r.group
                    || r.group.starts_with(&format!("{g}."))
                    || OLD_GROUPS.contains(&(r.plural, g))
            })
    };
    if let Some(r) = BUILTIN.iter().find(|r| matches(r)) {
        return Resolved::Builtin(*r);
    }
    match group {
        Some(g) => Resolved::Custom {
            plural: name.to_owned(),
            group: g.to_owned(),
        },
        None => Resolved::Unknown(lower),
    }
}

impl Resource {
    /// `kind.group` in lowercase as `kubectl get -o name` prints it (`deployment.apps`, `pod`).
    pub fn name_prefix(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_ascii_lowercase()
        } else {
            format!("{}.{}", self.kind.to_ascii_lowercase(), self.group)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_kubectl_takes_them() {
        let b = |s: &str| match resolve(s) {
            Resolved::Builtin(r) => r.etcd,
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(b("po"), "pods");
        assert_eq!(b("Pod"), "pods");
        assert_eq!(b("svc"), "services/specs");
        assert_eq!(b("ep"), "services/endpoints");
        assert_eq!(b("nodes"), "minions");
        assert_eq!(b("rc"), "controllers");
        assert_eq!(b("deploy"), "deployments");
        assert_eq!(b("deployments.apps"), "deployments");
        assert_eq!(b("deployments.extensions"), "deployments");
        assert_eq!(b("ing"), "ingress");
        assert_eq!(b("psp"), "podsecuritypolicy");
        assert_eq!(b("crd"), "apiextensions.k8s.io/customresourcedefinitions");
        assert_eq!(b("clusterroles.rbac"), "clusterroles");
        assert_eq!(
            resolve("widgets.example.com"),
            Resolved::Custom {
                plural: "widgets".into(),
                group: "example.com".into()
            }
        );
        assert_eq!(resolve("widgets"), Resolved::Unknown("widgets".into()));
        // Kinds of 1.35/1.36 at the keys the apiserver's own storage test expects
        // (kubernetes test/integration/etcd/data.go, ExpectedEtcdPath), with their scope.
        let k = |s: &str| match resolve(s) {
            Resolved::Builtin(r) => (r.etcd, r.namespaced),
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(
            k("podcertificaterequests.certificates.k8s.io"),
            ("podcertificaterequests", true)
        );
        assert_eq!(k("devicetaintrules"), ("devicetaintrules", false));
        assert_eq!(
            k("resourcepoolstatusrequest"),
            ("resourcepoolstatusrequests", false)
        );
        assert_eq!(k("podgroups.scheduling.k8s.io"), ("podgroups", true));
        assert_eq!(k("Workload"), ("workloads", true));
        // Removed kinds old clusters may still hold (data.go of their releases).
        assert_eq!(k("podschedulingcontexts"), ("podschedulingcontexts", true));
        assert_eq!(k("podpresets.settings.k8s.io"), ("podpresets", true));
        assert_eq!(k("auditsink"), ("auditsinks", false));
        // Every built-in kind is in the schema.
        let schema = crate::schema::Schema::get();
        for r in BUILTIN {
            let found = schema.kinds().iter().any(|(av, k)| {
                *k == r.kind && av.rsplit_once('/').map_or("", |(g, _)| g) == r.group
            });
            assert!(found, "{} {}", r.group, r.kind);
        }
    }
}
