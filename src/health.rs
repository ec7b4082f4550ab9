//! `kreg status`'s health rules: from what was observed of an installation to the problems that
//! make it unhealthy (exit 3), in the order `status` prints them. Pure: `commands/status`
//! observes (the API, a TLS request) and fills [`Observed`]; what counts as a problem is here.
//!
//! Warnings (anonymous access, cache reach) are not problems: they are choices, said but not
//! failed on.

use crate::plan::names;

/// The registry Deployment as observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replicas {
    pub desired: i32,
    pub ready: i32,
}

/// The serving certificate as observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Certificate {
    /// `--expose localhost`: plain HTTP by design, nothing to check.
    PlainHttp,
    Missing,
    Unreadable(String),
    /// Read; whether it covers the current address and is still valid.
    Read {
        covers: bool,
    },
}

/// The `--auth` credentials as observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// `--auth` is off.
    Off,
    Usable,
    MissingOrDamaged,
    Unreadable(String),
}

/// Node trust as observed (only with node trust on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeTrust {
    pub trusted: usize,
    pub total: usize,
    /// The first untrusted nodes' names, for the message.
    pub untrusted: String,
}

/// Everything `status` read that a rule looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// `None`: the Deployment is missing.
    pub registry: Option<Replicas>,
    /// Why pushes are refused (a gc running or interrupted), when they are.
    pub read_only: Option<String>,
    pub service: bool,
    /// The address the certificate was issued for, and the one the cluster gives now.
    pub address_recorded: Option<String>,
    pub address_now: Option<String>,
    pub certificate: Certificate,
    /// The data volume's phase; `None` without a PVC (emptyDir, S3).
    pub volume_phase: Option<String>,
    pub credentials: Credentials,
    pub node_trust: Option<NodeTrust>,
    /// The TLS request to `/v2/`: `None` when not made (no ready pod, no CA).
    pub probe: Option<Result<(), String>>,
    /// Reading the probe image's layer, which only works while the storage does (`/v2/`
    /// answers without it): `None` when not made (no probe, or the image was never pushed).
    pub storage: Option<Result<(), String>>,
}

