//! Every node pulling one image again and again through its own containerd (CRI) while
//! something changes under the registry: what the CA-rotation tests count (not one pull may
//! fail on the certificate).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use kreg::node::cri::Cri;

use super::TestCluster;

pub struct Pullers {
    stop: Arc<AtomicBool>,
    failures: Arc<Mutex<Vec<String>>>,
    threads: Vec<JoinHandle<usize>>,
}

impl Pullers {
    /// One puller per node: remove `image`, pull it, pause 300 ms, until stopped. Returns once
    /// they have run for a few seconds.
    pub fn start(tc: &TestCluster, image: &str) -> Pullers {
        let stop = Arc::new(AtomicBool::new(false));
        let failures = Arc::new(Mutex::new(Vec::<String>::new()));
        let mut threads = vec![];
        for node in &tc.nodes {
            let sock = node.containerd_sock.clone().expect("node socket");
            let (stop, failures, image, name) = (
                stop.clone(),
                failures.clone(),
                image.to_string(),
                node.name.clone(),
            );
            threads.push(std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                let mut ok = 0usize;
                rt.block_on(async {
                    let mut cri = Cri::new(&sock);
                    let _ = cri.version().await;
                    while !stop.load(Ordering::Relaxed) {
                        let _ = cri.remove(&image).await;
                        match cri.pull(&image, None, Duration::from_secs(30)).await {
                            Ok(_) => ok += 1,
                            Err(e) => failures.lock().unwrap().push(format!("{name}: {e:#}")),
                        }
                        tokio::time::sleep(Duration::from_millis(300)).await;
                    }
                });
                ok
            }));
        }
        std::thread::sleep(Duration::from_secs(3));
        Pullers {
            stop,
            failures,
            threads,
        }
    }

    /// Stops them: each node's successful pulls, then the failures split into those on the
    /// certificate (x509) and the rest (the registry pod being replaced refuses connections).
    pub fn stop(self) -> (Vec<usize>, Vec<String>, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        let pulls = self
            .threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        let failures = self.failures.lock().unwrap().clone();
        let (x509, other) = failures.into_iter().partition(|f| {
            let f = f.to_lowercase();
            f.contains("x509") || f.contains("certificate") || f.contains("tls:")
        });
        (pulls, x509, other)
    }
}
