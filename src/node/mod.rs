//! The node agent (`kreg node-agent`): what runs on every node in the privileged
//! `kreg-node-trust` DaemonSet and makes the node's container runtime trust kreg's registry.
//!
//! - [`containerd`]: containerd's registry configuration as data (pure, unit-tested).
//! - [`cri`]: a minimal CRI client, to prove trust with a real pull.
//! - [`host`]: the edge to the node: finding the runtime no Pod can impersonate, running its
//!   own binary, restarting it.
//! - [`agent`]: the loop that installs, proves, records and takes back.
//! - [`probe`]: the tiny image `up` pushes and every agent pulls.

pub(crate) mod agent;
pub(crate) mod containerd;
pub mod cri;
pub(crate) mod host;
pub mod probe;
