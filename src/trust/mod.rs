//! What "trusting the registry" means for each party, as data: a node's container runtime
//! ([`node`]: containerd's hosts.toml, k3s's registries.yaml) and a workstation's tools and
//! trust store ([`workstation`]). Pure: the node agent and `trust-local` do the I/O.

pub mod node;
pub mod workstation;
