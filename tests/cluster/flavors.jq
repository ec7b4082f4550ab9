# Fake Node objects shaped like the named distribution's (kcluster flavor).
# Args: $flavor, $count, $now (RFC 3339), $kernel (this machine's), $offset (fake nodes already made).
# Output: one Node per line (metadata, spec incl. wanted taints, status).

def hex: if . < 16 then "0123456789abcdef"[.:.+1]
         else ((. / 16 | floor) | hex) + ("0123456789abcdef"[(. % 16):(. % 16) + 1]) end;
def b36: if . < 36 then "0123456789abcdefghijklmnopqrstuvwxyz"[.:.+1]
         else ((. / 36 | floor) | b36) + ("0123456789abcdefghijklmnopqrstuvwxyz"[(. % 36):(. % 36) + 1]) end;
def lpad($w): ("0" * ($w - length)) + .;
# $w pseudo-random hex digits derived from a seed (stable per node)
def rhex($seed; $w): [range(0; ($w + 7) / 8 | floor)
    | ((($seed + 1) * 2654435761 + . * 40503 + 12345) % 4294967296 | hex | lpad(8))] | add | .[0:$w];
def uuid($seed): rhex($seed; 32) | "\(.[0:8])-\(.[8:12])-\(.[12:16])-\(.[16:20])-\(.[20:32])";
def ip($a; $b; $c; $d; $n): ($c * 256 + $d + $n) as $x | "\($a).\($b).\($x / 256 | floor).\($x % 256)";

def common($host): {
  "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
  "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": $host, "kubernetes.io/os": "linux"};
def kubelet_annotations: {
  "node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"};