/// The problems, one line each, each saying what to do; none means healthy.
pub fn problems(o: &Observed) -> Vec<String> {
    let mut p = vec![];
    match &o.registry {
        None => p.push(format!(
            "Deployment {} is missing (run `kreg up`)",
            names::REGISTRY
        )),
        Some(r) => {
            p.extend(o.read_only.clone());
            if r.desired == 0 {
                // 0 of 0 ready is not healthy: nothing serves the registry.
                p.push(format!(
                    "Deployment {} is scaled to 0 registry pods (run `kreg up` to restore it)",
                    names::REGISTRY
                ));
            } else if r.ready < r.desired {
                p.push(format!("{} of {} registry pods ready", r.ready, r.desired));
            }
        }
    }
    if !o.service {
        p.push(format!(
            "Service {} is missing (run `kreg up`)",
            names::REGISTRY
        ));
    }
    if let (Some(now), Some(then)) = (&o.address_now, &o.address_recorded) {
        if now != then {
            p.push(format!(
                "the address changed from {then} to {now}: run `kreg up` to re-issue the certificate"
            ));
        }
    }
    match &o.certificate {
        Certificate::PlainHttp | Certificate::Read { covers: true } => {}
        Certificate::Missing => p.push(format!(
            "Secret {} (the serving certificate) is missing",
            names::TLS_SECRET
        )),
        Certificate::Unreadable(e) => {
            p.push(format!("the serving certificate cannot be read: {e}"))
        }
        Certificate::Read { covers: false } => p.push(
            "the serving certificate does not cover the current address or has expired: run `kreg up`"
                .into(),
        ),
    }
    if let Some(phase) = o.volume_phase.as_deref().filter(|ph| *ph != "Bound") {
        p.push(format!("PVC {} is {phase}, not Bound", names::DATA_PVC));
    }
    match &o.credentials {
        Credentials::Off | Credentials::Usable => {}
        Credentials::MissingOrDamaged => p.push(format!(
            "--auth is on but Secret {} is missing or damaged: run `kreg up --auth` to generate a new password",
            names::AUTH_SECRET
        )),
        Credentials::Unreadable(e) => p.push(format!("cannot read the credentials: {e}")),
    }
    // Nodes prove trust by pulling the probe image, so a registry that cannot serve (no ready
    // pod, its storage down, a failed probe) fails their pulls too: that is not a trust
    // problem, and saying so would send people to the wrong place.
    let serving = o.registry.as_ref().is_some_and(|r| r.ready > 0)
        && !matches!(&o.probe, Some(Err(_)))
        && !matches!(&o.storage, Some(Err(_)));
    if let Some(t) = o.node_trust.as_ref().filter(|t| t.trusted < t.total) {
        p.push(if serving {
            format!(
                "{} of {} nodes trust the CA (not: {})",
                t.trusted, t.total, t.untrusted
            )
        } else {
            format!(
                "node trust unknown while the registry does not serve: the probe pulls of {} of {} nodes fail (not: {}); fix the registry first",
                t.total - t.trusted,
                t.total,
                t.untrusted
            )
        });
    }
    if let Some(Err(e)) = &o.probe {
        p.push(format!("health probe failed: {e}"));
    }
    if let Some(Err(e)) = &o.storage {
        p.push(format!(
            "the registry answers but cannot serve image data (is its storage down?): {e}"
        ));
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy() -> Observed {
        Observed {
            registry: Some(Replicas {
                desired: 1,
                ready: 1,
            }),
            read_only: None,
            service: true,
            address_recorded: Some("10.0.0.2".into()),
            address_now: Some("10.0.0.2".into()),
            certificate: Certificate::Read { covers: true },
            volume_phase: Some("Bound".into()),
            credentials: Credentials::Usable,
            node_trust: Some(NodeTrust {
                trusted: 2,
                total: 2,
                untrusted: String::new(),
            }),
            probe: Some(Ok(())),
            storage: Some(Ok(())),
        }
    }

    fn one(change: impl FnOnce(&mut Observed)) -> Vec<String> {
        let mut o = healthy();
        change(&mut o);
        problems(&o)
    }

    #[test]
    fn a_working_installation_has_no_problem() {
        assert!(problems(&healthy()).is_empty());
        // emptyDir/S3 (no volume), plain HTTP, no auth, no node trust, no probe yet: fine too.
        let o = Observed {
            volume_phase: None,
            certificate: Certificate::PlainHttp,
            credentials: Credentials::Off,
            node_trust: None,
            probe: None,
            storage: None,
            ..healthy()
        };
        assert!(problems(&o).is_empty());
    }

    #[test]
    fn each_rule_names_what_is_wrong_and_what_to_do() {
        let cases: Vec<(Vec<String>, &str)> = vec![
            (
                one(|o| o.registry = None),
                "Deployment kreg-registry is missing (run `kreg up`)",
            ),
            (
                one(|o| {
                    o.registry = Some(Replicas {
                        desired: 0,
                        ready: 0,
                    })
                }),
                "scaled to 0 registry pods",
            ),
            (
                one(|o| {
                    o.registry = Some(Replicas {
                        desired: 2,
                        ready: 1,
                    })
                }),
                "1 of 2 registry pods ready",
            ),
            (
                one(|o| o.read_only = Some("read-only: gc".into())),
                "read-only: gc",
            ),
            (
                one(|o| o.service = false),
                "Service kreg-registry is missing",
            ),
            (
                one(|o| o.address_now = Some("10.0.0.9".into())),
                "the address changed from 10.0.0.2 to 10.0.0.9",
            ),
            (one(|o| o.certificate = Certificate::Missing), "kreg-tls"),
            (
                one(|o| o.certificate = Certificate::Read { covers: false }),
                "does not cover the current address",
            ),
            (
                one(|o| o.volume_phase = Some("Pending".into())),
                "is Pending, not Bound",
            ),
            (
                one(|o| o.credentials = Credentials::MissingOrDamaged),
                "run `kreg up --auth`",
            ),
            (
                one(|o| {
                    o.node_trust = Some(NodeTrust {
                        trusted: 1,
                        total: 2,
                        untrusted: "node-b".into(),
                    })
                }),
                "1 of 2 nodes trust the CA (not: node-b)",
            ),
            (
                one(|o| o.probe = Some(Err("connection refused".into()))),
                "health probe failed: connection refused",
            ),
            (
                one(|o| o.storage = Some(Err("answered 503".into()))),
                "cannot serve image data (is its storage down?): answered 503",
            ),
        ];
        for (found, want) in cases {
            assert_eq!(found.len(), 1, "{found:?}");
            assert!(found[0].contains(want), "{found:?} lacks {want:?}");
        }
    }

    /// A registry that cannot serve fails the nodes' probe pulls as well (an S3 outage did
    /// this on the node tier): the node line then points at the registry, not at trust.
    #[test]
    fn failing_probe_pulls_of_a_registry_that_does_not_serve_are_not_blamed_on_trust() {
        let untrusted = |o: &mut Observed| {
            o.node_trust = Some(NodeTrust {
                trusted: 0,
                total: 2,
                untrusted: "node-a, node-b".into(),
            })
        };
        for down in [
            one(|o| {
                untrusted(o);
                o.probe = Some(Err("503".into()));
            }),
            one(|o| {
                untrusted(o);
                o.registry = Some(Replicas {
                    desired: 2,
                    ready: 0,
                });
                o.probe = None;
            }),
            // /v2/ still answers (it needs no storage); reading a layer does not.
            one(|o| {
                untrusted(o);
                o.storage = Some(Err("GET /v2/kreg/probe/blobs/sha256:00 answered 503".into()));
            }),
        ] {
            assert_eq!(down.len(), 2, "{down:?}");
            let nodes = down.iter().find(|l| l.contains("node-a")).unwrap();
            assert!(
                nodes.starts_with("node trust unknown while the registry does not serve"),
                "{nodes}"
            );
            assert!(nodes.contains("fix the registry first"), "{nodes}");
        }
    }

    #[test]
    fn a_missing_deployment_is_not_also_reported_as_read_only() {
        let p = one(|o| {
            o.registry = None;
            o.read_only = Some("read-only".into());
        });
        assert_eq!(p.len(), 1, "{p:?}");
    }
}