def cp_labels: {"node-role.kubernetes.io/control-plane": "", "node.kubernetes.io/exclude-from-external-load-balancers": ""};
def cp_taint: [{key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule"}];
def conditions: [
  {type: "MemoryPressure", status: "False", reason: "KubeletHasSufficientMemory", message: "kubelet has sufficient memory available"},
  {type: "DiskPressure", status: "False", reason: "KubeletHasNoDiskPressure", message: "kubelet has no disk pressure"},
  {type: "PIDPressure", status: "False", reason: "KubeletHasSufficientPID", message: "kubelet has sufficient PID available"},
  {type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status"}]
  | map(. + {lastHeartbeatTime: $now, lastTransitionTime: $now});

# node(g; name; labels; annotations; taints; providerID|null; podCIDR|null; addresses; os; kernel; runtime; kubelet; cap; alloc)
def node($g; $name; $labels; $ann; $taints; $pid; $podcidr; $addrs; $os; $kern; $rt; $kv; $cap; $alloc): {
  metadata: {name: $name, labels: $labels, annotations: $ann},
  spec: ({}
    + (if $pid != null then {providerID: $pid} else {} end)
    + (if $podcidr != null then {podCIDR: $podcidr, podCIDRs: [$podcidr]} else {} end)
    + (if ($taints | length) > 0 then {taints: $taints} else {} end)),
  status: {
    capacity: $cap, allocatable: $alloc, conditions: conditions, addresses: $addrs,
    daemonEndpoints: {kubeletEndpoint: {Port: 10250}},
    nodeInfo: {machineID: rhex($g + 7; 32), systemUUID: uuid($g + 11), bootID: uuid($g + 13),
      kernelVersion: $kern, osImage: $os, containerRuntimeVersion: $rt, kubeletVersion: $kv,
      kubeProxyVersion: $kv, operatingSystem: "linux", architecture: "amd64"}}};

def cap($cpu; $mem; $pods; $eph): {cpu: $cpu, memory: $mem, pods: $pods, "ephemeral-storage": $eph,
  "hugepages-1Gi": "0", "hugepages-2Mi": "0"};
def small_cidr($pre; $g): if $g < 256 then "\($pre).\($g).0/24" else null end;
def internal($ip; $host): [{type: "InternalIP", address: $ip}, {type: "Hostname", address: $host}];

def kind($g): (if $g == 0 then "kind-control-plane" elif $g == 1 then "kind-worker" else "kind-worker\($g)" end) as $n
  | ip(172; 18; 0; 2; $g) as $ip
  | node($g; $n; common($n) + (if $g == 0 then cp_labels else {} end);
      {"kubeadm.alpha.kubernetes.io/cri-socket": "unix:///run/containerd/containerd.sock"} + kubelet_annotations;
      (if $g == 0 and $count > 1 then cp_taint else [] end);
      "kind://docker/kind/\($n)"; small_cidr("10.244"; $g); internal($ip; $n);
      "Debian GNU/Linux 12 (bookworm)"; $kernel; "containerd://1.7.13"; "v1.29.2";
      cap("4"; "16331932Ki"; "110"; "263112772Ki"); cap("4"; "16331932Ki"; "110"; "263112772Ki"));

def k3s_like($g; $n; $ip; $os):
  node($g; $n;
      common($n) + {"node.kubernetes.io/instance-type": "k3s", "beta.kubernetes.io/instance-type": "k3s"}
        + (if $g == 0 then {"node-role.kubernetes.io/control-plane": "true", "node-role.kubernetes.io/master": "true"} else {} end);
      {"k3s.io/hostname": $n, "k3s.io/internal-ip": $ip,
       "k3s.io/node-args": (if $g == 0 then "[\"server\"]" else "[\"agent\"]" end),
       "k3s.io/node-config-hash": "\(rhex($g + 17; 52) | ascii_upcase)====",
       "flannel.alpha.coreos.com/backend-data": "{\"VNI\":1,\"VtepMAC\":\"\(rhex($g; 2)):\(rhex($g + 1; 2)):\(rhex($g + 2; 2)):\(rhex($g + 3; 2)):\(rhex($g + 4; 2)):\(rhex($g + 5; 2))\"}",
       "flannel.alpha.coreos.com/backend-type": "vxlan", "flannel.alpha.coreos.com/kube-subnet-manager": "true",
       "flannel.alpha.coreos.com/public-ip": $ip} + kubelet_annotations;
      []; "k3s://\($n)"; small_cidr("10.42"; $g); internal($ip; $n);
      $os; $kernel; "containerd://1.7.11-k3s2"; "v1.29.2+k3s1";
      cap("2"; "4015336Ki"; "110"; "40581564Ki"); cap("2"; "4015336Ki"; "110"; "39477151259"));
def k3s($g): (if $g == 0 then "k3s-server" else "k3s-agent-\($g)" end) as $n
  | k3s_like($g; $n; ip(192; 168; 1; 10; $g); "Ubuntu 22.04.4 LTS");
def k3d($g): (if $g == 0 then "k3d-k3s-default-server-0" else "k3d-k3s-default-agent-\($g - 1)" end) as $n
  | k3s_like($g; $n; ip(172; 18; 0; 2; $g); "K3s v1.29.2+k3s1");

def minikube($g): (if $g == 0 then "minikube" else "minikube-m\($g + 1 | tostring | lpad(2))" end) as $n
  | ip(192; 168; 49; 2; $g) as $ip
  | node($g; $n;
      common($n) + {"minikube.k8s.io/commit": "8220a6eb95f0a4d75f7f2d7b14cef975f050512d", "minikube.k8s.io/name": "minikube",
        "minikube.k8s.io/primary": ($g == 0 | tostring), "minikube.k8s.io/updated_at": "2024_01_15T10_00_00_0700",
        "minikube.k8s.io/version": "v1.32.0"} + (if $g == 0 then cp_labels else {} end);
      {"kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/cri-dockerd.sock"} + kubelet_annotations;
      []; null; small_cidr("10.244"; $g); internal($ip; $n);
      "Ubuntu 22.04.3 LTS"; $kernel; "docker://24.0.7"; "v1.28.3";
      cap("2"; "8025424Ki"; "110"; "102626232Ki"); cap("2"; "8025424Ki"; "110"; "102626232Ki"));

def eks($g): (["us-east-1a", "us-east-1b", "us-east-1c"][$g % 3]) as $zone
  | ip(192; 168; 10; 10; $g) as $ip | "198.51.100.\($g % 250 + 1)" as $ext
  | "ip-\($ip | gsub("\\."; "-")).ec2.internal" as $n
  | node($g; $n;
      common($n) + {"node.kubernetes.io/instance-type": "m5.large", "beta.kubernetes.io/instance-type": "m5.large",
        "topology.kubernetes.io/region": "us-east-1", "topology.kubernetes.io/zone": $zone,
        "failure-domain.beta.kubernetes.io/region": "us-east-1", "failure-domain.beta.kubernetes.io/zone": $zone,
        "eks.amazonaws.com/nodegroup": "ng-default", "eks.amazonaws.com/nodegroup-image": "ami-0c7d5a1e8a4d3b2f1",
        "eks.amazonaws.com/capacityType": "ON_DEMAND", "eks.amazonaws.com/sourceLaunchTemplateId": "lt-0a1b2c3d4e5f67890",
        "eks.amazonaws.com/sourceLaunchTemplateVersion": "1", "k8s.io/cloud-provider-aws": "a94967527effcefb5f5829f529c0a1b9"};
      {"alpha.kubernetes.io/provided-node-ip": $ip} + kubelet_annotations;
      []; "aws:///\($zone)/i-0\(rhex($g + 3; 16))"; null;
      [{type: "InternalIP", address: $ip}, {type: "ExternalIP", address: $ext}, {type: "InternalDNS", address: $n},
       {type: "Hostname", address: $n}, {type: "ExternalDNS", address: "ec2-\($ext | gsub("\\."; "-")).compute-1.amazonaws.com"}];
      "Amazon Linux 2"; "5.10.209-198.858.amzn2.x86_64"; "containerd://1.7.11"; "v1.28.5-eks-5e0fdde";
      cap("2"; "7910348Ki"; "29"; "20959212Ki"); cap("1930m"; "7220172Ki"; "29"; "18242267924"));

def aks($g): "aks-nodepool1-12345678-vmss\($g | b36 | lpad(6))" as $n
  | ip(10; 224; 0; 4; $g) as $ip
  | node($g; $n;
      common($n) + {"agentpool": "nodepool1", "kubernetes.azure.com/agentpool": "nodepool1",
        "kubernetes.azure.com/cluster": "MC_kreg-rg_kreg-aks_eastus", "kubernetes.azure.com/mode": "system",
        "kubernetes.azure.com/node-image-version": "AKSUbuntu-2204gen2containerd-202402.07.0",
        "kubernetes.azure.com/nodepool-type": "VirtualMachineScaleSets", "kubernetes.azure.com/os-sku": "Ubuntu",
        "kubernetes.azure.com/role": "agent", "kubernetes.azure.com/storageprofile": "managed",
        "kubernetes.azure.com/storagetier": "Premium_LRS", "kubernetes.io/role": "agent", "node-role.kubernetes.io/agent": "",
        "node.kubernetes.io/instance-type": "Standard_DS2_v2", "beta.kubernetes.io/instance-type": "Standard_DS2_v2",
        "topology.kubernetes.io/region": "eastus", "topology.kubernetes.io/zone": "0",
        "failure-domain.beta.kubernetes.io/region": "eastus", "failure-domain.beta.kubernetes.io/zone": "0",
        "storageprofile": "managed", "storagetier": "Premium_LRS", "topology.disk.csi.azure.com/zone": ""};
      {"csi.volume.kubernetes.io/nodeid": "{\"disk.csi.azure.com\":\"\($n)\",\"file.csi.azure.com\":\"\($n)\"}"} + kubelet_annotations;
      [];
      "azure:///subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/mc_kreg-rg_kreg-aks_eastus/providers/Microsoft.Compute/virtualMachineScaleSets/aks-nodepool1-12345678-vmss/virtualMachines/\($g)";
      small_cidr("10.244"; $g); internal($ip; $n);
      "Ubuntu 22.04.4 LTS"; "5.15.0-1057-azure"; "containerd://1.7.7-1"; "v1.28.5";
      cap("2"; "7097684Ki"; "110"; "129886128Ki"); cap("1900m"; "4652372Ki"; "110"; "119703055367"));

def gke($g): "gke-kreg-default-pool-1a2b3c4d-\($g | b36 | lpad(4))" as $n
  | ip(10; 128; 0; 2; $g) as $ip | "198.51.100.\($g % 250 + 1)" as $ext
  | node($g; $n;
      common($n) + {"cloud.google.com/gke-boot-disk": "pd-balanced", "cloud.google.com/gke-container-runtime": "containerd",
        "cloud.google.com/gke-cpu-scaling-level": "2", "cloud.google.com/gke-logging-variant": "DEFAULT",
        "cloud.google.com/gke-max-pods-per-node": "110", "cloud.google.com/gke-nodepool": "default-pool",
        "cloud.google.com/gke-os-distribution": "cos", "cloud.google.com/gke-provisioning": "standard",
        "cloud.google.com/gke-stack-type": "IPV4", "cloud.google.com/machine-family": "e2",
        "cloud.google.com/private-node": "false", "node.kubernetes.io/instance-type": "e2-medium",
        "beta.kubernetes.io/instance-type": "e2-medium", "topology.gke.io/zone": "us-central1-a",
        "topology.kubernetes.io/region": "us-central1", "topology.kubernetes.io/zone": "us-central1-a",
        "failure-domain.beta.kubernetes.io/region": "us-central1", "failure-domain.beta.kubernetes.io/zone": "us-central1-a"};
      {"container.googleapis.com/instance_id": "\(1000000000000000000 + $g * 7919)"} + kubelet_annotations;
      []; "gce://kreg-project/us-central1-a/\($n)"; small_cidr("10.8"; $g);
      [{type: "InternalIP", address: $ip}, {type: "ExternalIP", address: $ext}, {type: "Hostname", address: $n}];
      "Container-Optimized OS from Google"; "6.1.58+"; "containerd://1.7.10"; "v1.28.3-gke.1203001";
      cap("2"; "4025876Ki"; "110"; "98831908Ki"); cap("940m"; "2880020Ki"; "110"; "47060071478"));

def kubeadm($g): (if $g == 0 then "k8s-cp-1" else "k8s-worker-\($g)" end) as $n
  | ip(192; 168; 56; 10; $g) as $ip
  | node($g; $n; common($n) + (if $g == 0 then cp_labels else {} end);
      {"kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock"} + kubelet_annotations;
      (if $g == 0 then cp_taint else [] end); null; small_cidr("10.244"; $g); internal($ip; $n);
      "Ubuntu 22.04.4 LTS"; "5.15.0-97-generic"; "containerd://1.6.28"; "v1.29.2";
      cap("4"; "8140044Ki"; "110"; "61611820Ki"); cap("4"; "8037644Ki"; "110"; "56781765235"));

range($offset; $offset + $count)
| if $flavor == "kind" then kind(.)
  elif $flavor == "k3s" then k3s(.)
  elif $flavor == "k3d" then k3d(.)
  elif $flavor == "minikube" then minikube(.)
  elif $flavor == "eks" then eks(.)
  elif $flavor == "aks" then aks(.)
  elif $flavor == "gke" then gke(.)
  elif $flavor == "kubeadm" then kubeadm(.)
  else error("unknown flavor \($flavor)") end
